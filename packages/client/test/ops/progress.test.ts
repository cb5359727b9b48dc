/**
 * `progress` events of a run (sync-run.ts): the server's first-page total holds for the run, is never
 * shown below what arrived, and equals `received` on the run's last event.
 */
import { describe, expect, it } from 'vitest'
import type { SyncProgress } from '../../src/sync/types.js'
import { runSync } from '../../src/sync/sync-run.js'
import { wireRow } from '../helpers.js'
import { createHarness, page, query, stamp } from '../sync/fixture.js'

const row = (uid: string) => wireRow(uid, stamp(1), stamp(1), { title: uid, done: false })

describe('sync progress', () => {
  it('keeps the first page total for the run and ends it exact', async () => {
    const h = createHarness((request, i) => {
      if (i === 0) return page(request, { mode: 'full', rows: [row('a'), row('b')], hasMore: true, checkpoint: null, cursor: { startRev: 3, after: 'b' }, progress: { received: 2, total: 5 } })
      if (i === 1) return page(request, { mode: 'full', rows: [row('c'), row('d')], hasMore: true, checkpoint: null, cursor: { startRev: 3, after: 'd' }, progress: { received: 2, total: null } })
      return page(request, { mode: 'full', rows: [row('e')], progress: { received: 1, total: null } })
    })
    const events: SyncProgress[] = []
    h.deps.onProgress = (p) => events.push(p)
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await runSync(h.ctx, entry)
    expect(events.map((e) => [e.received, e.total])).toEqual([
      [2, 5],
      [4, 5],
      [5, 5],
    ])
  })

  it('never shows a total below what arrived (the incremental count is an estimate)', async () => {
    const h = createHarness((request, i) =>
      i === 0
        ? page(request, { rows: [row('a'), row('b')], hasMore: true, progress: { received: 3, total: 1 } })
        : page(request, { rows: [], progress: { received: 0, total: null } }),
    )
    const events: SyncProgress[] = []
    h.deps.onProgress = (p) => events.push(p)
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await runSync(h.ctx, entry)
    expect(events.map((e) => [e.received, e.total])).toEqual([
      [3, 3],
      [3, 3],
    ])
  })
})
