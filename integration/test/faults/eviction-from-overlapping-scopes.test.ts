/**
 * Open bug B1 (src/known-bugs.ts), found by T02 seed 1210251228: a record that moves out of two
 * overlapping scopes of one client stays on that client forever. Each scope's eviction keeps the record
 * because the *stale* local row still matches the other scope (apply.ts `removeUnlessHeld`), so each
 * defers to the other. Marked `it.fails` while B1 is open: it turns red the day B1 is fixed — then drop
 * `.fails`, and B1 from known-bugs.ts.
 */
import { afterEach, expect, it } from 'vitest'
import { Cluster } from '../../src/cluster.js'
import { formatViolations } from '../../src/checkers.js'
import { openSqlite } from '../../src/databases.js'
import { SCOPES } from '../../src/schema.js'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

const scope = (where: Record<string, unknown>): number => SCOPES.findIndex((s) => JSON.stringify(s) === JSON.stringify(where))

it.fails('B1: a record that moves out of two overlapping scopes of one client leaves it (T02 seed 1210251228)', async () => {
  cluster = await Cluster.start({ label: 'B1', seed: 1210251228, openDatabase: async () => openSqlite() })
  const a = cluster.addClient()
  const b = cluster.addClient()
  cluster.subscribe(a, scope({ list: 'b' }))
  cluster.subscribe(a, scope({ list: { in: ['b', 'c'] } }))
  cluster.subscribe(b, scope({}))
  await cluster.vt.runFor(1_000)
  const uid = (await cluster.vt.await(cluster.create(b, { list: 'b' }))) as string
  await cluster.vt.runFor(1_000)
  expect(await cluster.vt.await(a.items.findUnique(uid))).not.toBeNull()
  await cluster.vt.await(cluster.update(b, uid, { list: 'a' }))
  await cluster.vt.runFor(1_000)
  const violations = [...(await cluster.heal()), ...(await cluster.check())]
  expect(violations, formatViolations(violations)).toEqual([])
})
