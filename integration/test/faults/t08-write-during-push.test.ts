/**
 * T08 (trap 5) — a local write lands between a push and its response, for the same uid: before the push
 * leaves, while it is in flight, after the server applied it but before the client applied the answer,
 * and after. Virtual time explores the interleavings: each schedule draws the network delays and the
 * moment of the second write. The answer must never overwrite the newer local write (I6: it stays, and
 * stays dirty until the server has it), and the newer write wins on the server (I2, I3).
 * CI: 10 campaign runs × 40 schedules (the matrix's 1,000 with RUNS=2.5; the soak runs 4,000).
 */
import { expect, it } from 'vitest'
import { versionOf } from '@lastword/core'
import { runCampaign } from '../../src/campaign.js'
import { Cluster } from '../../src/cluster.js'
import type { Violation } from '../../src/checkers.js'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { SCOPES } from '../../src/schema.js'

const SCHEDULES_PER_RUN = 40

it('T08: a local write between a push and its response survives it and wins (400 schedules in CI)', async () => {
  await runCampaign({ row: 'T08', ciCount: 10 }, async (seed) => {
    const cluster = await Cluster.start({ label: 'T08', seed, openDatabase: async () => openSqlite() })
    try {
      const { rng, vt } = cluster
      const a = cluster.addClient()
      const b = cluster.addClient()
      cluster.subscribe(a, SCOPES.findIndex((s) => Object.keys(s).length === 0))
      cluster.subscribe(b, SCOPES.findIndex((s) => Object.keys(s).length === 0))
      await vt.runFor(500)
      const violations: Violation[] = []
      for (let i = 0; i < SCHEDULES_PER_RUN; i++) {
        const up = rng.between(0, 120)
        const down = rng.between(0, 120)
        cluster.network.setFaults(a.name, { ...PERFECT, up: { drop: 0, duplicate: 0, delayMs: [0, up] }, down: { drop: 0, duplicate: 0, delayMs: [0, down], fifo: true } })
        const uid = (await vt.await(cluster.create(a))) as string
        await vt.runFor(rng.between(0, 300))
        await vt.await(cluster.update(a, uid)) // pushed after the debounce…
        await vt.runFor(rng.between(0, 20 + up + down + 40)) // …and somewhere around its answer:
        await vt.await(cluster.update(a, uid)) // the newer write
        const newer = cluster.history.entries.at(-1)
        for (let k = 0; k < 10; k++) {
          await vt.runFor(rng.between(1, 60))
          const r = await vt.await(a.items.record(uid))
          if (r === null || (newer?.stamp !== undefined && versionOf(r) < newer.stamp)) {
            violations.push({ invariant: 'I6', uid, message: `schedule ${i}: the newer local write ${newer?.value ?? ''}@${newer?.stamp ?? ''} was overwritten by ${r === null ? 'nothing' : `${versionOf(r)} ${JSON.stringify(r.row)}`}` })
            break
          }
          if (newer?.stamp !== undefined && versionOf(r) === newer.stamp && !r.dirty) {
            const taken = cluster.network.events.some((e) => e.type === 'outcome' && e.status === 'applied' && e.record.uid === uid && e.record.version === newer.stamp)
            if (!taken) violations.push({ invariant: 'I6', uid, message: `schedule ${i}: ${uid}@${newer.stamp} not dirty before the server took it` })
          }
        }
        if (rng.chance(0.3)) await vt.await(cluster.update(b, uid)) // sometimes another writer joins
      }
      violations.push(...(await cluster.heal()), ...(await cluster.check()))
      return { violations }
    } finally {
      await cluster.close()
    }
  })
  expect(true).toBe(true)
}, scaledTimeout(600_000))
