/**
 * A full-reconciliation page on SQLite costs its own size, not the table's: its reads of lastword_meta
 * go by primary key over the page's uid range. The lookup of the client's other uids used to walk the
 * `(tbl, rev)` index over every record of the table (`rev > 0` drew the planner to it), so a full
 * reconciliation grew as the square of the table (found by the benchmarks in bench/).
 */
import { describe, expect, it } from 'vitest'
import type { SyncPage } from '@lastword/core'
import { sqliteHarness } from '../fixtures/db.js'
import { live, principal, request, stamp, todo, tomb } from './helpers.js'
import { tenantEngine } from './tenant-engine.js'

describe('full reconciliation on better-sqlite3: query plans', () => {
  const fx = tenantEngine(() => sqliteHarness.open())
  const A = principal('alice', 'A')

  it('reads each page and looks up the client uids by primary key, never through the (tbl, rev) index', async () => {
    const uid = (i: number): string => `u${String(i).padStart(3, '0')}`
    await fx.engine.sync(A, request('todos', { push: Array.from({ length: 30 }, (_, i) => live(uid(i), stamp(1), todo({ title: uid(i) }))) }))
    // Tombstones and uids the server never saw: the lookup of the client's other uids has work to do.
    await fx.engine.sync(A, request('todos', { push: Array.from({ length: 10 }, (_, i) => tomb(uid(i * 3), stamp(2), stamp(1))) }))
    // Acknowledged at a point of this database's history: the ten unknown uids answer purged (R12).
    const at = await fx.engine.currentPoint()
    const entries = Array.from({ length: 40 }, (_, i) => [uid(i), stamp(1), false, true, at] as [string, string, boolean, boolean, string | null])

    const client = (fx.t.db as unknown as { $client: { prepare: (...args: unknown[]) => unknown } }).$client
    const prepare = client.prepare
    const seen: string[] = []
    client.prepare = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'string' && args[0].includes('FROM lastword_meta m')) seen.push(args[0])
      return prepare.apply(this, args)
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
      client.prepare = prepare
    }
    expect(pages.length).toBeGreaterThan(2)
    expect(pages.flatMap((p) => p.tombstones.map(([u]) => u))).toEqual(Array.from({ length: 10 }, (_, i) => uid(i * 3)))
    expect(pages.flatMap((p) => p.purged)).toEqual(Array.from({ length: 10 }, (_, i) => uid(30 + i)))
    const statements = [...new Set(seen)]
    expect(statements.some((s) => s.includes('json_each'))).toBe(true)
    for (const text of statements) {
      const params = Array.from({ length: (text.match(/\?/g) ?? []).length }, () => '[]')
      const plan = (await fx.t.raw(`EXPLAIN QUERY PLAN ${text}`, params)).map((row) => String(row['detail'])).join(' | ')
      expect(plan, text).toContain('PRIMARY KEY')
      expect(plan, text).not.toContain('lastword_meta_rev')
    }
  })
})
