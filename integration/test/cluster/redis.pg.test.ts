/**
 * T16 with `@socket.io/redis-adapter` (Redis at `LW_REDIS_URL`, default 127.0.0.1:6379) instead of the
 * PostgreSQL adapter: three nodes on one PostgreSQL, fan-out across them filtered per socket, and a
 * payload over 8,000 bytes. Without Redis the file is skipped with the reason, except under CI, where
 * it fails.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RUNS, closeAll, eventually, newClient, requirePostgres, requireRedis, settle, startDeployment, type Deployment, type TestClient } from './harness.js'
import { fanOutScenario } from './scenarios.js'

const available = (await requirePostgres('cluster-redis')) && (await requireRedis('cluster-redis'))

describe.skipIf(!available)('three nodes on one PostgreSQL (redis adapter)', () => {
  let d: Deployment
  const clients: TestClient[] = []
  const client = (urls: string | string[], token: string): TestClient => {
    const c = newClient(urls, token)
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    d = await startDeployment({ nodes: 3, adapter: 'redis', label: 'cluster-redis' })
  }, 120_000)
  afterAll(async () => {
    await closeAll(clients)
    await d?.close()
  }, 60_000)
  afterEach(async () => {
    await closeAll(clients)
  })

  it('fans a commit on one node out to the subscribed sockets of the others, filtered per socket', async () => {
    for (let run = 0; run < RUNS; run++) {
      await fanOutScenario(d, client, `redis-fan-${run}`)
      await closeAll(clients)
    }
  })

  it('delivers a payload over 8,000 bytes', async () => {
    for (let run = 0; run < RUNS; run++) {
      const list = `redis-big-${run}`
      const writer = client(d.nodes[2]!.url, 'acme:alice')
      const reader = client(d.nodes[0]!.url, 'acme:bob')
      writer.items.subscribe({ list }, () => undefined)
      reader.items.subscribe({ list }, () => undefined)
      await Promise.all([writer, reader].map((c) => settle(c.client)))
      const body = `${'z'.repeat(30_000)}-${run}`
      const uid = await writer.items.create({ list, title: 'large', done: false, n: 1, body })
      await eventually(async () => expect((await reader.items.findUnique(uid))?.body).toBe(body), 3_000)
      expect(reader.seen().has(uid)).toBe(true)
      await closeAll(clients)
    }
  })
})
