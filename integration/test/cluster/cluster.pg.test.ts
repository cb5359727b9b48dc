/**
 * T16: three lastword server processes on one PostgreSQL with `@socket.io/postgres-adapter`
 * (LISTEN/NOTIFY on the same database), clients spread across them.
 *
 * - a change committed on one node reaches subscribed clients of the others in realtime, filtered per
 *   socket by scope and permission on the node that holds it (I8); a move-out evicts;
 * - payloads over NOTIFY's 8,000 bytes go through the adapter's attachments table, and commits over
 *   `maxPayloadBytes` are read from the database by the receiving node;
 * - concurrent offline edits on clients of different nodes converge (I1, I3);
 * - overlapping syncs on two nodes are serialised by the table's advisory lock (visible in pg_locks);
 * - a node SIGKILLed inside a push: its clients move to another node and converge, nothing
 *   acknowledged is lost (I1, I2) within a liveness bound;
 * - the adapter's LISTEN connection terminated: the node survives, what it missed is repaired from the
 *   change log, and the adapter listens again.
 *
 * Each scenario runs RUNS times (default 3).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  RUNS,
  clientRows,
  closeAll,
  eventually,
  newClient,
  requirePostgres,
  serverRows,
  settle,
  startDeployment,
  type Deployment,
  type TestClient,
} from './harness.js'
import { fanOutScenario } from './scenarios.js'
import { ATTACHMENTS_TABLE } from './schema.js'

const available = await requirePostgres('cluster')

/** Liveness bound after a heal (row T16: I1 within 5 s). */
const HEAL_MS = 5_000

describe.skipIf(!available)('three nodes on one PostgreSQL (postgres adapter)', () => {
  let d: Deployment
  const clients: TestClient[] = []
  const url = (i: number): string => (d.nodes[i] as { url: string }).url

  beforeAll(async () => {
    d = await startDeployment({ nodes: 3, adapter: 'postgres', label: 'cluster' })
  }, 120_000)
  afterAll(async () => {
    await closeAll(clients)
    await d?.close()
  }, 60_000)
  afterEach(async () => {
    await closeAll(clients)
  })

  const client = (urls: string | string[], token: string): TestClient => {
    const c = newClient(urls, token)
    clients.push(c)
    return c
  }

  it('fans a commit on one node out to the subscribed sockets of the others, filtered per socket', async () => {
    for (let run = 0; run < RUNS; run++) {
      await fanOutScenario(d, client, `fan-${run}`)
      await closeAll(clients)
    }
  })

  it('delivers payloads over the 8,000-byte NOTIFY limit (attachments table) and over maxPayloadBytes (read back)', async () => {
    for (let run = 0; run < RUNS; run++) {
      const list = `big-${run}`
      const writer = client(url(2), 'acme:alice')
      const reader = client(url(0), 'acme:bob')
      writer.items.subscribe({ list }, () => undefined)
      reader.items.subscribe({ list }, () => undefined)
      await Promise.all([writer, reader].map((c) => settle(c.client)))
      const attachments = async () => Number((await d.sql<{ n: string }>(`SELECT count(*) AS n FROM ${ATTACHMENTS_TABLE}`))[0]?.n)
      const attachedBefore = await attachments()
      const fetchedBefore = (await d.nodes[0]!.stats()).fetched

      const body = `${'x'.repeat(20_000)}-${run}`
      const uid = await writer.items.create({ list, title: 'large', done: false, n: 1, body })
      await eventually(async () => expect((await reader.items.findUnique(uid))?.body).toBe(body), 3_000)
      expect(reader.seen().has(uid)).toBe(true)
      expect(await attachments()).toBeGreaterThan(attachedBefore)

      // Over maxPayloadBytes (50,000 bytes on these nodes): published as revs, the receiving node reads the changes itself.
      const huge = `${'y'.repeat(90_000)}-${run}`
      const big = await writer.items.create({ list, title: 'huge', done: false, n: 2, body: huge })
      await eventually(async () => expect((await reader.items.findUnique(big))?.body?.length).toBe(huge.length), 5_000)
      expect((await d.nodes[0]!.stats()).fetched).toBeGreaterThan(fetchedBefore)
      await closeAll(clients)
    }
  })

  it('converges concurrent offline edits made on clients of different nodes (I1)', async () => {
    for (let run = 0; run < RUNS; run++) {
      const list = `conv-${run}`
      const all = [0, 1, 2, 0, 1, 2].map((n, i) => client(url(n), `acme:u${i}`))
      for (const c of all) c.items.subscribe({ list }, () => undefined)
      await Promise.all(all.map((c) => settle(c.client)))
      const seeded: string[] = []
      for (let i = 0; i < 6; i++) seeded.push(await all[0]!.items.create({ list, title: `seed-${i}`, done: false, n: 0, body: null }))
      await settle(all[0]!.client)
      await Promise.all(all.map((c) => settle(c.client)))

      for (const c of all) c.client.disconnect()
      const written = new Map<string, Set<string>>()
      const note = (uid: string, title: string) => written.set(uid, (written.get(uid) ?? new Set()).add(title))
      await Promise.all(
        all.map(async (c, ci) => {
          for (let k = 0; k < 8; k++) {
            const uid = seeded[(ci * 3 + k) % seeded.length] as string
            const title = `${c.label}:${k}`
            try {
              if (k === 5 && ci % 3 === 0) await c.items.delete(uid)
              else if (k % 4 === 3) note(await c.items.create({ list, title, done: false, n: k, body: null }), title)
              else {
                await c.items.update(uid, { title, done: k % 2 === 0, n: k })
                note(uid, title)
              }
            } catch {
              // deleted locally a moment ago: NOT_FOUND
            }
          }
        }),
      )
      for (const c of all) c.client.connect()
      const started = Date.now()
      await Promise.all(all.map((c) => settle(c.client)))
      await Promise.all(all.map((c) => settle(c.client)))
      const server = await serverRows(d, 'acme', list)
      await eventually(async () => {
        for (const c of all) expect(await clientRows(c, { list })).toEqual(server)
      }, HEAL_MS)
      // Every surviving value is one that was written (no invented or mixed rows).
      for (const row of server) {
        if (!row.title.startsWith('seed-')) expect(written.get(row.uid)?.has(row.title)).toBe(true)
      }
      console.log(`[cluster] run ${run}: ${server.length} rows converged on 6 clients of 3 nodes in ${Date.now() - started} ms`)
      await closeAll(clients)
    }
  })

  it('serialises overlapping syncs of two nodes on the table advisory lock (pg_locks)', async () => {
    for (let run = 0; run < RUNS; run++) {
      const list = `lock-${run}`
      const alice = client(url(0), 'acme:alice')
      const bob = client(url(1), 'acme:bob')
      alice.items.subscribe({ list }, () => undefined)
      bob.items.subscribe({ list }, () => undefined)
      await Promise.all([alice, bob].map((c) => settle(c.client)))

      d.nodes[0]!.hold(`lock-${run}-`)
      const held = d.nodes[0]!.held()
      const uid = await alice.items.create({ uid: `lock-${run}-a`, list, title: 'held inside its critical section', done: false, n: 1, body: null })
      await held
      // Bob's pull on node 1 (a shared lock) waits for alice's push on node 0 (exclusive, not committed yet).
      let bobDone = false
      const bobSync = bob.client.sync().then(() => {
        bobDone = true
      })
      const locks = await eventually(async () => {
        const rows = await d.sql<{ application_name: string; granted: boolean; mode: string }>(
          `SELECT a.application_name, l.granted, l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND a.application_name LIKE $1 ORDER BY l.granted DESC`,
          [`lw-node-%-${d.tag}`],
        )
        expect(rows.some((r) => !r.granted)).toBe(true)
        return rows
      }, 5_000)
      expect(locks).toEqual([
        { application_name: `lw-node-0-${d.tag}`, granted: true, mode: 'ExclusiveLock' },
        { application_name: `lw-node-1-${d.tag}`, granted: false, mode: 'ShareLock' },
      ])
      await new Promise((r) => setTimeout(r, 100))
      expect(bobDone).toBe(false)
      d.nodes[0]!.release()
      await bobSync
      // Bob's pull ran after alice's commit: it holds her record (whether realtime beat it or not).
      expect((await bob.items.findUnique(uid))?.title).toBe('held inside its critical section')
      await settle(alice.client)
      expect(
        await d.sql(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name LIKE $1`, [
          `lw-node-%-${d.tag}`,
        ]),
      ).toEqual([{ n: 0 }])
      await closeAll(clients)
    }
  })

  it('survives a node SIGKILLed inside a push: its clients move to another node and converge, nothing acknowledged lost (T16)', async () => {
    for (let run = 0; run < RUNS; run++) {
      const list = `kill-${run}`
      const alice = client([url(0), url(1), url(2)], 'acme:alice')
      const bob = client([url(1), url(2)], 'acme:bob')
      const erin = client([url(2), url(1)], 'acme:erin')
      const everyone = [alice, bob, erin]
      for (const c of everyone) c.items.subscribe({ list }, () => undefined)
      await Promise.all(everyone.map((c) => settle(c.client)))
      expect(alice.client.status).toMatch(/online|syncing/)

      d.nodes[0]!.hold(`kill-${run}-`)
      const held = d.nodes[0]!.held()
      const mine: Array<[string, string]> = []
      const write = async (c: TestClient, title: string, uid?: string) => {
        const id = await c.items.create({ ...(uid === undefined ? {} : { uid }), list, title, done: false, n: null, body: null })
        if (c === alice) mine.push([id, title])
        return id
      }
      await write(alice, 'in the push that dies', `kill-${run}-a`)
      await held
      await d.nodes[0]!.kill() // after its revs were taken, before commit
      // Writes go on everywhere while alice finds another node.
      for (let i = 0; i < 5; i++) {
        await write(alice, `alice-${i}`)
        await write(erin, `erin-${i}`)
        await write(bob, `bob-${i}`)
      }
      // Healed: writes have stopped. Every client converges within the liveness bound.
      const healed = Date.now()
      await eventually(async () => {
        for (const c of everyone) expect(await c.client.pendingCount()).toBe(0)
        const server = await serverRows(d, 'acme', list)
        for (const c of everyone) expect(await clientRows(c, { list })).toEqual(server)
      }, HEAL_MS, 50)
      const elapsed = Date.now() - healed
      const server = await serverRows(d, 'acme', list)
      // I2: every write alice made (and was acknowledged for: nothing is pending) is on the server.
      for (const [uid, title] of mine) expect(server.find((r) => r.uid === uid)?.title).toBe(title)
      expect(server).toHaveLength(16)
      // A client whose first URL is the dead node starts on the next one.
      const late = client([url(0), url(2)], 'acme:late')
      late.items.subscribe({ list }, () => undefined)
      await settle(late.client)
      expect(await clientRows(late, { list })).toEqual(server)
      console.log(`[cluster] run ${run}: node 0 killed mid-push; 3 clients converged ${elapsed} ms after the writes stopped`)
      await closeAll(clients)
      await d.restart(0)
    }
  })

  it("recovers when the adapter's LISTEN connection is terminated (pg_terminate_backend)", async () => {
    for (let run = 0; run < RUNS; run++) {
      const list = `listen-${run}`
      const alice = client(url(0), 'acme:alice')
      const bob = client(url(1), 'acme:bob')
      alice.items.subscribe({ list }, () => undefined)
      bob.items.subscribe({ list }, () => undefined)
      await Promise.all([alice, bob].map((c) => settle(c.client)))
      const listeners = () =>
        d.sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, [`lw-adapter-1-${d.tag}`])
      await eventually(async () => expect(await listeners()).toHaveLength(1), 10_000)
      const before = await d.nodes[1]!.stats()

      const killed = await d.sql<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
        [`lw-adapter-1-${d.tag}`],
      )
      expect(killed).toEqual([{ ok: true }])
      // Written while node 1 hears nothing: its NOTIFY is lost; node 1 repairs it from the change log.
      const during = await alice.items.create({ list, title: 'while node 1 was deaf', done: false, n: 1, body: null })
      await eventually(async () => expect((await bob.items.findUnique(during))?.title).toBe('while node 1 was deaf'), HEAL_MS)
      expect(bob.seen().has(during)).toBe(true) // realtime, not a pull
      expect(d.nodes[1]!.alive()).toBe(true)

      // The adapter listens again, and fan-out goes through it again.
      await eventually(async () => expect(await listeners()).toHaveLength(1), 10_000, 100)
      const afterwards = await alice.items.create({ list, title: 'after the reconnection', done: false, n: 2, body: null })
      await eventually(async () => expect((await bob.items.findUnique(afterwards))?.title).toBe('after the reconnection'), HEAL_MS)
      const stats = await d.nodes[1]!.stats()
      expect(stats.received).toBeGreaterThan(before.received)
      expect(stats.repaired + stats.received).toBeGreaterThan(before.repaired + before.received + 1)
      await closeAll(clients)
    }
  })
})
