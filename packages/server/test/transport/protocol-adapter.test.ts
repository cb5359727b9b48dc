/**
 * The previous protocol is served through the adapter (protocol-adapter.ts; SPEC.md section 11,
 * "Protocol versions"): a client of protocol N−1 connects, gets a hello in its own shapes, pushes and
 * pulls; one older than that is told to upgrade (handshake.test.ts).
 */
import { PREVIOUS_PROTOCOL_VERSION, PROTOCOL_VERSION, type TableDescriptor } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import { helloFor } from '../../src/transport/protocol-adapter.js'
import { collectChanges, connected, handshake, record, startFixture, syncError, syncOk, waitFor, type Fixture } from './harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

describe(`protocol ${PREVIOUS_PROTOCOL_VERSION} through the adapter`, () => {
  it('gets a hello in its own shapes: its version, descriptors without schema versions', async () => {
    fixture = await startFixture()
    const hello = await connected(fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION })))
    expect(hello.protocolVersion).toBe(PREVIOUS_PROTOCOL_VERSION)
    for (const table of hello.tables) expect(Object.keys(table).sort()).toEqual(['columns', 'name'])
    const current = await connected(fixture.connect(handshake()))
    expect(current.protocolVersion).toBe(PROTOCOL_VERSION)
    expect(current.tables.find((t) => t.name === 'todos')?.schemaVersion).toBe(1)
  })

  it('pushes and pulls; a current client sees its write and it sees theirs', async () => {
    fixture = await startFixture()
    const old = fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION }))
    await connected(old)
    const now = fixture.connect(handshake())
    await connected(now)
    const mine = record({ project: 'p', title: 'from protocol 5', done: false })
    const pushed = await syncOk(old, { table: 'todos', push: [mine] })
    expect(pushed.outcomes).toEqual([{ uid: mine.uid, status: 'applied' }])
    const theirs = record({ project: 'p', title: 'from protocol 6', done: true })
    await syncOk(now, { table: 'todos', push: [theirs], schemaVersion: 1 })
    const page = await syncOk(old, { table: 'todos', full: { cursor: null, entries: [], complete: true } })
    const titles = page.rows.map((row) => row[page.columns.indexOf('title') + 3]).sort()
    expect(titles).toEqual(['from protocol 5', 'from protocol 6'])
    // Incremental from the checkpoint it was given, and realtime for its subscription: protocol 5's shapes.
    const events = collectChanges(old)
    await syncOk(old, { table: 'todos', checkpoint: page.checkpoint, subscription: 'old' })
    const later = record({ project: 'p', title: 'later', done: false })
    await syncOk(now, { table: 'todos', push: [later], schemaVersion: 1 })
    await waitFor(() => events.length > 0, 5_000, 'a realtime event')
    const incremental = await syncOk(old, { table: 'todos', checkpoint: page.checkpoint })
    expect(incremental.mode).toBe('incremental')
    expect(incremental.rows.map((row) => row[0])).toEqual([later.uid])
  })

  it('reads a field-merge table as a row table: rows without column stamps, applied outcomes without a state', async () => {
    fixture = await startFixture({ merge: 'field' })
    const old = fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION }))
    const oldHello = await connected(old)
    expect(oldHello.tables.find((t) => t.name === 'todos')).not.toHaveProperty('merge')
    const now = fixture.connect(handshake())
    expect((await connected(now)).tables.find((t) => t.name === 'todos')?.merge).toBe('field')
    const events = collectChanges(old)
    await syncOk(old, { table: 'todos', full: { cursor: null, entries: [], complete: true }, subscription: 'old' })
    // A whole-row push from protocol 5: every column written at the record's version.
    const mine = record({ project: 'p', title: 'from protocol 5', done: false })
    expect((await syncOk(old, { table: 'todos', push: [mine] })).outcomes).toEqual([{ uid: mine.uid, status: 'applied' }])
    // A current client edits one column of it.
    const edit = { ...mine, updated_at: record({}).updated_at, row: { done: true } }
    const answer = await syncOk(now, { table: 'todos', push: [{ ...edit, fields: { done: edit.updated_at } }], schemaVersion: 1 })
    expect(answer.outcomes[0]).toMatchObject({ status: 'applied', state: expect.anything() })
    await waitFor(() => events.length > 0, 5_000, 'a realtime event')
    const width = 3 + oldHello.tables.find((t) => t.name === 'todos')!.columns.length
    for (const event of events as Array<{ rows: unknown[][] }>) for (const row of event.rows) expect(row).toHaveLength(width)
    const page = await syncOk(old, { table: 'todos', full: { cursor: null, entries: [], complete: true } })
    expect(page.rows).toHaveLength(1)
    expect(page.rows[0]).toHaveLength(3 + page.columns.length)
    expect(page.rows[0]![page.columns.indexOf('done') + 3]).toBe(true)
    expect(page.rows[0]![page.columns.indexOf('title') + 3]).toBe('from protocol 5')
  })

  it('a request stating a schema version is not protocol 5: refused, typed, nothing written', async () => {
    fixture = await startFixture()
    const old = fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION }))
    await connected(old)
    const before = fixture.snapshot()
    const error = await syncError(old, { table: 'todos', where: {}, checkpoint: null, push: [record({ project: 'p', title: 't', done: false })], schemaVersion: 1 })
    expect(error.code).toBe('BAD_REQUEST')
    expect(fixture.snapshot()).toBe(before)
  })
})

describe(`a table keyed by the app's own key, told to a protocol ${PREVIOUS_PROTOCOL_VERSION} client`, () => {
  it('is described keyed `uid` (no key, no keyType) with its uuid columns as text, which its descriptors know', () => {
    const items: TableDescriptor = {
      name: 'items',
      key: 'id',
      keyType: 'uuid',
      columns: [
        { name: 'name', type: 'text', nullable: false, writable: true },
        { name: 'owner', type: 'uuid', nullable: true, writable: true },
      ],
    }
    const [told] = helloFor(PREVIOUS_PROTOCOL_VERSION, 0, [items]).tables
    expect(told).toEqual({
      name: 'items',
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
    expect(hello.tables.find((t) => t.name === 'labels')).toEqual({ name: 'labels', columns: [{ name: 'text', type: 'text', nullable: false, writable: true }] })
    const now = fixture.connect(handshake())
    expect((await connected(now)).tables.find((t) => t.name === 'labels')?.key).toBe('id')
    const mine = { ...record({}), uid: 'label-1', row: { text: 'from protocol 5' } }
    expect((await syncOk(old, { table: 'labels', push: [mine] })).outcomes).toEqual([{ uid: 'label-1', status: 'applied' }])
    const page = await syncOk(now, { table: 'labels', full: { cursor: null, entries: [], complete: true } })
    expect(page.rows.map((row) => [row[0], row[3]])).toEqual([['label-1', 'from protocol 5']])
  })
})
