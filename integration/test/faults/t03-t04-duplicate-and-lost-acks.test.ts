/**
 * T03 — every push delivered 1–3 times, the copies interleaved with other requests (I5: the server ends
 * as after one delivery — one logged change per accepted version — and I3).
 * T04 — acknowledgements lost: the push commits, its answer never arrives, the client times out and
 * sends it again (I2: nothing acknowledged or completed is lost; I5: the resend changes nothing).
 * End to end through the fault network, 2–3 clients each; the engine-level forms are in
 * packages/server/test/engine/suite.ts.
 */
import { describe, it } from 'vitest'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenarioCampaign } from '../../src/scenario.js'

describe('duplicate delivery and lost acknowledgements', () => {
  it('T03: pushes delivered 1–3 times, interleaved, leave the state of one delivery (I5, I3)', async () => {
    await runScenarioCampaign(
      { row: 'T03', ciCount: 100 },
      {
        openDatabase: async () => openSqlite(),
        clients: [2, 3],
        durationMs: 3_000,
        writesPerSecond: 6,
        faults: () => ({ ...PERFECT, up: { drop: 0, duplicate: 0.6, delayMs: [0, 300] } }),
        maxScopesPerClient: 2,
        sampleEveryMs: 500,
      },
    )
  }, scaledTimeout(600_000))

  it('T04: acknowledgements lost after commit; the client resends; nothing lost, nothing applied twice (I2, I5)', async () => {
    await runScenarioCampaign(
      { row: 'T04', ciCount: 100 },
      {
        openDatabase: async () => openSqlite(),
        clients: [2, 3],
        durationMs: 3_000,
        writesPerSecond: 6,
        faults: () => ({ ...PERFECT, down: { drop: 0.35, duplicate: 0, delayMs: [1, 50], fifo: true } }),
        maxScopesPerClient: 2,
        sampleEveryMs: 500,
        client: { requestTimeoutMs: 2_000 },
      },
    )
  }, scaledTimeout(600_000))
})
