/**
 * Regression test for B3 (fixed), found by T10 seed 12536194: a client offline across the retention
 * window with a dirty edit of a record someone else deleted later brings the record back when it
 * returns — with its older stamp. The server purged the tombstone, so the edit's push (sent with the
 * first request, before the server answers `resync`, and applied anyway) creates the uid again (R1);
 * and the client keeps a dirty record the server says was purged (`removeUnlessHeld` keeps dirty ones),
 * so full reconciliation would push it again too. Trap 3 (docs/guarantees.md): an acknowledged record the
 * server no longer knows was deleted and purged — it goes, and the app is told. Fixed: the server applies no push with a
 * checkpoint behind the horizon (engine `sync`), the client withholds acknowledged records from pushes
 * until a full reconciliation ends, and a purge removes an acknowledged record even when dirty (E1).
 */
import { afterEach, expect, it } from 'vitest'
import { Cluster } from '../../src/cluster.js'
import { openSqlite } from '../../src/databases.js'
import { SCOPES } from '../../src/schema.js'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

it('B3: a stale offline edit never resurrects a record whose tombstone was purged (T10 seed 12536194)', async () => {
  cluster = await Cluster.start({ label: 'B3', seed: 12536194, openDatabase: async () => openSqlite() })
  const all = SCOPES.findIndex((s) => Object.keys(s).length === 0)
  const a = cluster.addClient()
  const b = cluster.addClient()
  cluster.subscribe(a, all)
  cluster.subscribe(b, all)
  await cluster.vt.runFor(1_000)
  const uid = (await cluster.vt.await(cluster.create(b, { list: 'a' }))) as string
  await cluster.vt.runFor(1_000)
  expect(await cluster.vt.await(a.items.findUnique(uid))).not.toBeNull()
  cluster.goOffline(a)
  await cluster.vt.await(cluster.update(a, uid, { list: 'b' })) // older…
  await cluster.vt.runFor(1_000)
  await cluster.vt.await(cluster.remove(b, uid)) // …than this delete
  await cluster.vt.runFor(2_000)
  await cluster.vt.await(cluster.server.engine.purge({ olderThanMs: 500 }))
  cluster.goOnline(a)
  await cluster.vt.runFor(5_000)
  expect(await cluster.vt.await(cluster.server.engine.service('items').findUnique(uid))).toBeNull()
  expect(await cluster.vt.await(a.items.findUnique(uid))).toBeNull()
})
