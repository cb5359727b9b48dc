/**
 * D07 — PostgreSQL backends terminated mid-push (`pg_terminate_backend` on the engine's connections
 * while a push's transaction is open, after its rows and version row are written, before COMMIT): each
 * push is either committed and acknowledged, or not acknowledged and retried — nothing acknowledged is
 * lost (I2), nothing is applied twice (I5), everything converges (I1, I3, I9). Three clients on the
 * fault network (clean links), real PostgreSQL. It found B5 (an uncaught ECONNRESET from a checked-out
 * pool client, which would end a server process); fixed — an unhandled error fails this test again.
 */
import pg from 'pg'
import { afterAll, beforeAll, it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { Cluster } from '../../src/cluster.js'
import type { Violation } from '../../src/checkers.js'
import { PG_URL, pgSchema, requirePostgres, trackPostgresIo, type PgSchema } from '../../src/databases.js'
import { createRng, scaledTimeout } from '../../src/random.js'

const available = await requirePostgres('D07')
const APP = `lw_d07_${process.pid}`
let schema: PgSchema
let admin: pg.Client
beforeAll(async () => {
  trackPostgresIo()
  schema = pgSchema('d07')
  if (!available) return
  admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
})
afterAll(async () => {
  await admin?.end()
  await schema?.drop()
})

it.skipIf(!available)('D07: PostgreSQL backends terminated mid-push: committed and acknowledged, or retried (I2, I5, I1)', async () => {
  await runCampaign({ row: 'D07', ciCount: Number(process.env.LW_D07_RUNS ?? 10) }, async (seed) => {
    const rng = createRng(seed ^ 0x5eed)
    let terminated = 0
    const cluster = await Cluster.start({
      label: 'D07',
      seed,
      // No error listener on the pool's clients: the engine must add its own (B5, fixed).
      openDatabase: () => schema.open(6, APP),
      hooks: {
        async afterVersionRow() {
          if (!rng.chance(0.3)) return
          terminated++
          await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`, [APP])
        },
      },
    })
    try {
      const clients = [cluster.addClient(), cluster.addClient(), cluster.addClient()]
      for (const c of clients) cluster.subscribe(c, rng.int(8))
      await cluster.vt.runFor(500)
      for (let i = 0; i < 30; i++) {
        const c = rng.pick(clients)
        if (rng.chance(0.5)) await cluster.vt.await(cluster.create(c))
        else await cluster.vt.await(cluster.update(c))
        await cluster.vt.runFor(rng.between(0, 150))
      }
      const violations: Violation[] = [...(await cluster.heal(120_000)), ...(await cluster.check())]
      return { violations, summary: `${terminated} backends terminated; ${cluster.history.summary()}` }
    } finally {
      await cluster.close()
    }
  })
}, scaledTimeout(600_000))
