/** Scenarios run on more than one adapter. */
import { expect } from 'vitest'
import { clientRows, eventually, settle, type Deployment, type TestClient } from './harness.js'

/**
 * A commit on node 0 reaches a subscribed client of node 1 in realtime; a move-out evicts it there; a
 * record of another tenant written on node 2 reaches no socket of the first tenant, and a socket whose
 * scope excludes a record never hears of it (I8) — every decision taken by the node holding the socket.
 */
export async function fanOutScenario(d: Deployment, client: (urls: string | string[], token: string) => TestClient, list: string): Promise<void> {
  const url = (i: number): string => (d.nodes[i] as { url: string }).url
  const writer = client(url(0), 'acme:alice')
  const reader = client(url(1), 'acme:bob')
  const other = client(url(2), 'rival:carol')
  const unrelated = client(url(2), 'acme:dave')
  writer.items.subscribe({ list }, () => undefined)
  reader.items.subscribe({ list }, () => undefined)
  other.items.subscribe({}, () => undefined)
  unrelated.items.subscribe({ list: `${list}-elsewhere` }, () => undefined)
  await Promise.all([writer, reader, other, unrelated].map((c) => settle(c.client)))
  const before = (await d.nodes[1]!.stats()).received

  const uid = await writer.items.create({ list, title: 'from node 0', done: false, n: 1, body: null })
  // Realtime only: the reader does not sync (its only scope is already synced and it writes nothing).
  await eventually(async () => expect((await clientRows(reader, { list })).map((r) => r.uid)).toEqual([uid]), 3_000)
  expect(reader.seen().has(uid)).toBe(true)
  expect((await d.nodes[1]!.stats()).received).toBeGreaterThan(before)

  // A move-out: the record leaves the reader's scope; it is evicted through realtime.
  await writer.items.update(uid, { list: `${list}-moved` })
  await eventually(async () => expect(await clientRows(reader, { list })).toEqual([]), 3_000)

  // A record of the other tenant, written on node 2, reaches none of acme's sockets, not even its uid.
  const foreign = await other.items.create({ list, title: 'rival', done: false, n: null, body: null })
  await settle(other.client)
  await new Promise((r) => setTimeout(r, 300))
  for (const c of [writer, reader, unrelated]) expect(c.seen().has(foreign)).toBe(false)
  // … and acme's record never reached the rival, nor the acme socket whose scope excludes it.
  expect(other.seen().has(uid)).toBe(false)
  expect(unrelated.seen().has(uid)).toBe(false)
  expect((await d.sql('SELECT tenant FROM items WHERE uid = $1', [uid]))[0]).toEqual({ tenant: 'acme' })
}
