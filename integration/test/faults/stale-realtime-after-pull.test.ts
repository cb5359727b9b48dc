/**
 * Regression test for B2 (fixed), found by T02 seeds 1123421285, 1086858623 and T05 seed 203238948: a
 * realtime event older than what the client has already pulled is applied. Here a row event is delayed
 * past the pull that evicted the record (it moved out of the scope): the late event puts the stale row
 * back (I7: the client's version goes back), and as the checkpoint is past the move, no later pull
 * removes it (I1). Fixed: events name their revs' span and the client skips what its pull covered (core
 * `decideRealtime`), and evictions carry versions (`decideEviction`).
 *
 * socket.io keeps one connection's messages in order, but the server builds realtime events
 * asynchronously after commit (`authorize` is awaited per delivery), so an event can still be sent after
 * the answer to a pull that already reflects a later commit.
 */
import { afterEach, expect, it } from 'vitest'
import { Cluster } from '../../src/cluster.js'
import { formatViolations } from '../../src/checkers.js'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { SCOPES } from '../../src/schema.js'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

const scope = (where: Record<string, unknown>): number => SCOPES.findIndex((s) => JSON.stringify(s) === JSON.stringify(where))

it('B2: a realtime event delayed past a newer pull never brings an evicted row back', async () => {
  cluster = await Cluster.start({ label: 'B2', seed: 203238948, openDatabase: async () => openSqlite() })
  const a = cluster.addClient()
  const b = cluster.addClient()
  cluster.subscribe(a, scope({ list: 'a' }))
  cluster.subscribe(b, scope({}))
  await cluster.vt.runFor(1_000)
  const uid = (await cluster.vt.await(cluster.create(b, { list: 'a' }))) as string
  await cluster.vt.runFor(1_000)
  expect(await cluster.vt.await(a.items.findUnique(uid))).not.toBeNull()
  // The event of this edit reaches `a` 5 s late…
  cluster.network.setFaults(a.name, { ...PERFECT, realtime: { drop: 0, duplicate: 0, delayMs: [5_000, 5_000] } })
  await cluster.vt.await(cluster.update(b, uid, { list: 'a' }))
  await cluster.vt.runFor(200)
  // …after the record moved out of `a`'s scope and `a` pulled that (evicting it).
  cluster.network.setFaults(a.name, PERFECT)
  await cluster.vt.await(cluster.update(b, uid, { list: 'b' }))
  await cluster.vt.runFor(200)
  await cluster.vt.await(cluster.sync(a))
  expect(await cluster.vt.await(a.items.findUnique(uid))).toBeNull()
  await cluster.vt.runFor(6_000)
  const violations = [...(await cluster.heal()), ...(await cluster.check())]
  expect(violations, formatViolations(violations)).toEqual([])
})
