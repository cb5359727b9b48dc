/**
 * T22 — a server whose handling takes 80–200 ms (a slow `authorize`, on every request) leaves an
 * accurate client's stamps within the stated bound of the wall clock. The client's offset comes from
 * four timestamps per answer (SPEC.md, "Clock offset"): the handling drops out, and what is left is
 * half the network round trip of the best sample, split unevenly at worst. Bound: (max up + max down)
 * / 2 of the link. On virtual time, so no real-time accuracy is asserted; the client's clock is the
 * server's (skew 0), so every ms a stamp is off is the estimator's error.
 *
 * Before the four timestamps, the offset was `serverTime − (t3 − rtt / 2)` with `serverTime` taken
 * after the work: a P ms handling left the client P/2 fast (40–100 ms here).
 */
import { parseStamp } from '@lastword/core'
import { expect, it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { Cluster } from '../../src/cluster.js'
import { openSqlite } from '../../src/databases.js'
import { PERFECT, type LinkFaults } from '../../src/fault-network.js'
import { createRng, scaledTimeout } from '../../src/random.js'

const link = (up: [number, number], down: [number, number]): LinkFaults => ({
  ...PERFECT,
  up: { drop: 0, duplicate: 0, delayMs: up, fifo: true },
  down: { drop: 0, duplicate: 0, delayMs: down, fifo: true },
})

const PATHS: Array<{ label: string; faults: LinkFaults; boundMs: number }> = [
  { label: 'even paths 1–5 ms', faults: link([1, 5], [1, 5]), boundMs: 5 },
  { label: 'uneven paths: up 1–5 ms, down 20–40 ms', faults: link([1, 5], [20, 40]), boundMs: 22.5 },
]

for (const path of PATHS) {
  it(`T22 (${path.label}): server handling 80–200 ms, stamps within ${path.boundMs} ms of the wall clock`, async () => {
    const result = await runCampaign({ row: `T22-${path.boundMs}`, ciCount: 10 }, async (seed) => {
      const slow = createRng(seed ^ 0x5eed)
      const cluster = await Cluster.start({
        label: 'T22',
        seed,
        openDatabase: async () => openSqlite(),
        faults: path.faults,
        // Every request asks `authorize` (its read scope at least): each answer takes 80–200 ms of server time.
        authorize: async () => {
          await new Promise((resolve) => setTimeout(resolve, slow.between(80, 200)))
          return true
        },
      })
      const violations: Array<{ invariant: string; message: string }> = []
      try {
        const c = cluster.addClient()
        cluster.subscribe(c, 0)
        await cluster.vt.runFor(2_000)
        const errors: number[] = []
        for (let i = 0; i < 12; i++) {
          await cluster.vt.runFor(slow.between(50, 700))
          const before = cluster.vt.now()
          const uid = await cluster.vt.await(c.items.create({ list: 'a', title: `t${i}`, done: false, n: i }))
          const after = cluster.vt.now()
          const record = await cluster.vt.await(c.items.record(uid))
          const ms = parseStamp(record!.created_at).ms
          const error = ms < before ? ms - before : ms > after ? ms - after : 0
          errors.push(error)
          if (Math.abs(error) > path.boundMs) violations.push({ invariant: 'T22', message: `seed ${seed}: stamp ${i} is ${error} ms off the wall clock (bound ${path.boundMs} ms)` })
        }
        await cluster.vt.runFor(2_000)
        violations.push(...(await cluster.heal()), ...(await cluster.check()))
        return { violations, summary: `errors ${errors.join(',')}` }
      } finally {
        await cluster.close()
      }
    })
    expect(result.failedRuns).toBe(0)
  }, scaledTimeout(300_000))
}
