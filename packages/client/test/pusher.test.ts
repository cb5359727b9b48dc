/**
 * The pusher (SPEC.md section 12) against a server scripted on `lw:push`: every dirty record goes through
 * `lw:push` at once after a write — a table no scope covers included — in write order, a transaction as
 * one atomic unit; scopes' `lw:sync` then carry no pushes; an answer's outcomes are applied per record
 * (UNIT_REFUSED kept and told like any refusal, a unit whose culprit is a schema the client will upgrade
 * to left dirty whole), and the scopes of a pushed table remember the answer's point (`seen`, B16).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { LastwordError, PROTOCOL_VERSION, type PushAnswer, type PushOutcome, type PushRequest, type Reply, type SyncRequest, type TableDescriptor } from '@lastword/core'
import { createSyncClient, type EditEvent, type SyncClient } from '../src/index.js'
import type { Transport, TransportHandlers } from '../src/transport.js'
import { eventually, page, stamp } from './helpers.js'

const lists: TableDescriptor = { name: 'lists', columns: [{ name: 'name', type: 'text', nullable: false, writable: true }] }
const items: TableDescriptor = { name: 'items', columns: [{ name: 'title', type: 'text', nullable: false, writable: true }] }
const POINT = 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.7'

interface Scripted {
  transport: Transport
  pushes: PushRequest[]
  syncs: SyncRequest[]
  /** Answers a push: every record applied unless it returns outcomes of its own for a unit. */
  answer: (unit: PushRequest['units'][number], index: number) => PushOutcome[] | null
  /** The rows (`[uid, created_at, updated_at, title]` of items) a full reconciliation answers. */
  full: unknown[][]
  /** While set, \`lw:sync\` requests wait for it. */
  gate: Promise<void> | null
  /** While set, \`lw:push\` answers wait for it (the push is applied, its answer late). */
  pushGate: Promise<void> | null
  /** The evictions (\`[uid, version]\` of items) an incremental pull answers. */
  evict: [string, string][]
  connect(): void
}

function scripted(): Scripted {
  let handlers: TransportHandlers | null = null
  let connected = false
  const s: Scripted = {
    pushes: [],
    syncs: [],
    answer: () => null,
    full: [],
    gate: null,
    pushGate: null,
    evict: [],
    transport: {
      open(h) {
        handlers = h
      },
      close() {
        connected = false
        handlers = null
      },
      async request(event, payload) {
        if (!connected) throw new LastwordError('TRANSIENT', 'offline')
        if (event === 'lw:push') {
          const request = structuredClone(payload as PushRequest)
          s.pushes.push(request)
          if (s.pushGate !== null) await s.pushGate
          const reply: Reply<PushAnswer> = {
            ok: true,
            data: {
              receivedAt: Date.now(),
              answeredAt: Date.now(),
              units: request.units.map((unit, i) => ({ outcomes: s.answer(unit, i) ?? unit.groups.flatMap((g) => g.records.map((r) => ({ uid: r.uid, status: 'applied' as const }))) })),
              knownAt: POINT,
            },
          }
          return reply as never
        }
        if (event === 'lw:sync') {
          const request = structuredClone(payload as SyncRequest)
          s.syncs.push(request)
          if (s.gate !== null) await s.gate
          const full = request.full !== undefined && request.table === 'items'
          const evict = request.full === undefined && request.table === 'items' ? s.evict : []
          return page(request, { checkpoint: 'lw1.1.00000000000000', columns: full ? ['title'] : [], rows: full ? s.full : [], evict }) as never
        }
        return { ok: true, data: null } as never
      },
    },
    connect() {
      // Throws until the client has opened the transport.
      if (handlers === null) throw new Error('not opened yet')
      connected = true
      handlers.onConnect()
      handlers.onHello({ protocolVersion: PROTOCOL_VERSION, serverTime: Date.now(), tables: [lists, items] })
    },
  }
  return s
}

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

async function offline(): Promise<{ client: SyncClient; server: Scripted }> {
  const server = scripted()
  const client = createSyncClient({ name: `pusher-${Math.random()}`, store: 'memory', tables: [lists, items], transport: server.transport, tabs: false })
  clients.push(client)
  await client.ready()
  return { client, server }
}

async function online(): Promise<{ client: SyncClient; server: Scripted }> {
  const { client, server } = await offline()
  await eventually(() => server.connect())
  await eventually(() => expect(client.status).toBe('online'))
  return { client, server }
}

const uidsOf = (request: PushRequest | undefined) => request?.units.map((u) => `${u.atomic ? 'A' : 'n'}:${u.groups.map((g) => `${g.table}[${g.records.map((r) => r.row?.['name'] ?? r.row?.['title']).join(',')}]`).join('')}`)

describe('the pusher', () => {
  it('pushes a write at once through lw:push, with no scope of its table and no debounce wait', async () => {
    const { client, server } = await online()
    await client.table('items').create({ title: 'milk' })
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    expect(uidsOf(server.pushes[0])).toEqual(['n:items[milk]'])
    expect(server.syncs).toEqual([])
  })

  it('a transaction goes as one atomic unit, in write order across tables; scopes pull without pushing', async () => {
    const { client, server } = await offline()
    client.table('items').subscribe({}, () => undefined)
    await client.table('lists').create({ name: 'before' })
    await client.transaction(async (tx) => {
      await tx.table('items').create({ title: 'child' })
      await tx.table('lists').create({ name: 'parent' })
      await tx.table('items').create({ title: 'second' })
    })
    await client.table('items').create({ title: 'after' })
    await eventually(() => server.connect())
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    expect(server.pushes.flatMap((p) => uidsOf(p))).toEqual(['n:lists[before]', 'A:items[child]lists[parent]items[second]', 'n:items[after]'])
    for (const sync of server.syncs) expect(sync.push).toEqual([])
  })

  it('the scopes of a pushed table remember the answer`s point (seen, B16); other tables` do not', async () => {
    const { client, server } = await online()
    client.table('items').subscribe({}, () => undefined)
    client.table('lists').subscribe({}, () => undefined)
    const scopes = (table: string) => client.store.transaction('readonly', (tx) => tx.listScopes(table))
    await eventually(async () => expect((await scopes('items')).map((s) => s.checkpoint)).toEqual(['lw1.1.00000000000000']))
    await eventually(async () => expect((await scopes('lists')).map((s) => s.checkpoint)).toEqual(['lw1.1.00000000000000']))
    await client.table('items').create({ title: 'milk' })
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    expect(server.pushes).toHaveLength(1)
    expect((await scopes('items')).map((s) => s.seen)).toEqual([POINT])
    expect((await scopes('lists')).map((s) => s.seen)).toEqual([undefined])
  })

  it('UNIT_REFUSED is kept and told like any refusal; retrying one record retries the unit', async () => {
    const { client, server } = await online()
    const edits: EditEvent[] = []
    client.on('edit', (e) => edits.push(e))
    let refuse = true
    server.answer = (unit) => {
      if (!unit.atomic || !refuse) return null
      const records = unit.groups.flatMap((g) => g.records)
      const culprit = records[records.length - 1]!.uid
      return records.map((r) =>
        r.uid === culprit
          ? { uid: r.uid, status: 'rejected', error: { code: 'FORBIDDEN', message: 'no' } }
          : { uid: r.uid, status: 'rejected', error: { code: 'UNIT_REFUSED', message: 'unit', details: { table: 'items', uid: culprit } } },
      )
    }
    const [list, item] = await client.transaction(async (tx) => [await tx.table('lists').create({ name: 'l' }), await tx.table('items').create({ title: 'i' })])
    await eventually(() => expect(edits).toHaveLength(2))
    expect(edits.find((e) => e.uid === list)).toMatchObject({ kind: 'rejected', error: { code: 'UNIT_REFUSED', details: { uid: item } } })
    expect((await client.rejected()).map((r) => r.uid).sort()).toEqual([list, item].sort())
    refuse = false
    await client.retry('lists', list!)
    await eventually(async () => expect(await client.rejected()).toEqual([]))
    expect(uidsOf(server.pushes.at(-1))).toEqual(['A:lists[l]items[i]'])
  })

  it('B25: an edit refused PARENT_DELETED is dropped and its table reconciles in full at once, bringing back the server`s state pulled before the refusal (P9)', async () => {
    const { client, server } = await online()
    const edits: EditEvent[] = []
    client.on('edit', (e) => edits.push(e))
    client.table('items').subscribe({}, () => undefined)
    const items = client.table<{ title: string }>('items')
    const uid = await items.create({ title: 'mine' })
    await eventually(async () => expect(await items.record(uid)).toMatchObject({ dirty: false, acknowledged: true }))
    const scopes = () => client.store.transaction('readonly', (tx) => tx.listScopes('items'))
    await eventually(async () => expect((await scopes()).map((s) => s.checkpoint)).toEqual(['lw1.1.00000000000000']))
    // The server's state of the record (its list deleted, the reference cleared), behind the scope's
    // checkpoint: an incremental pull never brings it again.
    const created = (await items.record(uid))!.created_at
    server.full = [[uid, created, stamp(parseInt(created.slice(0, 12), 16) + 1), 'server']]
    server.answer = (unit) => unit.groups.flatMap((g) => g.records.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'PARENT_DELETED', message: 'its list was deleted' } })))
    const fullBefore = server.syncs.filter((r) => r.full !== undefined).length
    await items.update(uid, { title: 'edited under a deleted parent' })
    await eventually(() => expect(edits).toEqual([{ kind: 'rejected', table: 'items', uid, error: { code: 'PARENT_DELETED', message: 'its list was deleted' } }]))
    await eventually(async () => expect(await items.record(uid)).toMatchObject({ row: { title: 'server' }, dirty: false }), 2_000)
    expect(server.syncs.filter((r) => r.full !== undefined).length).toBeGreaterThan(fullBefore)
    expect(await client.rejected()).toEqual([])
    expect(await client.pendingCount()).toBe(0)
  })

  it('B25: a pull in flight when the edit is refused, read from the old checkpoint, does not end the reconciliation', async () => {
    const { client, server } = await online()
    const edits: EditEvent[] = []
    client.on('edit', (e) => edits.push(e))
    client.table('items').subscribe({}, () => undefined)
    const items = client.table<{ title: string }>('items')
    const uid = await items.create({ title: 'mine' })
    await eventually(async () => expect(await items.record(uid)).toMatchObject({ dirty: false, acknowledged: true }))
    const scopes = () => client.store.transaction('readonly', (tx) => tx.listScopes('items'))
    await eventually(async () => expect((await scopes()).map((s) => s.checkpoint)).toEqual(['lw1.1.00000000000000']))
    const created = (await items.record(uid))!.created_at
    server.full = [[uid, created, stamp(parseInt(created.slice(0, 12), 16) + 1), 'server']]
    // An incremental pull goes out and waits; meanwhile the edit is refused and its copy dropped.
    let open!: () => void
    server.gate = new Promise((resolve) => (open = resolve))
    const before = server.syncs.length
    const syncing = client.sync().catch(() => undefined)
    await eventually(() => expect(server.syncs.length).toBeGreaterThan(before))
    server.answer = (unit) => unit.groups.flatMap((g) => g.records.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'PARENT_DELETED', message: 'its list was deleted' } })))
    await items.update(uid, { title: 'edited under a deleted parent' })
    await eventually(() => expect(edits).toHaveLength(1))
    server.gate = null
    open()
    await syncing
    await eventually(async () => expect(await items.record(uid)).toMatchObject({ row: { title: 'server' }, dirty: false }), 2_000)
  })

  it('B29: a push applied before another client moved the record out, answered after the scope`s pull evicted it (E1 kept the dirty copy), removes the copy (P10)', async () => {
    const { client, server } = await online()
    client.table('items').subscribe({}, () => undefined)
    const items = client.table<{ title: string }>('items')
    const uid = await items.create({ title: 'mine' })
    await eventually(async () => expect(await items.record(uid)).toMatchObject({ dirty: false, acknowledged: true }))
    // The edit's push is applied by the server, its answer late; meanwhile another client's newer write
    // takes the record out of the scope, and the scope's pull says so while the copy is still dirty.
    let open!: () => void
    server.pushGate = new Promise((resolve) => (open = resolve))
    const pushesBefore = server.pushes.length
    await items.update(uid, { title: 'edited' })
    await eventually(() => expect(server.pushes.length).toBeGreaterThan(pushesBefore))
    const edited = (await items.record(uid))!.updated_at
    server.evict = [[uid, stamp(parseInt(edited.slice(0, 12), 16) + 1)]]
    const scope = async () => (await client.store.transaction('readonly', (tx) => tx.listScopes('items')))[0]
    const syncedBefore = (await scope())?.syncedAt
    const syncing = client.sync()
    await eventually(async () => expect((await scope())?.syncedAt).not.toBe(syncedBefore))
    expect(await items.record(uid)).toMatchObject({ dirty: true, row: { title: 'edited' } })
    server.pushGate = null
    open()
    await syncing
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    expect(await items.record(uid)).toBeNull()
  })

  it('a unit whose culprit is SCHEMA_OUTDATED stays dirty whole, the others not marked refused', async () => {
    const { client, server } = await online()
    server.answer = (unit) => {
      const records = unit.groups.flatMap((g) => g.records)
      return records.map((r, i) =>
        i === 0 ? { uid: r.uid, status: 'rejected', error: { code: 'SCHEMA_OUTDATED', message: 'old', details: { table: 'lists', schemaVersion: 1, current: 2 } } } : { uid: r.uid, status: 'rejected', error: { code: 'UNIT_REFUSED', message: 'unit', details: { table: 'lists', uid: records[0]!.uid } } },
      )
    }
    await client.transaction(async (tx) => {
      await tx.table('lists').create({ name: 'l' })
      await tx.table('items').create({ title: 'i' })
    })
    await eventually(() => expect(server.pushes.length).toBeGreaterThan(0))
    await client.sync().catch(() => undefined)
    expect(await client.pendingCount()).toBe(2)
    expect(await client.rejected()).toEqual([])
  })
})
