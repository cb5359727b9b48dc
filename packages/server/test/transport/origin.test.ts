/**
 * Cross-site WebSocket hijacking (row S09, docs/test-matrix.md): with `allowedOrigins` set, a WebSocket upgrade
 * or a polling request from a foreign Origin is refused; a listed Origin connects.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { connected, handshake, startFixture, syncOk, type Fixture } from './harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

/** Resolves `true` if the socket connected (and said hello), `false` if it was refused. */
async function outcome(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise
    return true
  } catch {
    return false
  }
}

describe('Origin allow-list (S09)', () => {
  for (const transport of ['websocket', 'polling'] as const) {
    it(`refuses a foreign Origin and accepts a listed one over ${transport}`, async () => {
      fixture = await startFixture({ allowedOrigins: ['https://app.example'] })
      const foreign = fixture.connect(handshake(), { transports: [transport], extraHeaders: { origin: 'https://evil.example' } })
      expect(await outcome(connected(foreign))).toBe(false)

      const lookalike = fixture.connect(handshake(), { transports: [transport], extraHeaders: { origin: 'https://app.example.evil.example' } })
      expect(await outcome(connected(lookalike))).toBe(false)

      const opaque = fixture.connect(handshake(), { transports: [transport], extraHeaders: { origin: 'null' } })
      expect(await outcome(connected(opaque))).toBe(false)

      const allowed = fixture.connect(handshake(), { transports: [transport], extraHeaders: { origin: 'https://app.example' } })
      expect(await outcome(connected(allowed))).toBe(true)
      await syncOk(allowed, { table: 'todos' })
    })
  }

  it('accepts a request without Origin (not a browser: no cross-site attack is possible)', async () => {
    fixture = await startFixture({ allowedOrigins: ['https://app.example'] })
    expect(await outcome(connected(fixture.connect(handshake())))).toBe(true)
  })

  it('accepts any Origin when no allow-list is configured', async () => {
    fixture = await startFixture()
    const socket = fixture.connect(handshake(), { extraHeaders: { origin: 'https://anywhere.example' } })
    expect(await outcome(connected(socket))).toBe(true)
  })

  it('refuses a foreign Origin even on an upgrade of an existing polling session', async () => {
    fixture = await startFixture({ allowedOrigins: ['https://app.example'] })
    const { port } = new URL(fixture.url)
    // A polling handshake from the allowed origin, then a WebSocket upgrade of that session from a foreign one.
    const open = await fetch(`${fixture.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://app.example' } })
    const text = await open.text()
    const sid = (JSON.parse(text.slice(text.indexOf('{'))) as { sid: string }).sid
    const { WebSocket } = await import('ws')
    const upgraded = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`, { origin: 'https://evil.example' })
      ws.on('open', () => {
        ws.close()
        resolve(true)
      })
      ws.on('error', () => resolve(false))
      ws.on('unexpected-response', () => resolve(false))
    })
    expect(upgraded).toBe(false)
  })
})
