/**
 * Hostile and broken wire input (attack V5, row S05: docs/guarantees.md, docs/test-matrix.md): junk payloads, missing fields, extra keys and
 * pollution keys get a typed error and leave the database unchanged; a request without an ack is
 * ignored; an internal failure never reaches the client with its message; a replayed push changes
 * nothing the second time (I5).
 */
import { PROTOCOL_VERSION } from '@lastword/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connected, handshake, record, sleep, startFixture, syncError, syncOk, syncRequest, type ClientSocket, type Fixture } from './harness.js'

let fixture: Fixture
let socket: ClientSocket
beforeEach(async () => {
  fixture = await startFixture()
  socket = fixture.connect(handshake())
  await connected(socket)
})
afterEach(async () => {
  await fixture.close()
})

const todo = { project: 'p1', title: 'milk', done: false }
const base = { table: 'todos', where: {}, checkpoint: null, push: [] }

/** Sends raw JSON text as the request, so keys like `__proto__` arrive as own properties. */
const raw = (json: string): unknown => JSON.parse(json)

describe('malformed requests', () => {
  it.each([
    ['a string', 'sync please'],
    ['a number', 42],
    ['null', null],
    ['an array', [base]],
    ['an empty object', {}],
    ['a missing table', { where: {}, checkpoint: null, push: [] }],
    ['a missing push', { table: 'todos', where: {}, checkpoint: null }],
    ['a missing checkpoint', { table: 'todos', where: {}, push: [] }],
    ['an extra top-level key', { ...base, admin: true }],
    ['an extra key in a record', { ...base, push: [{ ...record(todo), rev: 999 }] }],
    ['a malformed uid', { ...base, push: [{ ...record(todo), uid: "x'; DROP TABLE todos;--" }] }],
    ['a malformed stamp', { ...base, push: [{ ...record(todo), updated_at: '9999-12-31' }] }],
    ['a non-integer pageSize', { ...base, pageSize: 1.5 }],
    ['a where that is an array', { ...base, where: [1] }],
  ])('refuses %s with BAD_REQUEST and writes nothing', async (_name, request) => {
    const before = fixture.snapshot()
    const error = await syncError(socket, request)
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).not.toMatch(/DROP TABLE/) // errors name the problem, never echo the input
    expect(fixture.snapshot()).toBe(before)
  })

  it('refuses unknown tables and columns with their own codes', async () => {
    expect((await syncError(socket, { ...base, table: 'users' })).code).toBe('UNKNOWN_TABLE')
    expect((await syncError(socket, { ...base, where: { 'title" OR 1=1 --': 'x' } })).code).toBe('UNKNOWN_COLUMN')
  })
})

describe('pollution keys (S05)', () => {
  const uid = '0190a0b0-0000-7000-8000-99999999999a'
  const cases: Array<[string, string]> = [
    ['__proto__ at the top level', `{"table":"todos","where":{},"checkpoint":null,"push":[],"__proto__":{"polluted":true}}`],
    ['__proto__ in where', `{"table":"todos","where":{"__proto__":{"polluted":true}},"checkpoint":null,"push":[]}`],
    ['constructor in where', `{"table":"todos","where":{"constructor":{"prototype":{"polluted":true}}},"checkpoint":null,"push":[]}`],
    ['__proto__ in a condition', `{"table":"todos","where":{"title":{"__proto__":{"polluted":true}}},"checkpoint":null,"push":[]}`],
    [
      '__proto__ in a pushed row',
      `{"table":"todos","where":{},"checkpoint":null,"push":[{"uid":"${uid}","created_at":"STAMP","updated_at":"STAMP","deleted_at":null,"row":{"project":"p1","title":"t","done":false,"__proto__":{"polluted":true}}}]}`,
    ],
    ['__proto__ in a record', `{"table":"todos","where":{},"checkpoint":null,"push":[{"uid":"${uid}","created_at":"STAMP","updated_at":"STAMP","deleted_at":null,"row":null,"__proto__":{}}]}`],
  ]
  it.each(cases)('refuses %s with FORBIDDEN_KEY or BAD_REQUEST, writes nothing, pollutes nothing', async (_name, json) => {
    const stampText = record(todo).created_at
    const before = fixture.snapshot()
    const error = await syncError(socket, raw(json.replaceAll('STAMP', stampText)))
    expect(['FORBIDDEN_KEY', 'BAD_REQUEST']).toContain(error.code)
    expect(fixture.snapshot()).toBe(before)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined()
  })
})

describe('acknowledgements', () => {
  it('ignores a request without an ack (nothing written) and keeps serving the socket', async () => {
    const before = fixture.snapshot()
    const loose = socket as unknown as { emit(ev: string, ...args: unknown[]): void }
    loose.emit('lw:sync', { ...base, push: [record(todo)] })
    loose.emit('lw:sync', { ...base, push: [record(todo)] }, 'not-a-function')
    await sleep(100)
    expect(fixture.snapshot()).toBe(before)
    await syncOk(socket, { table: 'todos' })
  })

  it('answers an internal failure with a bare INTERNAL and logs the cause', async () => {
    fixture.sqlite.exec('DROP TABLE todos') // the engine's next statement on the app table fails
    const reply = await syncRequest(socket, { ...base, push: [record(todo)] })
    expect(reply.ok).toBe(false)
    if (reply.ok) return
    expect(reply.error.code).toBe('INTERNAL')
    expect(JSON.stringify(reply.error)).not.toMatch(/todos|SQLITE|no such table|at /)
    expect(fixture.logs.some((l) => l.level === 'error')).toBe(true)
  })
})

describe('replay (I5)', () => {
  it('a push replayed verbatim over a raw socket changes nothing the second time', async () => {
    const request = { ...base, push: [record(todo), record({ ...todo, title: 'eggs' })] }
    const first = await syncRequest(socket, request)
    expect(first.ok).toBe(true)
    const after = fixture.snapshot()

    // A second connection replays the captured frame byte for byte.
    const replayer = fixture.connect({ protocolVersion: PROTOCOL_VERSION, clientId: 'bbbbbbbbbbbbbbbb' })
    await connected(replayer)
    const second = await syncRequest(replayer, JSON.parse(JSON.stringify(request)))
    expect(second.ok).toBe(true)
    if (second.ok) expect(second.data.outcomes?.map((o) => o.status)).toEqual(['applied', 'applied'])
    expect(fixture.snapshot()).toBe(after)
    expect(fixture.rows()).toHaveLength(2)
  })
})
