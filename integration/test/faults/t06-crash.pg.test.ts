/**
 * T06 on PostgreSQL — the server process SIGKILLed inside a push before COMMIT (its backend's open
 * transaction is rolled back when the connection drops), after COMMIT before the acknowledgement, and
 * between pages; restarted on the same schema (src/crash-campaign.ts).
 */
import { afterAll, it } from 'vitest'
import pg from 'pg'
import { runCampaign } from '../../src/campaign.js'
import { runCrashCampaign, type CrashPoint } from '../../src/crash-campaign.js'
import { PG_URL, requirePostgres, tempDir } from '../../src/databases.js'
import { crashRuns, scaledTimeout } from '../../src/random.js'

const POINTS: readonly CrashPoint[] = ['in-push', 'after-commit', 'between-pages']
const available = await requirePostgres('T06-P')
const schemas: string[] = []
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
afterAll(async () => {
  for (const s of schemas) await admin(`DROP SCHEMA IF EXISTS ${s} CASCADE`)
})

it.skipIf(!available)('T06 (PostgreSQL): SIGKILL inside a push, after commit, between pages; restart on the same schema', async () => {
  const perPoint = crashRuns(Number(process.env.LW_T06_PER_POINT ?? 2))
  await runCampaign({ row: 'T06-P', ciCount: 1 }, async (seed) => {
    const schema = `lw_t06_${process.pid}_${seed}`
    schemas.push(schema)
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`)
    const dir = tempDir('lw-t06p-')
    try {
      const points = Array.from({ length: perPoint }, () => POINTS).flat()
      const result = await runCrashCampaign({ dialect: 'postgres', pgSchema: schema, seed, dir: dir.dir, points, clients: 3, writeEveryMs: 40, log: (l) => console.log(`[T06-P] ${l}`) })
      return { violations: result.violations, summary: result.summary }
    } finally {
      dir.remove()
    }
  })
}, scaledTimeout(900_000))
