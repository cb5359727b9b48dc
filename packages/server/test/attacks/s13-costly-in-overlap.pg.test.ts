/**
 * Row S13, attack 3 (PostgreSQL twin of s13-costly-in-overlap.test.ts): scope-overlap checks over costly
 * `in` lists (1,000 values of 1 KB) of one tenant's queued syncs must not stall another tenant: its
 * trivial sync is answered within 5 s while the attack runs.
 */
import { afterEach, beforeEach, describe, it } from 'vitest'
import { pgHarness, requirePostgres, type TestDb } from '../fixtures/db.js'
import { costlyOverlapAttack } from './scope-cost-fixture.js'

const available = await requirePostgres()

describe.skipIf(!available)('S13 costly `in` overlap (PostgreSQL)', () => {
  const harness = pgHarness()
  let t: TestDb
  beforeEach(async () => {
    t = await harness.open()
  })
  afterEach(async () => {
    await t.close()
  })

  it("a bystander's trivial sync is answered while overlapping costly scopes queue on the lock", async () => {
    await costlyOverlapAttack(t)
  }, 60_000)
})
