/**
 * T26 across a cluster: two nodes with `@socket.io/postgres-adapter` whose change feeds read every rev
 * from the change log as soon as the version row's notification names it (`repairIntervalMs: 0`), so
 * the adapter's publication and the feed both carry each commit to the other node. A subscribed client
 * of that node is told each record once, in rev order, whichever arrived first. (Which path wins each
 * race is up to the machine: the run prints how many each won; `packages/server/test/feed/feed.test.ts`
 * holds both orders deterministically.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RUNS, closeAll, eventually, newClient, requirePostgres, settle, startDeployment, type Deployment, type TestClient } from './harness.js'

const available = await requirePostgres('cluster-feed')

describe.skipIf(!available)('two nodes whose adapter and change feed both carry every commit', () => {
  let d: Deployment
  const clients: TestClient[] = []
  const client = (url: string, token: string): TestClient => {
    const c = newClient(url, token)
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    d = await startDeployment({ nodes: 2, adapter: 'postgres', label: 'cluster-feed', repairMs: 0 })
  }, 120_000)
  afterAll(async () => {
    await closeAll(clients)
    await d?.close()
  }, 60_000)
  afterEach(async () => {
    await closeAll(clients)
  })

  it('tells a socket each rev once, in rev order', async () => {
    for (let run = 0; run < RUNS; run++) {
      const list = `dedup-${run}`
      const writer = client(d.nodes[0]!.url, 'acme:alice')
      const reader = client(d.nodes[1]!.url, 'acme:bob')
      writer.items.subscribe({ list }, () => undefined)
      reader.items.subscribe({ list }, () => undefined)
      await Promise.all([writer, reader].map((c) => settle(c.client)))
      const before = await d.nodes[1]!.stats()
      const eventsBefore = reader.transport.events.length

      const uids: string[] = []
      // One commit per record: each is a race between its publication and the feed's read.
      for (let i = 0; i < 12; i++) {
        uids.push(await writer.items.create({ list, title: `w${i}`, done: false, n: i, body: null }))
        await settle(writer.client)
      }
      await eventually(() => expect([...reader.seen()].filter((uid) => uids.includes(uid)).sort()).toEqual([...uids].sort()), 5_000)

      const events = reader.transport.events.slice(eventsBefore).filter((e) => e.table === 'items')
      const told = events.flatMap((e) => e.rows.map((r) => String(r[0])))
      expect(told).toEqual(uids) // each record once, in the order written
      for (let i = 1; i < events.length; i++) expect(events[i]!.firstRev).toBeGreaterThan(events[i - 1]!.rev)
      const after = await d.nodes[1]!.stats()
      // Both paths ran: publications arrived, and the feed read the log as soon as it was told.
      expect(after.received).toBeGreaterThan(before.received)
      console.log(`[cluster-feed] run ${run}: ${after.received - before.received} publications received, ${after.repaired - before.repaired} changes read from the log first`)
      await closeAll(clients)
    }
  })
})
