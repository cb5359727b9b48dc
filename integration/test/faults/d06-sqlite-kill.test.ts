/**
 * D06 — a SQLite server SIGKILLed from outside every 2–10 s while 5 clients write, restarted on the same
 * file each time: afterwards every acknowledged write is present (I2) and `PRAGMA integrity_check` is ok
 * after every crash; everything converges (I1, I3, I9). CI runs 10 cycles (the matrix's 100 are the
 * nightly count: `RUNS_REAL=10`).
 */
import { it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { runCrashCampaign } from '../../src/crash-campaign.js'
import { tempDir } from '../../src/databases.js'
import { crashRuns, scaledTimeout } from '../../src/random.js'

it('D06: SQLite server SIGKILLed every 2–10 s under 5 writing clients: acknowledged writes kept, integrity ok', async () => {
  const cycles = crashRuns(Number(process.env.LW_D06_CYCLES ?? 10))
  await runCampaign({ row: 'D06', ciCount: 1 }, async (seed) => {
    const dir = tempDir('lw-d06-')
    try {
      const result = await runCrashCampaign({ dialect: 'sqlite', seed, dir: dir.dir, cycles, killEveryMs: [2_000, 10_000], clients: 5, writeEveryMs: 50, log: (l) => console.log(`[D06] ${l}`) })
      return { violations: result.violations, summary: result.summary }
    } finally {
      dir.remove()
    }
  })
}, scaledTimeout(1_800_000))
