// B13 (T02 seed 1084121842): a scope's first full reconciliation listed the client's records, and
// while its answer was awaited the page of an overlapping scope (read at an older rev) stored a record
// in that range. The reconciliation's plan never saw it; the server had deleted it meanwhile, so the
// answer said nothing of it and stored a checkpoint past the delete. Once the other scope was released,
// nothing would ever tell the client: the deleted record stayed live (I1). Overlapping scopes of a
// client now sync one at a time (trap 6), so the reconciliation lists what the other page stored.
import { describe, expect, it } from 'vitest'
import { createSyncDriver } from '../../src/sync/driver.js'
import { wireRow } from '../helpers.js'
import { createHarness, deferred, drain, get, page, query, stamp } from './fixture.js'

describe('a full reconciliation and the page of an overlapping scope (B13)', () => {
  it('lists a record the overlapping page stored, so the record deleted since goes', async () => {
    const created = stamp(1)
    const deleted = stamp(2)
    const narrow = query({ priority: 2 })
    const wide = query({ priority: { in: [1, 2] } })
    const held = deferred()
    const h = createHarness(async (request) => {
      if (request.where['priority'] === 2) {
        if (request.checkpoint === null) return page(request, { checkpoint: 'lw1.36.00000000000001' })
        // The narrow scope's pull reads rev 45, where `r` (created at rev 44) is live; its answer is slow.
        await held.promise
        return page(request, { rows: [wireRow('r', created, created, { title: 'r', done: false, priority: 2 })], checkpoint: 'lw1.45.00000000000001' })
      }
      // The wide scope is read after `r` was deleted (rev 49): the server tells only of the uids it was sent.
      const listed = request.full?.entries.some(([uid]) => uid === 'r') ?? false
      return page(request, { tombstones: listed ? [['r', created, created, deleted]] : [], checkpoint: 'lw1.49.00000000000002' })
    })
    const driver = createSyncDriver(h.deps)
    driver.acquire(narrow, 'narrow')
    driver.setConnected(true)
    await drain()
    const narrowRun = driver.syncAll()
    await drain()
    driver.acquire(wide, 'wide')
    await drain()
    held.resolve()
    await narrowRun
    await drain()
    driver.release(narrow.key, 'narrow')
    await driver.syncAll()
    await drain()

    expect(await get(h, 'r')).toMatchObject({ row: null, deleted_at: deleted, dirty: false })
    expect(h.requests.find((r) => r.full !== undefined && r.where['priority'] !== 2)?.full?.entries.map(([uid]) => uid)).toEqual(['r'])
    driver.stop()
  })
})
