/**
 * Engine-level campaigns on PostgreSQL (src/engine-campaigns.ts): T12 (late commits: a write stops
 * inside its transaction, before or after taking its rev, while another writes and a puller on another
 * engine pulls — nothing missed, and the window counted and asserted reached; 1,000 iterations) and T13 (20 concurrent pushers on the same 10 uids, real concurrent
 * transactions: 40001/40P01 retried, greatest stamp wins, nothing acknowledged lost; 100 runs).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { pgSchema, requirePostgres } from '../../src/databases.js'
import { createLateCommitControl, newPullerState, runContention, runLateCommit } from '../../src/engine-campaigns.js'
import { scaledTimeout } from '../../src/random.js'
import { createInMemoryServer } from '../../src/server-kit.js'

const available = await requirePostgres('engine campaigns (PostgreSQL)')
const schema = pgSchema('engine')
afterAll(() => schema.drop())

describe.skipIf(!available)('engine campaigns (PostgreSQL)', () => {
  it('T12: late commits — a puller on another engine, reading while a write holds its rev uncommitted, never misses it (1,000 iterations)', async () => {
    // Per run; `RUNS` multiplies the runs (each from known state), not the iterations.
    const iterations = Number(process.env.LW_T12_ITERATIONS ?? 200)
    const totals = { windows: 0, lateCommits: 0, iterations: 0 }
    await runCampaign({ row: 'T12', ciCount: 1 }, async (seed) => {
      // Each run from known state: the schema emptied, its version row back to 0, a new puller.
      const database = await schema.open(10)
      const control = createLateCommitControl()
      const writer = await createInMemoryServer({ database, hooks: control.hooks as never })
      const puller = await createInMemoryServer({ database })
      const state = newPullerState()
      const violations = []
      try {
        for (let i = 0; i < iterations && violations.length === 0; i++) violations.push(...(await runLateCommit(writer, puller, control, seed, i, state)))
      } finally {
        await puller.close()
        await writer.close()
      }
      totals.windows += state.windows
      totals.lateCommits += state.lateCommits
      totals.iterations += iterations
      return { violations, summary: `window reached ${state.windows}, late commits ${state.lateCommits} in ${iterations} iterations` }
    })
    console.log(`[T12] window reached ${totals.windows}, late commits ${totals.lateCommits} in ${totals.iterations} iterations`)
    // Each iteration stops A after its rev or before it, half and half: both windows are reached for real.
    expect(totals.windows).toBeGreaterThan(totals.iterations / 4)
    expect(totals.lateCommits).toBeGreaterThan(totals.iterations / 4)
  }, scaledTimeout(600_000))

  it('T13 (PostgreSQL): 20 pushers on the same 10 uids at once: greatest stamp wins, no acknowledged write lost (I2, I3)', async () => {
    const database = await schema.open(10)
    const server = await createInMemoryServer({ database })
    try {
      let round = 0
      await runCampaign({ row: 'T13-P', ciCount: Number(process.env.LW_T13_PG_RUNS ?? 30) }, async (seed) => ({ violations: await runContention(server, seed, round++) }))
    } finally {
      await server.close()
    }
  }, scaledTimeout(600_000))
})
