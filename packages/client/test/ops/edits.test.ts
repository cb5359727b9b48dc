/**
 * What happened to a local edit (edits/): the `edit` event for a superseded edit (with the winner when
 * the push answer or a later page of the same sync brings it) or a refused one (with its code), and
 * `client.rejected()`, `retry` and `discard`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Stamp } from '@lastword/core'
import { createSyncClient, type EditEvent, type SyncClient, type SyncClientOptions, type SyncReport } from '../../src/index.js'
import { createScriptedServer, eventually, newIndexedDB, page, stamp, todosTable, wireRow, type ScriptedServer, type Todo } from '../helpers.js'
import { editsFromReport } from '../../src/edits/edit-events.js'
import { createMemoryStore } from '../../src/store/memory-store.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

let counter = 0
function setup(server: ScriptedServer, options: Partial<SyncClientOptions> = {}): SyncClient {
  const client = createSyncClient({
    name: `edits-${counter++}`,
    tables: [todosTable],
    transport: server.transport,
    indexedDB: newIndexedDB(),
    retry: { baseMs: 5, maxMs: 20 },
    tabs: false,
    logger: false,
    ...options,
  })
  clients.push(client)
  return client
}

async function start(client: SyncClient, server: ScriptedServer): Promise<{ edits: EditEvent[]; reports: SyncReport[] }> {
  const edits: EditEvent[] = []
  const reports: SyncReport[] = []
  client.on('edit', (e) => edits.push(e))
  client.on('sync', (r) => reports.push(r))
  client.table<Todo>('todos').subscribe({}, () => undefined)
  await client.ready()
  server.connect()
  return { edits, reports }
}

const T0 = Date.now()
const SERVER_ROW = { title: 'server', done: true, priority: null, due: null, tags: null }

describe('edit events', () => {
  it('superseded: carries the winner the push answer gives', async () => {
    const server = createScriptedServer((request) =>
      page(request, {
        outcomes: request.push.map((r) => ({
          uid: r.uid,
          status: 'superseded' as const,
          rule: 'R7 older write superseded',
          winner: { uid: r.uid, created_at: r.created_at, updated_at: stamp(T0 + 60_000), deleted_at: null, row: SERVER_ROW },
        })),
      }),
    )
    const client = setup(server)
    await client.table<Todo>('todos').create({ uid: 'won', title: 'mine', done: false })
    const { edits } = await start(client, server)
    await eventually(() => expect(edits).toHaveLength(1))
    expect(edits[0]).toEqual({
      kind: 'superseded',
      table: 'todos',
      uid: 'won',
      rule: 'R7 older write superseded',
      winner: { row: SERVER_ROW, created_at: expect.any(String), updated_at: stamp(T0 + 60_000), deleted_at: null },
    })
  })

  it('superseded without a winner in the answer (hidden, P4): told with winner null, the local copy removed', async () => {
    const server = createScriptedServer((request) =>
      page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'superseded' as const, rule: 'R9 older write never resurrects', winner: null })) }),
    )
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: 'gone', title: 'mine', done: false })
    const { edits } = await start(client, server)
    await eventually(() => expect(edits).toEqual([{ kind: 'superseded', table: 'todos', uid: 'gone', rule: 'R9 older write never resurrects', winner: null }]))
    expect(await todos.record('gone')).toBeNull()
    expect(await client.pendingCount()).toBe(0)
  })

  it('rejected: carries its typed code', async () => {
    const server = createScriptedServer((request) =>
      page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'FORBIDDEN', message: 'not yours' } })) }),
    )
    const client = setup(server)
    const uid = await client.table<Todo>('todos').create({ title: 'refused', done: false })
    const { edits } = await start(client, server)
    await eventually(() => expect(edits).toHaveLength(1))
    expect(edits[0]).toEqual({ kind: 'rejected', table: 'todos', uid, error: { code: 'FORBIDDEN', message: 'not yours' } })
  })
})

describe('an edit refused PARENT_DELETED (P9)', () => {
  it('is reported, dropped, and its table reconciles in full at once: the server\'s state comes back', async () => {
    const serverRow = wireRow('u1', stamp(T0), stamp(T0), SERVER_ROW)
    const server = createScriptedServer((request) =>
      request.full !== undefined
        ? page(request, { rows: [serverRow] })
        : page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'PARENT_DELETED', message: 'its list was deleted' } })) }),
    )
    const client = setup(server)
    const { edits } = await start(client, server)
    const todos = client.table<Todo>('todos')
    await eventually(async () => expect(await todos.findUnique('u1')).toMatchObject({ title: 'server' }))
    const fullBefore = server.requests.filter((r) => r.full !== undefined).length
    await todos.update('u1', { title: 'edited under a deleted parent' })
    await eventually(() => expect(edits).toEqual([{ kind: 'rejected', table: 'todos', uid: 'u1', error: { code: 'PARENT_DELETED', message: 'its list was deleted' } }]))
    // The refused edit is gone, a full reconciliation followed, and the server's state is back.
    await eventually(async () => expect(await todos.record('u1')).toMatchObject({ row: { title: 'server' }, dirty: false, acknowledged: true }))
    expect(server.requests.filter((r) => r.full !== undefined).length).toBe(fullBefore + 1)
    // Nothing for the app to decide (a retry would be refused again): the record is the server's again.
    expect(await client.rejected()).toEqual([])
    expect(await client.pendingCount()).toBe(0)
  })
})

describe('every refusal a push can get: the `edit` event and `rejected()` agree', () => {
  // Kept (P7, U1): listed until the app retries or discards it. Removed (P5, P9): nothing is left to
  // decide, so not listed; the `edit` event told it either way.
  const cases = [
    { code: 'FORBIDDEN', kept: true },
    { code: 'INVALID_VALUE', kept: true },
    { code: 'UNIT_REFUSED', kept: true },
    { code: 'PURGED', kept: false },
    { code: 'PARENT_DELETED', kept: false },
  ] as const
  it.each(cases)('$code, answered by lw:push: told, and listed exactly when the record is kept ($kept)', async ({ code, kept }) => {
    const server = createScriptedServer((request) => page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code, message: 'no' } })) }))
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'refused', done: false })
    const { edits } = await start(client, server)
    await eventually(() => expect(edits).toEqual([{ kind: 'rejected', table: 'todos', uid, error: { code, message: 'no' } }]))
    expect(server.pushes).toHaveLength(1)
    const record = await todos.record(uid)
    expect(record !== null).toBe(kept)
    expect(await client.rejected()).toEqual(kept ? [{ table: 'todos', uid, error: { code, message: 'no' }, record: expect.objectContaining({ uid, dirty: false }) }] : [])
    expect(await client.pendingCount()).toBe(0)
  })
})

describe('rejected edits: list, retry, discard', () => {
  /** A server that refuses pushes while `refuse` holds, and serves `rows` to full reconciliations. */
  function refusingServer(state: { refuse: boolean; rows: unknown[][] }): ScriptedServer {
    return createScriptedServer((request) => {
      const outcomes = request.push.map((r) =>
        state.refuse ? { uid: r.uid, status: 'rejected' as const, error: { code: 'FORBIDDEN', message: 'not yours' } } : { uid: r.uid, status: 'applied' as const },
      )
      return page(request, { mode: request.full !== undefined ? 'full' : 'incremental', outcomes, rows: request.full !== undefined ? state.rows : [] })
    })
  }

  it('lists a refused edit, retries it as it was (pushed again, same stamps) until the server takes it', async () => {
    const state = { refuse: true, rows: [] as unknown[][] }
    const server = refusingServer(state)
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'refused', done: false })
    const sent = (await todos.record(uid))!
    const { edits } = await start(client, server)
    await eventually(() => expect(edits).toHaveLength(1))
    const listed = await client.rejected()
    expect(listed).toEqual([{ table: 'todos', uid, error: { code: 'FORBIDDEN', message: 'not yours' }, record: expect.objectContaining({ uid, dirty: false }) }])
    expect(await client.rejected('todos')).toHaveLength(1)

    state.refuse = false
    await client.retry('todos', uid)
    await eventually(async () => expect(await todos.record(uid)).toMatchObject({ dirty: false, acknowledged: true }))
    const retried = server.requests.filter((r) => r.push.some((p) => p.uid === uid))
    expect(retried).toHaveLength(2)
    expect(retried[1]!.push.find((p) => p.uid === uid)?.updated_at).toBe(sent.updated_at)
    expect((await todos.record(uid))?.rejected).toBeUndefined()
    expect(await client.rejected()).toEqual([])
  })

  it('B26: a full reconciliation that asks for a refused record leaves it refused for the app to decide, never pushed again (P7)', async () => {
    let uid = ''
    const server = createScriptedServer((request) =>
      page(request, {
        mode: request.full !== undefined ? 'full' : 'incremental',
        outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'FORBIDDEN', message: 'not yours' } })),
        // The server lacks it: a full reconciliation lists it among the records the client should push.
        push: request.full !== undefined ? [uid] : [],
      }),
    )
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    uid = await todos.create({ title: 'refused', done: false })
    const { edits } = await start(client, server)
    await eventually(() => expect(edits).toHaveLength(1))
    // Another scope's first sync: a full reconciliation, which asks for the record again.
    todos.subscribe({ done: false }, () => undefined)
    await eventually(() => expect(server.requests.filter((r) => r.full !== undefined && JSON.stringify(r.where) === JSON.stringify({ done: false }))).not.toHaveLength(0))
    await client.sync()
    expect(server.requests.filter((r) => r.push.some((p) => p.uid === uid))).toHaveLength(1)
    expect(await todos.record(uid)).toMatchObject({ dirty: false, rejected: { code: 'FORBIDDEN' } })
    expect(await client.pendingCount()).toBe(0)
    expect(edits).toHaveLength(1)
  })

  it('discards a refused edit of a record the server never had: removed locally', async () => {
    const server = refusingServer({ refuse: true, rows: [] })
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'refused', done: false })
    const { edits } = await start(client, server)
    await eventually(() => expect(edits).toHaveLength(1))
    await client.discard('todos', uid)
    expect(await todos.record(uid)).toBeNull()
    expect(await client.rejected()).toEqual([])
  })

  it("discards a refused edit of an acknowledged record: the server's version comes back with the next sync", async () => {
    const state = { refuse: false, rows: [] as unknown[][] }
    const server = refusingServer(state)
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'original', done: false })
    const { edits } = await start(client, server)
    await eventually(async () => expect(await todos.record(uid)).toMatchObject({ acknowledged: true, dirty: false }))
    const acknowledged = (await todos.record(uid))!
    state.refuse = true
    await todos.update(uid, { title: 'edit the server refuses' })
    await eventually(() => expect(edits).toHaveLength(1))
    // The server holds the acknowledged version; a full reconciliation sends it to a replica without it.
    state.rows = [wireRow(uid, acknowledged.created_at, acknowledged.updated_at, { title: 'original', done: false })]
    const before = server.requests.length
    await client.discard('todos', uid)
    await eventually(async () => expect(await todos.findUnique(uid)).toMatchObject({ title: 'original' }))
    expect(server.requests.slice(before).some((r) => r.full !== undefined)).toBe(true)
    expect(await todos.record(uid)).toMatchObject({ dirty: false, acknowledged: true })
    expect((await todos.record(uid))?.rejected).toBeUndefined()
  })

  it('retry and discard of a record without a refused edit: NOT_FOUND, nothing changed', async () => {
    const server = refusingServer({ refuse: false, rows: [] })
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'fine', done: false })
    await client.ready()
    const before = await todos.record(uid)
    await expect(client.retry('todos', uid)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(client.discard('todos', uid)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(client.discard('todos', 'no-such-uid')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.not.stringContaining('no-such-uid') })
    await expect(client.retry(42 as never, uid)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await todos.record(uid)).toEqual(before)
  })
})

describe('a push refused PURGED', () => {
  it('is told as rejected with its code; the record goes (P5), so it is not listed', async () => {
    const server = createScriptedServer((request) =>
      page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'PURGED', message: 'purged' } })) }),
    )
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: 'old', title: 'mine', done: false })
    const { edits, reports } = await start(client, server)
    await eventually(() => expect(reports.length).toBeGreaterThanOrEqual(1))
    expect(edits.map((e) => [e.kind, e.uid, e.kind === 'rejected' ? e.error.code : null])).toEqual([['rejected', 'old', 'PURGED']])
    expect(await client.rejected()).toEqual([])
  })
})

describe('edit events in the other tabs', () => {
  it('editsFromReport: refusals as reported, winners read where the owner stored them', async () => {
    const store = createMemoryStore()
    const s = stamp(T0 + 60_000) as Stamp
    await store.transaction('readwrite', async (tx) => {
      await tx.putRecord({ table: 'todos', uid: 'won', row: SERVER_ROW, created_at: s, updated_at: s, deleted_at: null, dirty: false, acknowledged: true })
      await tx.putRecord({ table: 'todos', uid: 'again', row: SERVER_ROW, created_at: s, updated_at: s, deleted_at: null, dirty: true, acknowledged: true })
    })
    const report = {
      table: 'todos',
      superseded: [
        { uid: 'won', winnerStamp: s, rule: 'R7 older write superseded' },
        { uid: 'hidden', winnerStamp: null, rule: 'R9 older write never resurrects' },
        { uid: 'again', winnerStamp: s, rule: 'R7 older write superseded' },
        { uid: 42 },
      ],
      rejected: [{ uid: 'refused', error: { code: 'FORBIDDEN', message: 'not yours' } }, { uid: 'bad', error: 'nope' }],
    }
    expect(await editsFromReport(report, store)).toEqual([
      { kind: 'superseded', table: 'todos', uid: 'won', rule: 'R7 older write superseded', winner: { row: SERVER_ROW, created_at: s, updated_at: s, deleted_at: null } },
      { kind: 'superseded', table: 'todos', uid: 'hidden', rule: 'R9 older write never resurrects', winner: null },
      { kind: 'superseded', table: 'todos', uid: 'again', rule: 'R7 older write superseded', winner: null },
      { kind: 'rejected', table: 'todos', uid: 'refused', error: { code: 'FORBIDDEN', message: 'not yours' } },
    ])
    expect(await editsFromReport({ superseded: [] }, store)).toEqual([])
    expect(await editsFromReport(null, store)).toEqual([])
  })

  it('a follower tab tells the edits of the sync its owner ran', async () => {
    const indexedDB = newIndexedDB()
    const name = `edits-tabs-${counter++}`
    const server = createScriptedServer((request) =>
      page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'FORBIDDEN', message: 'not yours' } })) }),
    )
    const tab = (s: ScriptedServer) => setup(s, { name, indexedDB, tabs: { leaseMs: 300, heartbeatMs: 50 } })
    const a = tab(server)
    await eventually(() => expect(a.isOwner).toBe(true))
    const b = tab(createScriptedServer())
    await b.ready()
    const edits: EditEvent[] = []
    b.on('edit', (e) => edits.push(e))
    a.table<Todo>('todos').subscribe({}, () => undefined)
    server.connect()
    const uid = await b.table<Todo>('todos').create({ title: 'from B', done: false })
    await eventually(() => expect(edits).toEqual([{ kind: 'rejected', table: 'todos', uid, error: { code: 'FORBIDDEN', message: 'not yours' } }]))
    expect(b.isOwner).toBe(false)
  })
})
