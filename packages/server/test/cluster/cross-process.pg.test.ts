/**
 * Writers in different processes on one PostgreSQL (traps 1 and 6 of docs/guarantees.md, across nodes): three
 * child processes push concurrently while this process pulls incrementally in a loop. Revs stay dense
 * and unique (the version row serialises writers across connections and processes), and the puller —
 * which stores each page's checkpoint as a client would — never skips a commit that landed late.
 * RUNS (default 3) rounds.
 */
import { fork } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import { PG_URL, pgHarness, requirePostgres, type TestDb } from '../fixtures/db.js'
import { Replica, principal } from '../engine/helpers.js'

const available = await requirePostgres()
const RUNS = Math.max(1, Number(process.env['RUNS'] ?? 3))
const here = dirname(fileURLToPath(import.meta.url))

interface Writer {
  /** Runs one round; resolves when the writer has pushed it all. */
  round(r: number): Promise<void>
  stop(): void
}

async function spawnWriter(schema: string, id: number, syncs: number, batch: number): Promise<Writer> {
  const child = fork(join(here, 'writer.ts'), [], {
    cwd: resolve(here, '..', '..'),
    execArgv: ['--conditions=@lastword/source', '--import', 'tsx'],
    env: { ...process.env, PG_URL, LW_SCHEMA: schema, LW_WRITER: String(id), LW_SYNCS: String(syncs), LW_BATCH: String(batch) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const waiting = new Map<string, () => void>()
  child.on('message', (m) => {
    const message = m as { type: string; round?: number }
    waiting.get(`${message.type}:${message.round ?? ''}`)?.()
  })
  const exited = new Promise<never>((_, fail) => child.on('exit', (code) => fail(new Error(`writer ${id} exited with ${code}:\n${stderr}`))))
  exited.catch(() => undefined)
  const next = (key: string) => Promise.race([new Promise<void>((done) => waiting.set(key, done)), exited])
  await next('ready:')
  return {
    round(r) {
      const done = next(`done:${r}`)
      child.send({ type: 'go', round: r })
      return done
    },
    stop: () => child.kill('SIGKILL'),
  }
}

describe.skipIf(!available)('writers in several processes on one PostgreSQL', () => {
  let t: TestDb
  let engine: Engine
  beforeEach(async () => {
    t = await pgHarness(4).open()
    engine = createEngine({ db: t.db, tables: { todos: { table: t.todos, serverColumns: { tenant: () => 'A' } } } })
    await engine.migrate()
  })
  afterEach(async () => {
    await engine.close()
    await t.close()
  })

  it('keeps revs dense, unique and in commit order; an incremental puller misses nothing', async () => {
    const schema = String((await t.raw('SELECT current_schema() AS s'))[0]?.['s'])
    const writers = 3
    const syncs = 40
    const batch = 3
    let total = 0
    const procs = await Promise.all(Array.from({ length: writers }, (_, i) => spawnWriter(schema, i, syncs, batch)))
    try {
      for (let run = 0; run < RUNS; run++) {
        const replica = new Replica(engine, principal('reader', 'A'), 'todos')
        await replica.full()
        let running = true
        const children = Promise.all(procs.map((w) => w.round(run))).finally(() => {
          running = false
        })
        let pulls = 0
        while (running) {
          await replica.pull()
          pulls++
        }
        await children
        await replica.pull()
        total += writers * syncs * batch
        const expected = Array.from({ length: writers }, (_, i) =>
          Array.from({ length: syncs }, (_, s) => Array.from({ length: batch }, (_, k) => `w${run}_${i}-${s}-${k}`)),
        ).flat(2)
        // Everything arrived through checkpointed incremental pulls taken while the writers committed.
        expect([...replica.records.keys()].filter((uid) => uid.startsWith(`w${run}_`)).sort()).toEqual([...expected].sort())
        const [log] = await t.raw('SELECT count(*)::int AS n, count(DISTINCT rev)::int AS d, min(rev)::int AS lo, max(rev)::int AS hi FROM lastword_changes')
        expect(log).toEqual({ n: total, d: total, lo: 1, hi: total })
        expect(Number((await t.raw('SELECT rev FROM lastword_state'))[0]?.['rev'])).toBe(total)
        // One push is one transaction: its records have consecutive revs.
        const bySync = await t.raw(`SELECT substring(uid from '^(w[0-9]+_[0-9]+-[0-9]+)-') AS s, max(rev) - min(rev) AS spread FROM lastword_changes GROUP BY 1`)
        expect(bySync.every((r) => Number(r['spread']) === batch - 1)).toBe(true)
        expect(pulls).toBeGreaterThan(1)
      }
    } finally {
      for (const w of procs) w.stop()
    }
  })
})
