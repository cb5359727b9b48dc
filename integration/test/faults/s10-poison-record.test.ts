/**
 * S10 end to end — one always-invalid record among 50 (the server's `authorize` refuses it, the client
 * cannot know): 49 applied, 1 rejected with its reason and kept locally, no longer dirty; the queue
 * drains and later writes still sync. (The engine-level form: packages/server/test/engine/suite.ts.)
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

it('S10: one poison record among 50 is rejected with its reason; the 49 others apply and the queue drains', async () => {
  cluster = await Cluster.start({
    label: 'S10',
    seed: 10,
    openDatabase: async () => openSqlite(),
    authorize: ({ op, ...rest }) => op === 'read' || !String((rest as { after: Record<string, unknown> | null }).after?.['title'] ?? '').startsWith('poison'),
  })
  const c = cluster.addClient()
  cluster.subscribe(c, SCOPES.findIndex((s) => Object.keys(s).length === 0))
  await cluster.vt.runFor(500)
  cluster.goOffline(c)
  const uids: string[] = []
  for (let i = 0; i < 50; i++) uids.push((await cluster.vt.await(c.items.create({ list: 'a', title: i === 17 ? 'poison' : `ok ${i}`, done: false, n: i }))) as string)
  expect(await cluster.vt.await(c.client.pendingCount())).toBe(50)
  cluster.goOnline(c)
  await cluster.vt.runUntil(async () => (await c.client.pendingCount()) === 0, 30_000, 100)
  expect(await cluster.vt.await(c.client.pendingCount())).toBe(0)
  const server = await cluster.vt.await(cluster.server.engine.service('items').findMany({}))
  expect(server).toHaveLength(49)
  const poison = await cluster.vt.await(c.items.record(uids[17] as string))
  expect(poison).toMatchObject({ dirty: false, rejected: { code: 'FORBIDDEN' } })
  expect(poison?.row?.['title']).toBe('poison')
  // The queue is not blocked: a later write syncs.
  const later = (await cluster.vt.await(c.items.create({ list: 'b', title: 'later', done: true, n: 1 }))) as string
  await cluster.vt.runUntil(async () => (await c.client.pendingCount()) === 0, 30_000, 100)
  expect(await cluster.vt.await(cluster.server.engine.service('items').findUnique(later))).toMatchObject({ title: 'later' })
})
