/**
 * Rows T24 and T26 across nodes (docs/test-matrix.md, I14): a write that never went through lastword —
 * the app's plain Drizzle `insert`, `update`, `delete` on node 0's database handle, raw SQL on a
 * connection that belongs to no node — reaches a real client connected to EACH node by realtime, in its
 * live query, without the client sending `lw:sync`; each record once per client, in rev order.
 *
 * Who carries it: no engine committed it, so no node publishes it through the adapter. Every node's
 * own change feed learns from the database's signal (PostgreSQL: the version row's NOTIFY; SQLite: the
 * poll, advanced by hand) that the version row moved, and reads the change log. With an adapter the feed
 * first waits `GRACE_MS` for a publication that never comes: nothing is delivered until the test moves
 * that node's timers past it. The backstop is a minute of manual time away; moving the timers by it at the end finds
 * nothing left to deliver (no duplicate). Per step, every node's feed stats say where each delivery came
 * from (`log`, never `peer` or `local`) and no node published or received anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WatchedClient } from './site.js'
import { eventually, settle, whenOnline } from '../fixture.js'
import { CHECK_MS, GRACE_MS, POLL_MS, openNodes, type AdapterKind, type NodesSite, type TodoRow } from './nodes.js'

/** Every uid a client was told by realtime (rows, tombstones), in order. */
const toldUids = (w: WatchedClient): string[] => w.events.flatMap((e) => [...e.rows.map((r) => String(r[0])), ...e.tombstones.map((t) => String(t[0]))])

/** Where a node's deliveries came from, and its cluster traffic. */
interface Counts {
  local: number
  peer: number
  log: number
  published: number
  received: number
}

export function acrossNodesSuite(dialect: 'sqlite' | 'postgres', count: number, adapter: AdapterKind): void {
  describe(`foreign writes reach clients on ${count} nodes by realtime (${dialect}, adapter: ${adapter}; T24, T26)`, () => {
    let site: NodesSite
    let watched: WatchedClient[] = []
    const shown: TodoRow[][] = []

    const counts = (): Counts[] =>
      site.nodes.map((n) => {
        const f = n.sync.feedStats()
        const c = n.sync.clusterStats()
        return { local: f.local, peer: f.peer, log: f.log, published: c?.published ?? 0, received: c?.received ?? 0 }
      })

    beforeAll(async () => {
      site = await openNodes(dialect, count, adapter)
      watched = site.nodes.map((_, i) => site.client(i, `watcher-${i}`))
      watched.forEach((w, i) => {
        w.client.table<Omit<TodoRow, 'uid'>>('todos').subscribe({}, (rows) => void (shown[i] = rows.map(({ uid, title, done }) => ({ uid, title, done }))))
      })
      for (const w of watched) {
        await whenOnline(w.client)
        await settle(w.client)
      }
      // Every feed has its baseline: what is committed from now on is its to deliver.
      await eventually(() => site.nodes.forEach((n) => expect(n.sync.feedStats().since).not.toBeNull()))
    }, 30_000)
    afterAll(async () => {
      await site?.close()
    })

    /** Lets the database's signal reach every node's feed for commits up to the version row now; with an adapter, the grace still holds them. */
    async function signalled(): Promise<void> {
      const rev = await site.rev()
      await eventually(() => {
        for (const n of site.nodes) {
          if (dialect === 'sqlite') n.timers.advance(POLL_MS) // the poll; PostgreSQL's NOTIFY needs nothing
          expect(n.sync.feedStats().observed).toBeGreaterThanOrEqual(rev)
        }
      })
    }

    /**
     * Runs `write` (foreign: no node's engine is involved), and expects every client told exactly `uids`
     * (each once, in rev order) and showing `expected`, with no `lw:sync`; every node delivered them
     * from the change log.
     */
    async function expectEverywhere(write: () => Promise<unknown>, uids: string[], expected: TodoRow[]): Promise<void> {
      const syncs = watched.map((w) => w.spy.requests.length)
      const told = watched.map((w) => toldUids(w).length)
      const events = watched.map((w) => w.events.length)
      const before = counts()
      await write()
      await signalled()
      if (adapter !== 'none') {
        // Each feed waits for a publication of these revs: none comes, nothing is delivered yet.
        watched.forEach((w, i) => expect(toldUids(w).slice(told[i])).toEqual([]))
        for (const n of site.nodes) n.timers.advance(GRACE_MS)
      }
      await eventually(() => watched.forEach((w, i) => expect(toldUids(w).slice(told[i])).toEqual(uids)))
      await eventually(() => watched.forEach((_, i) => expect(shown[i]).toEqual(expected)))
      watched.forEach((w, i) => {
        const spans = w.events.slice(events[i]).map((e) => [e.firstRev, e.rev] as const)
        spans.forEach(([first, last], k) => {
          expect(first).toBeLessThanOrEqual(last)
          if (k > 0) expect(first).toBeGreaterThan((spans[k - 1] as readonly [number, number])[1])
        })
        expect(w.spy.requests.length).toBe(syncs[i])
      })
      const distinct = new Set(uids).size
      expect(counts()).toEqual(before.map((c) => ({ ...c, log: c.log + distinct })))
    }

    const yes = dialect === 'sqlite' ? '1' : 'true'
    const no = dialect === 'sqlite' ? '0' : 'false'

    it("(a–c) plain Drizzle insert, update, delete on node 0's database handle", async () => {
      const drizzle = site.nodes[0]!.drizzle
      await expectEverywhere(() => drizzle.insert({ uid: 'd-1', title: 'drizzle insert', done: false }), ['d-1'], [{ uid: 'd-1', title: 'drizzle insert', done: false }])
      await expectEverywhere(() => drizzle.update('d-1', { title: 'drizzle update', done: true }), ['d-1'], [{ uid: 'd-1', title: 'drizzle update', done: true }])
      await expectEverywhere(() => drizzle.delete('d-1'), ['d-1'], [])
    })

    it('(d) raw SQL on a connection of no node: insert, update, delete', async () => {
      await expectEverywhere(() => site.raw(`INSERT INTO todos (uid, title, done) VALUES ('s-1', 'raw insert', ${no})`), ['s-1'], [{ uid: 's-1', title: 'raw insert', done: false }])
      await expectEverywhere(() => site.raw(`UPDATE todos SET title = 'raw update', done = ${yes} WHERE uid = 's-1'`), ['s-1'], [{ uid: 's-1', title: 'raw update', done: true }])
      await expectEverywhere(() => site.raw(`DELETE FROM todos WHERE uid = 's-1'`), ['s-1'], [])
    })

    it('(e) one raw transaction of several records, one of them written twice: each record once, in rev order', async () => {
      // The record written twice is told once, at its first rev, with its final state (a change read
      // back from the log carries its record's latest state, and delivers that later rev with it).
      await expectEverywhere(
        () =>
          site.raw(
            `BEGIN; INSERT INTO todos (uid, title, done) VALUES ('t-1', 'one', ${no}), ('t-2', 'two', ${no}), ('t-3', 'three', ${yes}); ` +
              `UPDATE todos SET title = 'one, again' WHERE uid = 't-1'; COMMIT`,
          ),
        ['t-1', 't-2', 't-3'],
        [
          { uid: 't-1', title: 'one, again', done: false },
          { uid: 't-2', title: 'two', done: false },
          { uid: 't-3', title: 'three', done: true },
        ],
      )
    })

    it('(f) foreign, service write on node 1, foreign: each once — the log read that spans the service write skips it', async () => {
      const told = watched.map((w) => toldUids(w).length)
      const before = counts()
      await site.raw(`INSERT INTO todos (uid, title, done) VALUES ('m-x', 'foreign before', ${no})`)
      const y = await site.nodes[1]!.sync.service('todos').create({ title: 'a service write', done: false })
      await site.raw(`INSERT INTO todos (uid, title, done) VALUES ('m-z', 'foreign after', ${no})`)
      await signalled()
      if (adapter !== 'none') {
        // The service write went out at once (node 1 from memory, the others by the adapter); the foreign ones wait.
        await eventually(() => watched.forEach((w, i) => expect(toldUids(w).slice(told[i])).toEqual([y])))
        for (const n of site.nodes) n.timers.advance(GRACE_MS)
        // Each feed reads the revs of m-x … m-z in one go: the service write's rev, under them, is not sent again.
        await eventually(() => watched.forEach((w, i) => expect(toldUids(w).slice(told[i])).toEqual([y, 'm-x', 'm-z'])))
      } else {
        // Node 1 sent its own from memory, then read the foreign ones around it; the other node read all three, in rev order.
        await eventually(() => watched.forEach((w, i) => expect(toldUids(w).slice(told[i])).toEqual(i === 1 ? [y, 'm-x', 'm-z'] : ['m-x', y, 'm-z'])))
      }
      await eventually(() => watched.forEach((_, i) => expect(shown[i]!.map((r) => r.uid).sort()).toEqual(['m-x', 'm-z', 't-1', 't-2', 't-3', y].sort())))
      const expected = before.map((c, i) =>
        i === 1
          ? { ...c, local: c.local + 1, log: c.log + 2, published: c.published + (adapter === 'none' ? 0 : 1) }
          : adapter === 'none'
            ? { ...c, log: c.log + 3 }
            : { ...c, peer: c.peer + 1, log: c.log + 2, received: c.received + 1 },
      )
      expect(counts()).toEqual(expected)
    })

    it('(g) the backstop check, once its interval has passed, finds nothing left to deliver', async () => {
      const told = watched.map((w) => toldUids(w).length)
      for (const n of site.nodes) n.timers.advance(CHECK_MS)
      // One more foreign write: each feed does one pass at a time, so anything the backstop sent again would come before it.
      await expectEverywhere(() => site.raw(`INSERT INTO todos (uid, title, done) VALUES ('z-1', 'after the backstop', ${no})`), ['z-1'], expect.any(Array) as unknown as TodoRow[])
      watched.forEach((w, i) => expect(toldUids(w).slice(told[i])).toEqual(['z-1']))
      // Over the whole run, no client was told a record more often than it was written in separate commits.
      for (const w of watched) {
        const seen = new Map<string, number>()
        for (const uid of toldUids(w)) seen.set(uid, (seen.get(uid) ?? 0) + 1)
        expect(Object.fromEntries(seen)).toMatchObject({ 'd-1': 3, 's-1': 3, 't-1': 1, 't-2': 1, 't-3': 1, 'm-x': 1, 'm-z': 1, 'z-1': 1 })
      }
    })
  })
}
