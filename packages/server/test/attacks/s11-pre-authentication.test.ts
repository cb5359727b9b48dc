/**
 * Attack S11 (docs/test-matrix.md): what an unauthenticated connection can make the server do. Checks,
 * through raw engine.io frames on loopback, that before authentication the server parses at most
 * `limits.maxHandshakeBytes` per packet and never buffers binary attachments (a binary-event header is
 * refused at once: the connection closes), that a handshake with many keys is refused unread and
 * without echoing them, that a refusal names the problem, never the input, and that a connection gets
 * `limits.handshakeTimeoutMs` to authenticate. Each case keeps a bystander's sync answered and writes
 * nothing.
 */
import { PROTOCOL_VERSION } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import { handshake, newClientId, refusal, startFixture, type Fixture } from '../transport/harness.js'
import { bystanderSync, memory, rawConnect, rawHandshake, sampler } from './raw-client.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

const MiB = 1024 * 1024

describe('S11: before authentication', () => {
  it('closes a connection announcing binary attachments at the header, buffering none of them', async () => {
    fixture = await startFixture({ authenticate: () => ({ id: 'user' }) })
    const before = fixture.snapshot()
    const attackers = await Promise.all(Array.from({ length: 4 }, () => rawConnect(fixture!)))
    const attachment = Buffer.alloc(4 * MiB, 1)
    const base = memory()
    const heap = sampler(memory)
    // A binary event announcing 10 attachments: socket.io would hold every attachment until the tenth.
    for (const attacker of attackers) attacker.send('4510-["lw:sync",{"_placeholder":true,"num":0}]')
    // Attachments follow on every connection the server left open (pacing, not an assertion).
    await Promise.race([Promise.all(attackers.map((a) => a.closed)), delay(300)])
    for (const attacker of attackers) for (let i = 0; i < 3; i++) attacker.send(attachment)
    // Bound: every attacker closed by the server within 2 s of its header.
    await Promise.all(attackers.map((a) => within(a.closed, 2_000, 'attacker closed')))
    expect(await bystanderSync(fixture)).toBeLessThan(5_000)
    // Bound: the server holds no attachment: the process grows by less than 24 MiB (12 × 4 MiB sent today).
    heap.stop()
    expect(heap.max() - base).toBeLessThan(24 * MiB)
    expect(fixture.snapshot()).toBe(before)
  })

  it('closes a connection whose handshake is larger than maxHandshakeBytes before parsing it, answering nothing', async () => {
    fixture = await startFixture() // the default maxHandshakeBytes (16 KiB)
    const attacker = await rawConnect(fixture)
    // 100,000 keys (~1.5 MB): once parsed and walked by the validator, and every key echoed back in zod's refusal.
    const auth: Record<string, unknown> = { protocolVersion: PROTOCOL_VERSION, clientId: newClientId() }
    for (let i = 0; i < 100_000; i++) auth[`k${i}`] = 1
    const start = Date.now()
    attacker.send(`40${JSON.stringify(auth)}`)
    await within(attacker.closed, 2_000, 'attacker closed')
    expect(Date.now() - start).toBeLessThan(2_000)
    // Nothing but engine.io's open packet came back: no refusal carrying the keys.
    expect(attacker.receivedBytes()).toBeLessThan(1_024)
    expect(await bystanderSync(fixture)).toBeLessThan(5_000)
  })

  it('refuses a small handshake with too many keys unread, naming none of them', async () => {
    fixture = await startFixture()
    const attacker = await rawConnect(fixture)
    const auth: Record<string, unknown> = { protocolVersion: PROTOCOL_VERSION, clientId: newClientId() }
    for (let i = 0; i < 300; i++) auth[`secret_key_${i}`] = 'x'
    const answer = await rawHandshake(attacker, auth)
    expect(answer.startsWith('44')).toBe(true)
    expect(answer).not.toContain('secret_key')
    expect(answer.length).toBeLessThan(512)
    expect(JSON.parse(answer.slice(2)).data.code).toBe('BAD_REQUEST')
  })

  it('refuses an unknown handshake key and a bad value by path and problem, echoing neither', async () => {
    fixture = await startFixture()
    const extra = await refusal(fixture.connect(handshake({ leaked_name_1234: 'leaked-value-5678' })))
    expect(extra?.code).toBe('BAD_REQUEST')
    expect(extra?.message).not.toMatch(/leaked/)
    expect(extra?.message).toMatch(/handshake.*1 unexpected key/)
    const bad = await refusal(fixture.connect({ protocolVersion: PROTOCOL_VERSION, clientId: 'leaked-value-5678' }))
    expect(bad?.code).toBe('BAD_REQUEST')
    expect(bad?.message).not.toMatch(/leaked/)
    expect(bad?.message).toMatch(/at clientId/)
  })

  it('gives authenticate handshakeTimeoutMs, then refuses with TRANSIENT', async () => {
    fixture = await startFixture({ authenticate: () => new Promise(() => {}), limits: { handshakeTimeoutMs: 300 } })
    const error = await within(refusal(fixture.connect(handshake())), 3_000, 'refusal')
    expect(error?.code).toBe('TRANSIENT')
    expect(error?.message).toMatch(/Authentication took longer than 300 ms/)
  })

  it('closes a connection that never sends its handshake after twice handshakeTimeoutMs', async () => {
    fixture = await startFixture({ limits: { handshakeTimeoutMs: 300 } })
    const idle = await rawConnect(fixture)
    // socket.io's default would keep it 45 s; the bound here is the limit plus slack.
    await within(idle.closed, 3_000, 'idle connection closed')
  })
})

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))])
}
