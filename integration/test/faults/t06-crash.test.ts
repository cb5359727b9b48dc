/**
 * T06 on better-sqlite3 — the server in a child process is SIGKILLed inside a push before COMMIT, after
 * COMMIT before the acknowledgement, and between two pages, and restarted on the same database while
 * three clients keep writing: I10 at each crash, then I2, I1, I3 and I9 (src/crash-campaign.ts).
 */
import { it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { runCrashCampaign, type CrashPoint } from '../../src/crash-campaign.js'
import { tempDir } from '../../src/databases.js'
import { crashRuns, scaledTimeout } from '../../src/random.js'

const POINTS: readonly CrashPoint[] = ['in-push', 'after-commit', 'between-pages']

it('T06 (SQLite): SIGKILL inside a push, after commit, between pages; restart on the same database', async () => {
  const perPoint = crashRuns(Number(process.env.LW_T06_PER_POINT ?? 2))
  await runCampaign({ row: 'T06-S', ciCount: 1 }, async (seed) => {
    const dir = tempDir('lw-t06-')
    try {
      const points = Array.from({ length: perPoint }, () => POINTS).flat()
      const result = await runCrashCampaign({ dialect: 'sqlite', seed, dir: dir.dir, points, clients: 3, writeEveryMs: 40, log: (l) => console.log(`[T06-S] ${l}`) })
      return { violations: result.violations, summary: result.summary }
    } finally {
      dir.remove()
    }
  })
}, scaledTimeout(900_000))
