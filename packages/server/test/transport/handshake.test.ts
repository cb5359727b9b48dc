/**
 * The handshake (ARCHITECTURE.md, "Connect"): hello with descriptors, protocol version, handshake
 * validation, and the authentication lifecycle of row S07 (docs/test-matrix.md).
 */
import { PREVIOUS_PROTOCOL_VERSION, PROTOCOL_VERSION } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  connected,
  createMembership,
  disconnected,
  handshake,
  newClientId,
  record,
  refusal,
  signToken,
  sleep,
  startFixture,
  syncOk,
  syncRequest,
  tokenAuthenticate,
  collectChanges,
  type Fixture,
} from './harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

describe('hello', () => {
  it('sends the protocol version, the server time and the table descriptors on connect', async () => {
    const clock = 1_750_000_000_000
    fixture = await startFixture({ now: () => clock })
    const hello = await connected(fixture.connect(handshake()))
    expect(hello).toEqual({
      protocolVersion: PROTOCOL_VERSION,
      serverTime: clock,
      tables: [
        {
          name: 'todos',
          columns: [
            { name: 'project', type: 'text', nullable: false, writable: true },
            { name: 'title', type: 'text', nullable: false, writable: true },
            { name: 'done', type: 'boolean', nullable: false, writable: true },
          ],
          schemaVersion: 1,
        },
      ],
    })
  })

  it('lets every connection in as the anonymous principal without authenticate', async () => {
    const seen: string[] = []
    fixture = await startFixture({
      authorize: (request) => {
        seen.push(request.principal.id)
        return true
      },
    })
    const socket = fixture.connect(handshake())
    await connected(socket)
    await syncOk(socket, { table: 'todos' })
    expect(seen).toEqual(['anonymous'])
  })
})

describe('handshake validation', () => {
  it('refuses another protocol version with PROTOCOL_MISMATCH, telling the app to upgrade', async () => {
    fixture = await startFixture()
    const newer = await refusal(fixture.connect(handshake({ protocolVersion: PROTOCOL_VERSION + 1 })))
    expect(newer?.code).toBe('PROTOCOL_MISMATCH')
    expect(newer?.details).toEqual({ supported: [PROTOCOL_VERSION, PREVIOUS_PROTOCOL_VERSION], upgrade: false })
    // Older than the previous protocol: told to upgrade (the previous one is served: protocol-adapter.test.ts).
    const older = await refusal(fixture.connect(handshake({ protocolVersion: PREVIOUS_PROTOCOL_VERSION - 1 })))
    expect(older?.code).toBe('PROTOCOL_MISMATCH')
    expect(older?.message).toMatch(/upgrade it/)
    expect(older?.details).toEqual({ supported: [PROTOCOL_VERSION, PREVIOUS_PROTOCOL_VERSION], upgrade: true })
  })

  it.each([
    ['no auth at all', undefined],
    ['missing clientId', { protocolVersion: PROTOCOL_VERSION }],
    ['missing protocolVersion', { clientId: 'aaaaaaaaaaaaaaaa' }],
    ['a malformed clientId', { protocolVersion: PROTOCOL_VERSION, clientId: 'not-hex' }],
    ['an extra key', { protocolVersion: PROTOCOL_VERSION, clientId: 'aaaaaaaaaaaaaaab', admin: true }],
    ['a token that is not a string', { protocolVersion: PROTOCOL_VERSION, clientId: 'aaaaaaaaaaaaaaac', token: { sub: 'x' } }],
  ])('refuses %s with BAD_REQUEST', async (_name, auth) => {
    fixture = await startFixture()
    const error = await refusal(fixture.connect(auth))
    expect(error?.code).toBe('BAD_REQUEST')
  })

  it('never lets in an auth that is not an object (socket.io drops the connection first)', async () => {
    fixture = await startFixture()
    const socket = fixture.connect('hello')
    const closed = new Promise<string>((resolve) => {
      socket.io.on('close', (reason) => resolve(reason))
      socket.on('connect_error', (err) => resolve(err.message))
    })
    let hello = false
    socket.on('lw:hello', () => {
      hello = true
    })
    await closed
    expect(hello).toBe(false)
    expect(socket.connected).toBe(false)
  })

  it('refuses __proto__ and constructor keys in the handshake (S05)', async () => {
    fixture = await startFixture()
    for (const key of ['__proto__', 'constructor']) {
      // Raw JSON so the key is an own property, as it is after socket.io parses a hostile packet.
      const auth = JSON.parse(`{"protocolVersion":${PROTOCOL_VERSION},"clientId":"${newClientId()}","${key}":{"polluted":true}}`) as object
      const error = await refusal(fixture.connect(auth))
      expect(['BAD_REQUEST', 'FORBIDDEN_KEY']).toContain(error?.code)
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })
})

describe('authentication lifecycle (S07)', () => {
  const valid = (sub: string, ttlMs = 60_000) => signToken({ sub, exp: Date.now() + ttlMs })

  it('accepts a valid token and refuses a missing one, a bad signature, alg none and an expired one', async () => {
    fixture = await startFixture({ authenticate: tokenAuthenticate })
    await connected(fixture.connect(handshake({ token: valid('alice') })))

    const cases = {
      'no token': handshake(),
      'bad signature': handshake({ token: signToken({ sub: 'alice', exp: Date.now() + 60_000 }, { secret: 'guessed' }) }),
      'alg none': handshake({ token: signToken({ sub: 'alice', exp: Date.now() + 60_000 }, { alg: 'none' }) }),
      'alg swapped': handshake({ token: signToken({ sub: 'alice', exp: Date.now() + 60_000 }, { alg: 'HS512' }) }),
      expired: handshake({ token: signToken({ sub: 'alice', exp: Date.now() - 1 }) }),
      garbage: handshake({ token: 'a.b' }),
    }
    for (const [name, auth] of Object.entries(cases)) {
      const error = await refusal(fixture.connect(auth))
      expect({ name, code: error?.code }).toEqual({ name, code: 'UNAUTHENTICATED' })
    }
  })

  it('never leaks what authenticate threw', async () => {
    fixture = await startFixture({
      authenticate: () => {
        throw new Error('ECONNREFUSED 10.0.0.5:5432 sessions table')
      },
    })
    const error = await refusal(fixture.connect(handshake({ token: 'x' })))
    expect(error?.code).toBe('UNAUTHENTICATED')
    expect(JSON.stringify(error)).not.toMatch(/ECONNREFUSED|sessions/)
    expect(fixture.logs.some((l) => l.level === 'warn')).toBe(true)
  })

  it('binds a clientId to its principal while it is connected (V7)', async () => {
    fixture = await startFixture({ authenticate: tokenAuthenticate })
    const clientId = newClientId()
    const alice = fixture.connect({ protocolVersion: PROTOCOL_VERSION, clientId, token: valid('alice') })
    await connected(alice)
    const error = await refusal(fixture.connect({ protocolVersion: PROTOCOL_VERSION, clientId, token: valid('mallory') }))
    expect(error?.code).toBe('FORBIDDEN')
    // The same principal may open a second socket with its own clientId (a reconnect racing the old socket).
    await connected(fixture.connect({ protocolVersion: PROTOCOL_VERSION, clientId, token: valid('alice') }))
  })

  it('closes the socket when the principal expires mid-session, and sends nothing after', async () => {
    const membership = createMembership({ alice: ['p1'], writer: ['p1'] })
    fixture = await startFixture({ authenticate: tokenAuthenticate, authorize: membership.authorize })
    const writer = fixture.connect(handshake({ token: valid('writer') }))
    const alice = fixture.connect(handshake({ token: valid('alice', 600) }))
    await Promise.all([connected(writer), connected(alice)])
    const events = collectChanges(alice)
    await syncOk(alice, { table: 'todos', subscription: 's1' })

    await syncOk(writer, { table: 'todos', push: [record({ project: 'p1', title: 'before expiry', done: false })] })
    await expect.poll(() => events.length).toBe(1)

    const reason = await disconnected(alice)
    expect(reason).toBe('io server disconnect')
    await syncOk(writer, { table: 'todos', push: [record({ project: 'p1', title: 'after expiry', done: false })] })
    await sleep(100)
    expect(events).toHaveLength(1)
  })

  it('answers a request made after expiry with UNAUTHENTICATED, never with data', async () => {
    let clock = Date.now()
    fixture = await startFixture({ authenticate: tokenAuthenticate, now: () => clock })
    const alice = fixture.connect(handshake({ token: signToken({ sub: 'alice', exp: clock + 60_000 }) }))
    await connected(alice)
    await syncOk(alice, { table: 'todos' })
    clock += 61_000 // the timer has not fired yet (it runs on real time); the request check must hold alone
    const reply = await syncRequest(alice, { table: 'todos', where: {}, checkpoint: null, push: [] })
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } })
    await disconnected(alice)
  })
})
