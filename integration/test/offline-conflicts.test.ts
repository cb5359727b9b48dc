/**
 * Offline edits on two and three clients reconcile under every conflict case of the rule (SPEC R1–R9):
 * the later write wins; the later delete wins; an older stale edit never resurrects a tombstone; a
 * later edit does. Whatever order the clients come back in, every client ends equal to the server (I1),
 * and the server holds the greatest stamp per uid (I3). Each client's clock is a manual one, so "later"
 * is decided by the test, not by scheduling.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { compareStamps, versionOf, type Stamp } from '@lastword/core'
import type { SyncClient } from '@lastword/client'
import { manualClock, newClient, readAll, seededRandom, serverRows, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

/** Clients sharing one manual clock: each step of the test is 1 s later than the one before. */
function makeClients(count: number, clock = manualClock()) {
  return Array.from({ length: count }, () => {
    const { client } = newClient(server, { clock })
    clients.push(client)
    client.table<Todo>('todos').subscribe({}, () => undefined)
    return client
  })
}

async function expectConverged(all: SyncClient[]): Promise<void> {
  for (let round = 0; round < 2; round++) for (const c of all) await settle(c)
  const expected = serverRows(server)
  for (const c of all) expect(await readAll(c)).toEqual(expected)
}

describe('offline edits reconcile (2 clients)', () => {
  let clock: ReturnType<typeof manualClock>
  let a: SyncClient
  let b: SyncClient
  let uid: string

  beforeEach(async () => {
    clock = manualClock()
    ;[a, b] = makeClients(2, clock) as [SyncClient, SyncClient]
    await Promise.all([whenOnline(a), whenOnline(b)])
    uid = await a.table<Todo>('todos').create({ title: 'shared', done: false })
    await settle(a)
    await settle(b)
    expect(await b.table<Todo>('todos').findUnique(uid)).toMatchObject({ title: 'shared' })
    a.disconnect()
    b.disconnect()
  })

  it('the later write wins, whoever comes back first', async () => {
    clock.advance(1_000)
    await a.table<Todo>('todos').update(uid, { title: 'A (earlier)' })
    clock.advance(1_000)
    await b.table<Todo>('todos').update(uid, { title: 'B (later)' })
    b.connect()
    await settle(b)
    a.connect()
    await settle(a)
    await expectConverged([a, b])
    expect(serverRows(server)).toEqual([{ uid, title: 'B (later)', done: false, priority: null }])
  })

  it('the later delete wins over an earlier edit', async () => {
    clock.advance(1_000)
    await a.table<Todo>('todos').update(uid, { title: 'A edit' })
    clock.advance(1_000)
    await b.table<Todo>('todos').delete(uid)
    a.connect()
    await settle(a)
    b.connect()
    await settle(b)
    await expectConverged([a, b])
    expect(serverRows(server)).toEqual([])
  })

  it('an older stale edit never resurrects a tombstone', async () => {
    clock.advance(1_000)
    await a.table<Todo>('todos').update(uid, { title: 'stale edit' })
    clock.advance(1_000)
    await b.table<Todo>('todos').delete(uid)
    b.connect()
    await settle(b) // the tombstone reaches the server first
    const log: string[] = []
    a.on('sync', (r) => log.push(...r.superseded.map((s) => s.rule)))
    a.connect()
    await settle(a)
    await expectConverged([a, b])
    expect(serverRows(server)).toEqual([])
    expect(log).toContain('R9 older write never resurrects')
    expect(await a.table<Todo>('todos').findUnique(uid)).toBeNull()
  })

  it('a later edit brings a deleted record back', async () => {
    clock.advance(1_000)
    await a.table<Todo>('todos').delete(uid)
    clock.advance(1_000)
    await b.table<Todo>('todos').update(uid, { title: 'later edit' })
    a.connect()
    await settle(a)
    b.connect()
    await settle(b)
    await expectConverged([a, b])
    expect(serverRows(server)).toEqual([{ uid, title: 'later edit', done: false, priority: null }])
  })
})

describe('offline edits reconcile (3 clients)', () => {
  it('mixes creates, edits, deletes and a resurrection across three clients', async () => {
    const clock = manualClock()
    const [a, b, c] = makeClients(3, clock) as [SyncClient, SyncClient, SyncClient]
    await Promise.all([whenOnline(a), whenOnline(b), whenOnline(c)])
    const x = await a.table<Todo>('todos').create({ title: 'x', done: false })
    const y = await a.table<Todo>('todos').create({ title: 'y', done: false })
    for (const client of [a, b, c]) await settle(client)
    for (const client of [a, b, c]) client.disconnect()

    clock.advance(1_000)
    await a.table<Todo>('todos').update(x, { title: 'x by A' })
    await a.table<Todo>('todos').delete(y)
    clock.advance(1_000)
    await b.table<Todo>('todos').delete(x)
    await b.table<Todo>('todos').update(y, { done: true }) // older than nothing: B's edit of y is later than A's delete
    const z = await c.table<Todo>('todos').create({ title: 'z by C', done: false })
    clock.advance(1_000)
    await c.table<Todo>('todos').update(x, { title: 'x by C', priority: 3 }) // the latest write to x: brings it back

    for (const client of [c, a, b]) {
      client.connect()
      await settle(client)
    }
    await expectConverged([a, b, c])
    expect(serverRows(server)).toEqual(
      [
        { uid: x, title: 'x by C', done: false, priority: 3 },
        { uid: y, title: 'y', done: true, priority: null },
        { uid: z, title: 'z by C', done: false, priority: null },
      ].sort((p, q) => (p.uid < q.uid ? -1 : 1)),
    )
  })
})

/** `RUNS=n` runs the randomized test n times (each with its own seed unless FC_SEED is set). */
const RUNS = Number(process.env.RUNS ?? 1)

describe('randomized offline sessions', () => {
  it.each(Array.from({ length: RUNS }, (_, i) => i + 1))('converges to the greatest stamp per uid (I1, I3, I4) — run %i', async () => {
    const random = seededRandom('offline-conflicts')
    const clock = manualClock()
    const all = makeClients(3, clock)
    await Promise.all(all.map((c) => whenOnline(c)))
    /** Every accepted local write: its uid, version and resulting row (null for a delete). */
    const writes: Array<{ uid: string; version: Stamp; row: Todo | null }> = []
    const uids: string[] = []
    for (let round = 0; round < 4; round++) {
      for (const c of all) c.disconnect()
      for (let op = 0; op < 12; op++) {
        clock.advance(1 + random.int(3))
        const client = random.pick(all)
        const table = client.table<Todo>('todos')
        const live = (await table.findMany()).map((r) => r.uid)
        const kind = live.length === 0 || random.next() < 0.25 ? 'create' : random.next() < 0.7 ? 'update' : 'delete'
        let uid: string
        if (kind === 'create') {
          uid = await table.create({ title: `t${round}.${op}`, done: random.next() < 0.5 })
          uids.push(uid)
        } else {
          uid = random.pick(live)
          if (kind === 'update') await table.update(uid, { title: `u${round}.${op}`, priority: random.int(5) })
          else await table.delete(uid)
        }
        const record = (await table.record(uid))!
        writes.push({ uid, version: versionOf(record), row: record.deleted_at === null ? (record.row as unknown as Todo) : null })
      }
      for (const c of [...all].sort(() => random.next() - 0.5)) {
        c.connect()
        await settle(c)
      }
    }
    await expectConverged(all)
    // The model: per uid, the write with the greatest stamp.
    const model = new Map<string, { version: Stamp; row: Todo | null }>()
    for (const w of writes) {
      const best = model.get(w.uid)
      if (best === undefined || compareStamps(w.version, best.version) > 0) model.set(w.uid, w)
    }
    const expected = [...model.entries()]
      .filter(([, w]) => w.row !== null)
      .map(([uid, w]) => ({ uid, title: w.row!.title, done: w.row!.done, priority: w.row!.priority }))
      .sort((p, q) => (p.uid < q.uid ? -1 : 1))
    expect(serverRows(server)).toEqual(expected)
  })
})
