/**
 * Field merge against row merge (core's SPEC.md section 3a), reported, never asserted: the engine on
 * better-sqlite3 (a temp file, WAL, synchronous=FULL), the benchmark's `items` table declared once
 * `merge: 'row'` and once `merge: 'field'`, the same records.
 *
 * - push, create: N records pushed in requests of 500 (a field table's push carries every column's stamp);
 * - push, edit one column: N records, one column each (a field table's push carries that column alone);
 * - initial sync: a client with nothing pulls the table in full-reconciliation pages of 1,000 (a field
 *   table's rows carry their column stamps); the bytes are the pages' JSON.
 *
 * `node --conditions=@lastword/source --import tsx src/field-merge.ts [N] [repetitions]` from `bench/`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { formatStamp, type SyncPage, type SyncRequest, type WireRecord } from '@lastword/core'
import { createEngine } from '@lastword/server/testing'
import { CREATE_SQLITE, itemsSqlite } from './systems/lastword-schema.js'

const N = Number(process.argv[2] ?? 10_000)
const REPS = Number(process.argv[3] ?? 3)
const BATCH = 500
const COLUMNS = ['title', 'body', 'priority', 'done', 'tag'] as const
const ctx = { principal: { id: 'bench' } }
const T0 = Date.UTC(2024, 0, 1)
const stamp = (ms: number, node = 'aaaaaaaaaaaaaaaa') => formatStamp({ ms: T0 + ms, counter: 0, node })

interface Figures {
  create: number
  edit: number
  initial: number
  initialBytes: number
}

async function once(merge: 'row' | 'field'): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-fieldbench-'))
  const sqlite = new Database(join(dir, 'bench.db'))
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.exec(CREATE_SQLITE)
  const engine = createEngine({ db: drizzle(sqlite), tables: { items: { table: itemsSqlite, merge } }, now: () => T0 + 3_600_000 })
  await engine.migrate()
  try {
    const uids = Array.from({ length: N }, (_, i) => `item-${String(i).padStart(7, '0')}`)
    const push = async (records: WireRecord[]): Promise<number> => {
      const start = performance.now()
      for (let i = 0; i < records.length; i += BATCH) {
        // Without a checkpoint a push rides on a full-reconciliation request; a page of one row keeps its pull small.
        const request: SyncRequest = { table: 'items', where: {}, checkpoint: null, push: records.slice(i, i + BATCH), full: { cursor: null, entries: [], complete: true }, pageSize: 1 }
        await engine.sync(ctx, request)
      }
      return performance.now() - start
    }
    const created = uids.map((uid, i): WireRecord => {
      const s = stamp(1 + (i % 1000))
      const row = { title: `title ${i}`, body: `body of item ${i} `.repeat(4), priority: i % 5, done: false, tag: `tag${i % 10}` }
      return merge === 'field'
        ? { uid, created_at: s, updated_at: s, deleted_at: null, row, fields: Object.fromEntries(COLUMNS.map((c) => [c, s])) }
        : { uid, created_at: s, updated_at: s, deleted_at: null, row }
    })
    const create = await push(created)
    const edited = created.map((r, i): WireRecord => {
      const s = stamp(2_000 + (i % 1000), 'bbbbbbbbbbbbbbbb')
      return merge === 'field'
        ? { uid: r.uid, created_at: r.created_at, updated_at: s, deleted_at: null, row: { done: true }, fields: { done: s } }
        : { uid: r.uid, created_at: r.created_at, updated_at: s, deleted_at: null, row: { ...(r.row ?? {}), done: true } }
    })
    const edit = await push(edited)
    const start = performance.now()
    let cursor: SyncPage['cursor'] = null
    let bytes = 0
    for (;;) {
      const page: SyncPage = await engine.sync(ctx, { table: 'items', where: {}, checkpoint: null, push: [], full: { cursor, entries: [], complete: true }, pageSize: 1_000 })
      bytes += JSON.stringify(page).length
      if (!page.hasMore) break
      cursor = page.cursor
    }
    return { create, edit, initial: performance.now() - start, initialBytes: bytes }
  } finally {
    await engine.close()
    sqlite.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const results: Record<'row' | 'field', Figures[]> = { row: [], field: [] }
for (let r = 0; r < REPS; r++) for (const merge of ['row', 'field'] as const) results[merge].push(await once(merge))
const row = (name: string, pick: (f: Figures) => number, unit: string) => {
  const a = median(results.row.map(pick))
  const b = median(results.field.map(pick))
  return `| ${name} | ${a.toFixed(0)} ${unit} | ${b.toFixed(0)} ${unit} | ${((b / a - 1) * 100).toFixed(0)} % |`
}
console.log(`Field vs row merge, better-sqlite3, N = ${N}, median of ${REPS} (reported, not gated)\n`)
console.log('| figure | merge: row | merge: field | field vs row |\n|---|---|---|---|')
console.log(row(`push, create ${N} (requests of ${BATCH})`, (f) => f.create, 'ms'))
console.log(row(`push, edit one column of ${N}`, (f) => f.edit, 'ms'))
console.log(row(`initial sync of ${N} (pages of 1,000)`, (f) => f.initial, 'ms'))
console.log(row('initial sync, page bytes (JSON)', (f) => f.initialBytes / 1024, 'KB'))
