/**
 * `client.inspect()`: a plain snapshot of what the client knows — scopes and checkpoints, dirty records
 * and why each waits (no connection, in flight, waiting to retry, queued), refused records, errors, the
 * clock and the tab role.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { INSPECT_LIMITS, LastwordError, createMemoryStore, createSyncClient, type ClientInspection, type SyncClient, type SyncClientOptions } from '../src/index.js'
import { createClientClock } from '../src/clock.js'
import { createInspector } from '../src/inspect.js'
import { createManualRuntime } from '../src/testing/index.js'
import { createScriptedServer, eventually, newIndexedDB, page, todosTable, type ScriptedServer, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

let counter = 0
function setup(server: ScriptedServer | null, options: Partial<SyncClientOptions> = {}): SyncClient {
  const client = createSyncClient({
    name: `inspect-${counter++}`,
    tables: [todosTable],
    store: 'memory',
    transport: server?.transport,
    retry: { baseMs: 60_000, maxMs: 60_000 },
    ...options,
  })
  clients.push(client)
  return client
}

/** The snapshot survives JSON unchanged: it is plain data. */
async function inspect(client: SyncClient): Promise<ClientInspection> {
  const snapshot = await client.inspect()
  expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot)
  return snapshot
}

describe('client.inspect()', () => {
  it('tells an offline client’s writes wait for a connection, with its scopes, clock and tab role', async () => {
    const client = setup(null)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'offline', done: false })
    const stop = todos.subscribe({ done: false }, () => undefined)
    await client.ready()
    await eventually(async () => expect((await inspect(client)).scopes).toHaveLength(1))
    const snapshot = await inspect(client)
    expect(snapshot).toMatchObject({
      name: client.name,
      clientId: client.clientId,
      status: 'offline',
      tab: { role: 'owner' },
      clock: { offsetMs: 0, skewMs: null, refused: null },
      pending: { count: 1, records: [{ table: 'todos', uid, change: 'new', state: 'waiting-for-connection', restamped: false }] },
      rejected: [],
      errors: [],
      lastSync: null,
    })
    expect(snapshot.clock.lastStamp).toBe(snapshot.pending.records[0]!.stamp)
    expect(snapshot.scopes[0]).toMatchObject({ table: 'todos', where: { done: false }, stored: false, hasCheckpoint: false, checkpoint: null, lastSyncAt: null, holders: 1, running: false, retry: null })
    stop()
    expect((await inspect(client)).scopes).toEqual([]) // released before any sync stored it
  })

  it('tells a push in flight, then the scope’s checkpoint and last sync once answered', async () => {
    const answers: Array<() => void> = []
    const server = createScriptedServer((request) => new Promise((resolve) => answers.push(() => resolve(page(request, { checkpoint: 'lw1.7.00000000000000' })))))
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'sent', done: false })
    todos.subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    // The scope's pull and the record's lw:push, both awaiting their answers.
    await eventually(() => expect(server.requests).toHaveLength(2))
    expect(server.pushes).toHaveLength(1)
    const during = await inspect(client)
    expect(during.pending.records).toMatchObject([{ uid, state: 'in-flight', change: 'new' }])
    expect(during.scopes[0]).toMatchObject({ running: true, holders: 1 })

    // The pull's answer, then the push's.
    const pull = server.requests.findIndex((r) => r.full !== undefined)
    answers[pull]!()
    await eventually(async () => expect((await inspect(client)).scopes[0]).toMatchObject({ running: false }))
    answers[1 - pull]!()
    await eventually(async () => expect((await inspect(client)).pending.count).toBe(0))
    const after = await inspect(client)
    expect(after.scopes[0]).toMatchObject({ stored: true, hasCheckpoint: true, checkpoint: 'lw1.7.00000000000000', running: false })
    expect(after.scopes[0]!.lastSyncAt).toEqual(expect.any(Number))
    expect(after.lastSync).toMatchObject({ table: 'todos', pushed: 1 })

    // A later change of that record is an update of an acknowledged one.
    server.disconnect()
    await todos.update(uid, { done: true })
    expect((await inspect(client)).pending.records).toMatchObject([{ uid, change: 'update', state: 'waiting-for-connection' }])
  })

  it('tells a sync waiting out its backoff after a transient failure', async () => {
    const server = createScriptedServer(() => ({ ok: false, error: { code: 'TRANSIENT', message: 'busy' } }))
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'retry me', done: false })
    todos.subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    await eventually(async () => expect((await inspect(client)).scopes[0]?.retry).not.toBeNull())
    const snapshot = await inspect(client)
    expect(snapshot.scopes[0]!.retry).toMatchObject({ attempt: 1, code: 'TRANSIENT' })
    expect(snapshot.scopes[0]!.retry!.at).toBeGreaterThan(snapshot.at)
    expect(snapshot.pending.records).toMatchObject([{ uid, state: 'waiting-for-retry' }])
  })

  it('lists records the server refused, and the errors reported', async () => {
    const server = createScriptedServer((request) =>
      page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'FORBIDDEN', message: 'not yours' } })) }),
    )
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'refused', done: false })
    todos.subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    await eventually(async () => expect((await inspect(client)).rejected).toHaveLength(1))
    const snapshot = await inspect(client)
    expect(snapshot.rejected).toEqual([{ table: 'todos', uid, key: 'uid', error: { code: 'FORBIDDEN', message: 'not yours' } }])
    expect(snapshot.pending.count).toBe(0)

    // Written again: pending once more, no longer listed as refused.
    server.disconnect()
    await todos.update(uid, { title: 'again' })
    const again = await inspect(client)
    expect(again.rejected).toEqual([])
    expect(again.pending.records).toMatchObject([{ uid, change: 'new', state: 'waiting-for-connection' }]) // never acknowledged
  })

  it('keeps the errors the client reports, newest first', async () => {
    const server = createScriptedServer(() => ({ ok: false, error: { code: 'FORBIDDEN', message: 'no' } }))
    const client = setup(server)
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    await eventually(async () => expect((await inspect(client)).errors).toHaveLength(1))
    expect((await inspect(client)).errors[0]).toMatchObject({ code: 'FORBIDDEN', message: 'no', at: expect.any(Number) })
  })

  it('keeps at most its limit of errors', async () => {
    const runtime = createManualRuntime()
    const inspector = createInspector({
      name: 'n',
      clientId: 'c',
      store: createMemoryStore(),
      runtime,
      clock: async () => createClientClock({ node: 'ffffffffffffffff', clock: runtime }),
      driver: () => null,
      status: () => 'offline',
      isOwner: () => true,
      clockRefused: () => null,
      descriptor: () => undefined,
    })
    for (let i = 0; i < INSPECT_LIMITS.errors + 3; i++) inspector.noteError(new LastwordError('TRANSIENT', `e${i}`))
    const { errors } = await inspector.inspect()
    expect(errors).toHaveLength(INSPECT_LIMITS.errors)
    expect(errors[0]!.message).toBe(`e${INSPECT_LIMITS.errors + 2}`)
  })

  it('tells a follower tab’s role, and that its writes are the owner tab’s to push', async () => {
    const indexedDB = newIndexedDB()
    const name = `inspect-tabs-${counter++}`
    const tab = (): SyncClient => {
      const client = createSyncClient({ name, tables: [todosTable], transport: createScriptedServer().transport, indexedDB, tabs: { leaseMs: 300, heartbeatMs: 50 } })
      clients.push(client)
      return client
    }
    const owner = tab()
    await eventually(() => expect(owner.isOwner).toBe(true))
    const follower = tab()
    await follower.ready()
    expect(follower.isOwner).toBe(false)
    const uid = await follower.table<Todo>('todos').create({ title: 'from the follower', done: false })
    const seen = await inspect(follower)
    expect(seen.tab.role).toBe('follower')
    expect(seen.pending.records).toMatchObject([{ uid, state: 'owner-tab' }])
    const fromOwner = await inspect(owner)
    expect(fromOwner.tab.role).toBe('owner')
    expect(fromOwner.pending.records).toMatchObject([{ uid, state: 'waiting-for-connection' }])
  })

  it('refuses once the client is closed', async () => {
    const client = setup(null)
    await client.close()
    await expect(client.inspect()).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
