/**
 * Realtime fan-out (ARCHITECTURE.md, "Realtime"): changes reach matching subscriptions only, move-outs
 * arrive as evictions, a tenant never receives another tenant's change (I8), and authorization is
 * re-checked on every delivery — a membership revoked mid-session stops delivery at once, and the next
 * sync resyncs and evicts (S07, V8).
 *
 * Deliveries are sent in commit order, one batch after another, and socket.io keeps order per socket;
 * so "X was not delivered" is proven by a later event on the same socket arriving without it.
 */
import type { RealtimeEvent } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  collectChanges,
  connected,
  createMembership,
  handshake,
  record,
  revise,
  signToken,
  startFixture,
  syncOk,
  tokenAuthenticate,
  type ClientSocket,
  type Fixture,
} from './harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

async function setup(members: Record<string, string[]>) {
  const membership = createMembership(members)
  fixture = await startFixture({ authenticate: tokenAuthenticate, authorize: membership.authorize })
  const f = fixture
  const as = async (user: string): Promise<ClientSocket> => {
    const socket = f.connect(handshake({ token: signToken({ sub: user, exp: Date.now() + 3_600_000 }) }))
    await connected(socket)
    return socket
  }
  return { membership, as, fixture: f }
}

/** Everything a socket was told, flattened: `row:uid:title`, `evict:uid`, `tombstone:uid`. */
function told(events: RealtimeEvent[], subscription?: string): string[] {
  return events
    .filter((e) => subscription === undefined || e.subscription === subscription)
    .flatMap((e) => [
      ...e.rows.map((r) => `row:${String(r[0])}:${String(r[4])}`),
      ...e.evict.map(([uid]) => `evict:${uid}`),
      ...e.tombstones.map((t) => `tombstone:${t[0]}`),
    ])
}

describe('realtime fan-out', () => {
  it('sends rows to matching subscriptions only, a move-out as evict, a delete as tombstone', async () => {
    const { as } = await setup({ alice: ['pA'] })
    const [writer, open, closed] = await Promise.all([as('alice'), as('alice'), as('alice')])
    const openEvents = collectChanges(open)
    const closedEvents = collectChanges(closed)
    await syncOk(open, { table: 'todos', where: { done: false }, subscription: 'open' })
    await syncOk(closed, { table: 'todos', where: { done: true }, subscription: 'closed' })

    const created = record({ project: 'pA', title: 'milk', done: false })
    await syncOk(writer, { table: 'todos', push: [created] })
    await expect.poll(() => told(openEvents)).toEqual([`row:${created.uid}:milk`])

    const event = openEvents[0] as RealtimeEvent
    expect(event).toMatchObject({ subscription: 'open', table: 'todos', columns: ['project', 'title', 'done'], tombstones: [], evict: [] })
    expect(event.rows[0]).toEqual([created.uid, created.created_at, created.updated_at, 'pA', 'milk', false])
    expect(event.rev).toBeGreaterThan(0)
    expect(event.firstRev).toBe(event.rev) // one record: its rev is the span

    const finished = revise(created, { project: 'pA', title: 'milk', done: true })
    await syncOk(writer, { table: 'todos', push: [finished] })
    await expect.poll(() => told(openEvents)).toEqual([`row:${created.uid}:milk`, `evict:${created.uid}`])
    // The eviction carries the version the server found outside the scope.
    expect(openEvents.at(-1)?.evict).toEqual([[created.uid, finished.updated_at]])
    await expect.poll(() => told(closedEvents)).toEqual([`row:${created.uid}:milk`]) // a move-in; the create was never sent here

    const deleted = revise(finished, null)
    await syncOk(writer, { table: 'todos', push: [deleted] })
    await expect.poll(() => told(closedEvents)).toEqual([`row:${created.uid}:milk`, `tombstone:${created.uid}`])
    // The open scope never held the record since it moved out: it hears nothing of the delete.
    const marker = record({ project: 'pA', title: 'marker', done: false })
    await syncOk(writer, { table: 'todos', push: [marker] })
    await expect.poll(() => told(openEvents)).toEqual([`row:${created.uid}:milk`, `evict:${created.uid}`, `row:${marker.uid}:marker`])
    expect(openEvents.at(-1)?.tombstones).toEqual([])
  })

  it('never sends a tenant another tenant’s change, whatever its filter asks for (I8)', async () => {
    const { as } = await setup({ alice: ['pA'], bob: ['pB'] })
    // Each user writes through another socket (another tab): a socket is not told its own commits.
    const [alice, bob, aliceTab, bobTab] = await Promise.all([as('alice'), as('bob'), as('alice'), as('bob')])
    const aliceEvents = collectChanges(alice)
    const bobEvents = collectChanges(bob)
    await syncOk(alice, { table: 'todos', subscription: 'all' })
    await syncOk(bob, { table: 'todos', subscription: 'all' })
    await syncOk(bob, { table: 'todos', where: { project: 'pA' }, subscription: 'spy' })
    await syncOk(bob, { table: 'todos', where: { project: { in: ['pA', 'pB'] } }, subscription: 'spy2' })

    const a1 = record({ project: 'pA', title: 'secret', done: false })
    await syncOk(aliceTab, { table: 'todos', push: [a1] })
    await syncOk(aliceTab, { table: 'todos', push: [revise(a1, { project: 'pA', title: 'secret2', done: true })] })
    await syncOk(aliceTab, { table: 'todos', push: [revise(revise(a1, { project: 'pA', title: 'x', done: true }), null)] })
    const b1 = record({ project: 'pB', title: 'mine', done: false })
    await syncOk(bobTab, { table: 'todos', push: [b1] })

    await expect.poll(() => told(bobEvents, 'all')).toEqual([`row:${b1.uid}:mine`])
    await expect.poll(() => told(bobEvents, 'spy2')).toEqual([`row:${b1.uid}:mine`])
    expect(told(bobEvents, 'spy')).toEqual([])
    expect(JSON.stringify(bobEvents)).not.toContain(a1.uid)
    await expect.poll(() => told(aliceEvents).length).toBe(3)
    expect(JSON.stringify(aliceEvents)).not.toContain(b1.uid)
  })

  it('stops sending to a scope once unsubscribed', async () => {
    const { as } = await setup({ alice: ['pA'] })
    const [writer, reader] = await Promise.all([as('alice'), as('alice')])
    const events = collectChanges(reader)
    await syncOk(reader, { table: 'todos', subscription: 'a' })
    await syncOk(reader, { table: 'todos', where: { done: false }, subscription: 'b' })
    const ack = await (reader.timeout(5_000) as unknown as { emitWithAck(ev: string, arg: unknown): Promise<unknown> }).emitWithAck('lw:unsubscribe', {
      subscription: 'a',
    })
    expect(ack).toEqual({ ok: true, data: null })
    const r = record({ project: 'pA', title: 't', done: false })
    await syncOk(writer, { table: 'todos', push: [r] })
    await expect.poll(() => events.length).toBe(1)
    expect(events[0]?.subscription).toBe('b')
  })
})

describe('membership revoked mid-session (S07, V8)', () => {
  it('stops realtime at once, then the next sync resyncs and full reconciliation evicts', async () => {
    const { as, membership } = await setup({ carol: ['pA', 'pB'], writer: ['pA', 'pB'] })
    const [writer, carol] = await Promise.all([as('writer'), as('carol')])
    const events = collectChanges(carol)

    const a = record({ project: 'pA', title: 'a', done: false })
    const b = record({ project: 'pB', title: 'b', done: false })
    await syncOk(writer, { table: 'todos', push: [a, b] })
    const first = await syncOk(carol, { table: 'todos', subscription: 'all', full: { cursor: null, entries: [], complete: true } })
    expect(first.rows.map((r) => r[0]).sort()).toEqual([a.uid, b.uid].sort())
    expect(first.checkpoint).not.toBeNull()

    membership.revoke('carol', 'pB')
    const b2 = revise(b, { project: 'pB', title: 'b2', done: false })
    const a2 = revise(a, { project: 'pA', title: 'a2', done: false })
    await syncOk(writer, { table: 'todos', push: [b2] })
    await syncOk(writer, { table: 'todos', push: [a2] })
    // pA is still hers: delivered. pB is not any more: not even its uid.
    await expect.poll(() => told(events)).toEqual([`row:${a.uid}:a2`])
    expect(JSON.stringify(events)).not.toContain(b.uid)

    // The checkpoint was issued for the wider scope: the next incremental sync must resync…
    const next = await syncOk(carol, { table: 'todos', checkpoint: first.checkpoint })
    expect(next.mode).toBe('resync')
    // …and full reconciliation removes what she may no longer hold, as for a uid the server does not
    // know (purged: neither its data nor its version is sent, I13).
    const full = await syncOk(carol, {
      table: 'todos',
      full: {
        cursor: null,
        entries: [
          // Acknowledged at the point her first page was read at: part of this database's history (R12).
          [a.uid, a2.updated_at, false, true, first.knownAt],
          [b.uid, b.updated_at, false, true, first.knownAt],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))) as never,
        complete: true,
      },
    })
    expect(full.evict).toEqual([])
    expect(full.purged).toEqual([b.uid])
    expect(JSON.stringify(full.rows)).not.toContain(b.uid)
  })

  it('drops the subscription when authorize refuses reading at all, and never resumes it silently', async () => {
    const { as, membership } = await setup({ dave: ['pA'], writer: ['pA'] })
    const [writer, dave] = await Promise.all([as('writer'), as('dave')])
    const events = collectChanges(dave)
    await syncOk(dave, { table: 'todos', subscription: 'all' })

    membership.revoke('dave', 'pA') // no projects left: authorize answers false → FORBIDDEN
    await syncOk(writer, { table: 'todos', push: [record({ project: 'pA', title: 'hidden', done: false })] })
    membership.grant('dave', 'pA')
    await syncOk(writer, { table: 'todos', push: [record({ project: 'pA', title: 'after regrant', done: false })] })

    // A control subscription made after the regrant proves deliveries reached this socket since.
    await syncOk(dave, { table: 'todos', subscription: 'control' })
    const marker = record({ project: 'pA', title: 'marker', done: false })
    await syncOk(writer, { table: 'todos', push: [marker] })
    await expect.poll(() => told(events, 'control')).toEqual([`row:${marker.uid}:marker`])
    expect(told(events, 'all')).toEqual([])
    const dropped = fixture?.logs.filter((l) => l.msg?.includes('subscription dropped')) ?? []
    expect(dropped).toHaveLength(1)
  })
})
