/**
 * Row S13, attack 3 (SQLite): scope-overlap checks over costly `in` lists must not stall other tenants.
 * Several syncs of one tenant, each filtering on `in` 1,000 values of 1 KB (within every limit), queue
 * on the overlap lock; each is checked against the holder on acquire and on every grant. A bystander
 * tenant's trivial sync must still be answered within 5 s (a liveness bound, not a speed target).
 * `authorize` answers asynchronously, as an app reading its own database does.
 */
import { afterEach, beforeEach, describe, it } from 'vitest'
import { sqliteHarness, type TestDb } from '../fixtures/db.js'
import { costlyOverlapAttack } from './scope-cost-fixture.js'

describe('S13 costly `in` overlap (SQLite)', () => {
  let t: TestDb
  beforeEach(async () => {
    t = await sqliteHarness.open()
  })
  afterEach(async () => {
    await t.close()
  })

  it("a bystander's trivial sync is answered while overlapping costly scopes queue on the lock", async () => {
    await costlyOverlapAttack(t)
  }, 60_000)
})
