/**
 * Regression test for B1 (fixed; matrix.md lists the bugs the campaigns found), found by T02 seed 1210251228: a record that moves out of two
 * overlapping scopes of one client stays on that client forever. Each scope's eviction keeps the record
 * because the *stale* local row still matches the other scope (apply.ts `removeUnlessHeld`), so each
 * deferred to the other. Fixed by versioned evictions: an eviction carries the version the server found
 * outside the scope, and a local copy older than it goes whatever else it seems to match (core
 * `decideEviction`, SPEC.md E2).
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

it('B1: a record that moves out of two overlapping scopes of one client leaves it (T02 seed 1210251228)', async () => {
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
