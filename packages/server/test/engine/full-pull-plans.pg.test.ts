/**
 * A full-reconciliation page on PostgreSQL can reach the app's rows through the app's `uid` primary key.
 * `lastword_meta.uid` is in the "C" collation and the app's key in the database default: compared as
 * they were, the key's index could not serve the join, and every page hashed the whole app table — a
 * full reconciliation grew as the square of the table (found by the benchmarks in bench/).
 */
import { describe, expect, it } from 'vitest'
import pg from 'pg'
import type { SyncPage } from '@lastword/core'
import { PG_URL, pgHarness, requirePostgres } from '../fixtures/db.js'
import { live, principal, request, stamp, todo, tomb } from './helpers.js'
import { tenantEngine } from './tenant-engine.js'

const available = await requirePostgres()

describe.skipIf(!available)('full reconciliation on postgres: query plans', () => {
  const fx = tenantEngine(() => pgHarness(4).open())
  const A = principal('alice', 'A')

  it('joins each page to the app rows by their primary key and reads lastword_meta by its own', async () => {
    const uid = (i: number): string => `u${String(i).padStart(3, '0')}`
    await fx.engine.sync(A, request('todos', { push: Array.from({ length: 30 }, (_, i) => live(uid(i), stamp(1), todo({ title: uid(i) }))) }))
    await fx.engine.sync(A, request('todos', { push: Array.from({ length: 10 }, (_, i) => tomb(uid(i * 3), stamp(2), stamp(1))) }))
    // Acknowledged at a point of this database's history: the ten unknown uids answer purged (R12).
    const at = await fx.engine.currentPoint()
    const entries = Array.from({ length: 40 }, (_, i) => [uid(i), stamp(1), false, true, at] as [string, string, boolean, boolean, string | null])

    // Every statement of the reconciliation that reads lastword_meta, with its parameters.
    const seen: Array<{ text: string; values: unknown[] }> = []
    // Patched where every client's query is sent, whatever wraps `query` above it (the engine's counting).
    const Query = pg.Query as unknown as { prototype: { submit: (...args: unknown[]) => unknown; text?: unknown; values?: unknown[] } }
    const submit = Query.prototype.submit
    Query.prototype.submit = function (this: { text?: unknown; values?: unknown[] }, ...args: unknown[]) {
      if (typeof this.text === 'string' && this.text.includes('FROM lastword_meta m')) seen.push({ text: this.text, values: this.values ?? [] })
      return submit.apply(this, args)
    }
    const pages: SyncPage[] = []
    try {
      let cursor: SyncPage['cursor'] = null
      for (;;) {
        const after = cursor?.after ?? null
        const remaining = entries.filter(([u]) => after === null || u > after)
        const sent = remaining.slice(0, 12)
        const page = await fx.engine.sync(A, request('todos', { pageSize: 5, full: { cursor, entries: sent, complete: sent.length === remaining.length } }))
        pages.push(page)
        if (!page.hasMore) break
        cursor = page.cursor
      }
    } finally {
      Query.prototype.submit = submit
    }
    expect(pages.length).toBeGreaterThan(2)
    expect(pages.flatMap((p) => p.tombstones.map(([u]) => u))).toEqual(Array.from({ length: 10 }, (_, i) => uid(i * 3)))
    expect(pages.flatMap((p) => p.purged)).toEqual(Array.from({ length: 10 }, (_, i) => uid(30 + i)))

    // The plans with sequential scans priced out: what the indexes can serve (a table this small is
    // otherwise read whole, rightly). The join must be an index lookup on the app's key, with its condition.
    const schema = String((await fx.t.raw('SELECT current_schema() AS s'))[0]?.['s'])
    const side = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema} -c enable_seqscan=off` })
    await side.connect()
    try {
      // The page reads in uid order; the lookup of the client's other uids joins the app rows too (to
      // tell whether the principal may read them, I13) but reads no order.
      const pageStatements = seen.filter((s) => s.text.includes('ORDER BY m.uid'))
      const lookups = seen.filter((s) => !s.text.includes('ORDER BY m.uid'))
      expect(pageStatements.length).toBe(pages.length)
      expect(lookups.length).toBeGreaterThan(0)
      // The first page's count (engine/progress-total.ts) reads the scope's whole range once, by whichever
      // index the planner prefers; the pages and lookups are what must stay on the primary key.
      for (const { text, values } of seen.filter((s) => !s.text.includes('lw_total'))) {
        const plan = (await side.query(`EXPLAIN ${text}`, values)).rows.map((r: Record<string, unknown>) => String(r['QUERY PLAN'])).join('\n')
        expect(plan, text).toMatch(/lastword_meta_pkey/)
        if (text.includes('JOIN')) expect(plan, text).toMatch(/Index Scan using todos_pkey on todos[^\n]*\n\s*Index Cond: \(uid = /)
      }
    } finally {
      await side.end()
    }
  })
})
