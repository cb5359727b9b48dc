/**
 * The harness itself: a clean run converges and passes every checker; the checkers flag what they must.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/cluster.js'
import { formatViolations } from '../../src/checkers.js'
import { openSqlite } from '../../src/databases.js'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

describe('fault harness', () => {
  it('a clean run with two clients converges and passes every checker', async () => {
    cluster = await Cluster.start({ label: 'smoke', seed: 1, openDatabase: async () => openSqlite() })
    const a = cluster.addClient()
    const b = cluster.addClient()
    cluster.subscribe(a, 7)
    cluster.subscribe(b, 0)
    await cluster.vt.runFor(1_000)
    const uid = await cluster.vt.await(cluster.create(a, { list: 'a' }))
    await cluster.vt.await(cluster.create(b, { list: 'b' }))
    await cluster.vt.runFor(1_000)
    expect(uid).not.toBeNull()
    await cluster.vt.await(cluster.update(b, uid as string))
    await cluster.vt.runFor(1_000)
    const heal = await cluster.heal()
    const violations = [...heal, ...(await cluster.check())]
    expect(violations, formatViolations(violations)).toEqual([])
    expect(cluster.network.events.filter((e) => e.type === 'acked').length).toBeGreaterThan(0)
  })
})
