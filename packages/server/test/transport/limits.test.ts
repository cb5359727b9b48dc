/**
 * Size and rate limits (attack V6, row S06): one over each limit gets a typed error (or, for the
 * message size, a closed connection) and writes nothing; a flood from one socket is refused or cut off
 * while the server keeps answering others.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  connected,
  disconnected,
  handshake,
  newUid,
  record,
  stamp,
  startFixture,
  syncError,
  syncOk,
  syncRequest,
  type Fixture,
} from './harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

const todo = (title = 't') => ({ project: 'p1', title, done: false })
const base = { table: 'todos', where: {}, checkpoint: null, push: [] }

describe('size limits, one over each', () => {
  it('maxPushRecords: at the limit applies, one over is TOO_LARGE and writes nothing', async () => {
    fixture = await startFixture({ limits: { maxPushRecords: 3 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    const before = fixture.snapshot()
    const error = await syncError(socket, { ...base, push: [1, 2, 3, 4].map(() => record(todo())) })
    expect(error.code).toBe('TOO_LARGE')
    expect(fixture.snapshot()).toBe(before)
    await syncOk(socket, { table: 'todos', push: [1, 2, 3].map(() => record(todo())) })
    expect(fixture.rows()).toHaveLength(3)
  })

  it('maxMetaEntries: one entry over is TOO_LARGE', async () => {
    fixture = await startFixture({ limits: { maxMetaEntries: 5 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    const entries = (n: number) =>
      Array.from({ length: n }, () => [newUid(), stamp(), false, true, null])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])))
    await syncOk(socket, { table: 'todos', full: { cursor: null, entries: entries(5) as never, complete: true } })
    const error = await syncError(socket, { ...base, full: { cursor: null, entries: entries(6), complete: true } })
    expect(error.code).toBe('TOO_LARGE')
  })

  it('maxPageSize: a larger pageSize is capped', async () => {
    fixture = await startFixture({ limits: { maxPageSize: 2 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    await syncOk(socket, { table: 'todos', push: [1, 2, 3, 4, 5].map(() => record(todo())) })
    const page = await syncOk(socket, { table: 'todos', pageSize: 1_000, full: { cursor: null, entries: [], complete: true } })
    expect(page.rows.length).toBeLessThanOrEqual(2)
    expect(page.hasMore).toBe(true)
  })

  it('maxSubscriptionsPerSocket: one more subscription is TOO_LARGE; replacing one is not', async () => {
    fixture = await startFixture({ limits: { maxSubscriptionsPerSocket: 2 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    await syncOk(socket, { table: 'todos', subscription: 'a' })
    await syncOk(socket, { table: 'todos', subscription: 'b', where: { done: true } })
    await syncOk(socket, { table: 'todos', subscription: 'b', where: { done: false } })
    const before = fixture.snapshot()
    const error = await syncError(socket, { ...base, subscription: 'c', push: [record(todo())] })
    expect(error.code).toBe('TOO_LARGE')
    expect(fixture.snapshot()).toBe(before)
    // After an unsubscribe there is room again.
    const ack = await (socket.timeout(5_000) as unknown as { emitWithAck(ev: string, arg: unknown): Promise<unknown> }).emitWithAck('lw:unsubscribe', {
      subscription: 'a',
    })
    expect(ack).toEqual({ ok: true, data: null })
    await syncOk(socket, { table: 'todos', subscription: 'c' })
  })

  it('maxFilterConditions and maxInValues: one over is TOO_LARGE', async () => {
    fixture = await startFixture({ limits: { maxFilterConditions: 2, maxInValues: 3 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    await syncOk(socket, { table: 'todos', where: { done: false, title: { gte: 'a' } } })
    expect((await syncError(socket, { ...base, where: { done: false, title: { gte: 'a', lt: 'z' } } })).code).toBe('TOO_LARGE')
    await syncOk(socket, { table: 'todos', where: { project: { in: ['a', 'b', 'c'] } } })
    expect((await syncError(socket, { ...base, where: { project: { in: ['a', 'b', 'c', 'd'] } } })).code).toBe('TOO_LARGE')
  })

  it('maxDriftMs: a stamp beyond the bound is rejected per record with CLOCK_AHEAD and the server time', async () => {
    fixture = await startFixture({ limits: { maxDriftMs: 1_000 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    const ahead = stamp('00000000000000aa', Date.now() + 60_000)
    const bad = { ...record(todo()), created_at: ahead, updated_at: ahead }
    const good = record(todo())
    const page = await syncOk(socket, { table: 'todos', push: [bad, good] })
    const outcome = page.outcomes.find((o) => o.uid === bad.uid)
    expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'CLOCK_AHEAD' } })
    expect(page.outcomes.find((o) => o.uid === good.uid)?.status).toBe('applied')
    expect(fixture.rows()).toHaveLength(1)
  })

  it('maxMessageBytes: a larger message closes the connection, and the server keeps serving', async () => {
    fixture = await startFixture({ limits: { maxMessageBytes: 64 * 1024 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    const gone = disconnected(socket)
    socket.emit('lw:sync', { ...base, push: [record(todo('x'.repeat(100 * 1024)))] }, () => {})
    expect(await gone).toBe('transport close')
    expect(fixture.rows()).toHaveLength(0)
    const other = fixture.connect(handshake())
    await connected(other)
    await syncOk(other, { table: 'todos' })
  })
})

describe('request flood (S06)', () => {
  it('answers a flood of 1,000 events from one socket with RATE_LIMITED or a disconnect, and stays responsive', async () => {
    fixture = await startFixture({ limits: { maxRequestsPerSecond: 50 } })
    const flooder = fixture.connect(handshake())
    await connected(flooder)
    const codes = new Map<string, number>()
    let answered = 0
    let dropped = false
    flooder.on('disconnect', () => {
      dropped = true
    })
    for (let i = 0; i < 1_000; i++) {
      flooder.emit('lw:sync', base, (reply: { ok: boolean; error?: { code: string } }) => {
        answered++
        const code = reply.ok ? 'ok' : (reply.error?.code ?? '?')
        codes.set(code, (codes.get(code) ?? 0) + 1)
      })
    }
    await expect.poll(() => dropped || answered === 1_000, { timeout: 10_000 }).toBe(true)
    expect((codes.get('RATE_LIMITED') ?? 0) > 0 || dropped).toBe(true)
    expect(codes.get('ok') ?? 0).toBeLessThanOrEqual(60)
    expect(fixture.logs.some((l) => l.msg?.includes('flood'))).toBe(dropped)

    // Another client is served promptly while (and after) the flooder is refused.
    const other = fixture.connect(handshake())
    await connected(other)
    const started = Date.now()
    await syncOk(other, { table: 'todos', push: [record(todo())] })
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('counts unknown events against the rate like any other', async () => {
    fixture = await startFixture({ limits: { maxRequestsPerSecond: 20 } })
    const socket = fixture.connect(handshake())
    await connected(socket)
    // Unknown events are dropped, but they spend the socket's budget like any other.
    for (let i = 0; i < 20; i++) (socket as unknown as { emit(ev: string, ...a: unknown[]): void }).emit('lw:bogus', { i })
    const reply = await syncRequest(socket, base)
    expect(reply).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } })
  })
})
