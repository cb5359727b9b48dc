/**
 * The previous protocol is served through the adapter (protocol-adapter.ts; SPEC.md section 11,
 * "Protocol versions"): a client of protocol 6 connects, gets the same hello, pushes and pulls with
 * `lw:sync` as it always did; `lw:push` (protocol 7, section 12) is the current protocol's only: one
 * older than that is told to upgrade (handshake.test.ts).
 */
import { PREVIOUS_PROTOCOL_VERSION, PROTOCOL_VERSION, pushAnswerSchema, type PushAnswer, type Reply, type TableDescriptor } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import { helloFor } from '../../src/transport/protocol-adapter.js'
import { collectChanges, connected, handshake, record, startFixture, syncOk, waitFor, type ClientSocket, type Fixture } from './harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

function push(socket: ClientSocket, request: unknown): Promise<Reply<PushAnswer>> {
  return (socket.timeout(5_000) as unknown as { emitWithAck(ev: string, ...args: unknown[]): Promise<Reply<PushAnswer>> }).emitWithAck('lw:push', request)
}

describe(`protocol ${PREVIOUS_PROTOCOL_VERSION} through the adapter`, () => {
  it('gets the hello of the current shapes, with its own version', async () => {
    fixture = await startFixture()
    const hello = await connected(fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION })))
    expect(hello.protocolVersion).toBe(PREVIOUS_PROTOCOL_VERSION)
    expect(hello.tables.find((t) => t.name === 'todos')?.schemaVersion).toBe(1)
    const current = await connected(fixture.connect(handshake()))
    expect(current.protocolVersion).toBe(PROTOCOL_VERSION)
    expect(current.tables).toEqual(hello.tables)
  })

  it('pushes with lw:sync and pulls; a current client pushing with lw:push sees its write and it sees theirs', async () => {
    fixture = await startFixture()
    const old = fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION }))
    await connected(old)
    const now = fixture.connect(handshake())
    await connected(now)
    const mine = record({ project: 'p', title: 'from protocol 6', done: false })
    const pushed = await syncOk(old, { table: 'todos', push: [mine], schemaVersion: 1 })
    expect(pushed.outcomes).toEqual([{ uid: mine.uid, status: 'applied' }])
    const theirs = record({ project: 'p', title: 'from protocol 7', done: true })
    const reply = await push(now, { units: [{ atomic: false, groups: [{ table: 'todos', schemaVersion: 1, records: [theirs] }] }] })
    expect(reply.ok).toBe(true)
    expect(pushAnswerSchema.parse(reply.ok ? reply.data : null).units[0]?.outcomes).toEqual([{ uid: theirs.uid, status: 'applied' }])
    const page = await syncOk(old, { table: 'todos', full: { cursor: null, entries: [], complete: true } })
    const titles = page.rows.map((row) => row[page.columns.indexOf('title') + 3]).sort()
    expect(titles).toEqual(['from protocol 6', 'from protocol 7'])
    // Incremental from the checkpoint it was given, and realtime for its subscription.
    const events = collectChanges(old)
    await syncOk(old, { table: 'todos', checkpoint: page.checkpoint, subscription: 'old' })
    const later = record({ project: 'p', title: 'later', done: false })
    expect((await push(now, { units: [{ atomic: true, groups: [{ table: 'todos', records: [later] }] }] })).ok).toBe(true)
    await waitFor(() => events.length > 0, 5_000, 'a realtime event')
    const incremental = await syncOk(old, { table: 'todos', checkpoint: page.checkpoint })
    expect(incremental.mode).toBe('incremental')
    expect(incremental.rows.map((row) => row[0])).toEqual([later.uid])
  })

  it('lw:push is not protocol 6: refused, typed, nothing written', async () => {
    fixture = await startFixture()
    const old = fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION }))
    await connected(old)
    const before = fixture.snapshot()
    const reply = await push(old, { units: [{ atomic: false, groups: [{ table: 'todos', records: [record({ project: 'p', title: 't', done: false })] }] }] })
    expect(reply.ok ? null : reply.error.code).toBe('BAD_REQUEST')
    expect(fixture.snapshot()).toBe(before)
  })
})

describe('lw:push bad inputs: typed, bounded, never echoed, nothing written', () => {
  const ok = (uid?: string) => record({ project: 'p', title: 'ok', done: false }, uid)
  const group = (records: unknown[], table = 'todos') => ({ table, records })
  const cases: Array<[string, unknown, string]> = [
    ['not an object', 'units', 'BAD_REQUEST'],
    ['no units', { units: [] }, 'BAD_REQUEST'],
    ['an unknown key', { units: [{ atomic: true, groups: [group([ok()])] }], secret: 'x'.repeat(200) }, 'BAD_REQUEST'],
    ['a unit without groups', { units: [{ atomic: true, groups: [] }] }, 'BAD_REQUEST'],
    ['a group without records', { units: [{ atomic: true, groups: [group([])] }] }, 'BAD_REQUEST'],
    ['too many groups', { units: [{ atomic: false, groups: Array.from({ length: 1_001 }, () => group([ok()])) }] }, 'BAD_REQUEST'],
    ['too many units', { units: Array.from({ length: 1_001 }, () => ({ atomic: false, groups: [group([ok()])] })) }, 'BAD_REQUEST'],
    ['a malformed record', { units: [{ atomic: false, groups: [group([{ ...ok(), created_at: 'yesterday' }])] }] }, 'BAD_REQUEST'],
    ['a pollution key', { units: [{ atomic: false, groups: [group([{ ...ok(), row: JSON.parse('{"__proto__": {"x": 1}}') as object }])] }] }, 'FORBIDDEN_KEY'],
    ['an unknown table (the first unit valid)', { units: [{ atomic: false, groups: [group([ok()])] }, { atomic: false, groups: [group([ok()], 'secret_table_name')] }] }, 'UNKNOWN_TABLE'],
  ]
  for (const [what, request, code] of cases) {
    it(what, async () => {
      fixture ??= await startFixture()
      const socket = fixture.connect(handshake())
      await connected(socket)
      const before = fixture.snapshot()
      const reply = await push(socket, request)
      expect(reply.ok ? null : reply.error.code).toBe(code)
      if (!reply.ok) expect(JSON.stringify(reply.error)).not.toMatch(/x{200}|yesterday/)
      expect(fixture.snapshot()).toBe(before)
      socket.disconnect()
    })
  }

  it('more records than the server`s maxPushRecords: TOO_LARGE, nothing written', async () => {
    fixture = await startFixture({ limits: { maxPushRecords: 2 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    const before = fixture.snapshot()
    const reply = await push(socket, { units: [{ atomic: false, groups: [group([ok(), ok()])] }, { atomic: true, groups: [group([ok()])] }] })
    expect(reply.ok ? null : reply.error.code).toBe('TOO_LARGE')
    expect(fixture.snapshot()).toBe(before)
  })
})

describe(`a table keyed by the app's own key, told to a protocol ${PREVIOUS_PROTOCOL_VERSION} client`, () => {
  it('is described keyed `uid` (no key, keyType or foreignKeys; its schema version and merge mode kept) with its uuid columns as text, which its descriptors know', () => {
    const items: TableDescriptor = {
      name: 'items',
      key: 'id',
      keyType: 'uuid',
      columns: [
        { name: 'name', type: 'text', nullable: false, writable: true },
        { name: 'owner', type: 'uuid', nullable: true, writable: true },
      ],
    }
    const [told] = helloFor(PREVIOUS_PROTOCOL_VERSION, 0, [{ ...items, schemaVersion: 2, merge: 'field', foreignKeys: [{ column: 'owner', references: 'owners', onDelete: 'cascade', onUpdate: 'no action' }] }]).tables
    expect(told).toEqual({
      name: 'items',
      schemaVersion: 2,
      merge: 'field',
      columns: [
        { name: 'name', type: 'text', nullable: false, writable: true },
        { name: 'owner', type: 'text', nullable: true, writable: true },
      ],
    })
    expect(helloFor(PROTOCOL_VERSION, 0, [items]).tables).toEqual([items])
  })

  it('its pushes and pulls carry the uid as `uid`, as every protocol does', async () => {
    fixture = await startFixture({ keyed: true })
    const old = fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION }))
    const hello = await connected(old)
    const told = hello.tables.find((t) => t.name === 'labels')
    expect(told).toMatchObject({ name: 'labels', columns: [{ name: 'text', type: 'text', nullable: false, writable: true }] })
    expect(told).not.toHaveProperty('key')
    const now = fixture.connect(handshake())
    expect((await connected(now)).tables.find((t) => t.name === 'labels')?.key).toBe('id')
    const mine = { ...record({}), uid: 'label-1', row: { text: 'from protocol 6' } }
    expect((await syncOk(old, { table: 'labels', push: [mine] })).outcomes).toEqual([{ uid: 'label-1', status: 'applied' }])
    const page = await syncOk(now, { table: 'labels', full: { cursor: null, entries: [], complete: true } })
    expect(page.rows.map((row) => [row[0], row[3]])).toEqual([['label-1', 'from protocol 6']])
  })
})
