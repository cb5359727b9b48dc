/**
 * Engine-level campaigns on PostgreSQL (src/engine-campaigns.ts): T12 (late commits: a push stalls
 * inside its transaction, before or after taking its rev, while another commits and a puller pulls —
 * nothing missed; 1,000 iterations) and T13 (20 concurrent pushers on the same 10 uids, real concurrent
 * transactions: 40001/40P01 retried, greatest stamp wins, nothing acknowledged lost; 100 runs).
 */
import { afterAll, describe, it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { pgSchema, requirePostgres } from '../../src/databases.js'
import { lateCommitHooks, runContention, runLateCommit, type LateCommitControl } from '../../src/engine-campaigns.js'
import { scaledCount, scaledTimeout } from '../../src/random.js'
import { createInMemoryServer } from '../../src/server-kit.js'

const available = await requirePostgres('engine campaigns (PostgreSQL)')
const schema = pgSchema('engine')
afterAll(() => schema.drop())

describe.skipIf(!available)('engine campaigns (PostgreSQL)', () => {
  it('T12: late commits — a push stalled inside its transaction is never skipped by incremental pulls (1,000 iterations)', async () => {
    const database = await schema.open(10)
    const control: LateCommitControl = { stallUid: null, point: 'before', gate: Promise.resolve(), reached: Promise.resolve(), onReach: () => undefined }
    const server = await createInMemoryServer({ database, hooks: lateCommitHooks(control) as never })
    try {
      const iterations = scaledCount(Number(process.env.LW_T12_ITERATIONS ?? 200))
      await runCampaign({ row: 'T12', ciCount: 1 }, async (seed) => {
        const state = { checkpoint: null as string | null }
        const violations = []
        for (let i = 0; i < iterations && violations.length === 0; i++) violations.push(...(await runLateCommit(server, control, seed, i, state)))
        return { violations }
      })
    } finally {
      await server.close()
    }
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
