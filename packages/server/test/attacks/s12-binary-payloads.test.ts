/**
 * Attack S12 (docs/test-matrix.md): binary payloads inside requests. lastword's protocol is JSON; a
 * socket.io binary event (an attachment turned into a Buffer inside `lw:sync`) used to be walked key by
 * key by the wire checks, blocking the event loop for seconds. Checks, through raw engine.io frames on
 * loopback, that an authenticated socket sending a binary event is closed at the packet header (no
 * answer, nothing written, the attachment never buffered), also when the app attached lastword to a
 * socket.io `Server` it created itself; that a server lastword cannot guard (a binary parser) is refused
 * at `attach()`; and that a bystander's sync is answered meanwhile.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { afterEach, describe, expect, it } from 'vitest'
import { startFixture, type Fixture } from '../transport/harness.js'
import { bystanderSync, memory, rawConnect, rawHandshake, sampler } from './raw-client.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

const MiB = 1024 * 1024

/** `lw:sync` whose `where` holds one attachment (what socket.io's client sends for a Buffer there). */
const BINARY_SYNC = '451-7["lw:sync",{"table":"todos","where":{"title":{"_placeholder":true,"num":0}},"checkpoint":null,"push":[]}]'

async function attack(f: Fixture, url = f.url): Promise<void> {
  const before = f.snapshot()
  const attacker = await rawConnect({ ...f, url })
  expect((await rawHandshake(attacker)).startsWith('40')).toBe(true)
  const base = memory()
  const heap = sampler(memory)
  const started = Date.now()
  attacker.send(BINARY_SYNC)
  attacker.send(Buffer.alloc(4 * MiB, 0x61))
  const bystander = bystanderSync(f)
  // Bound: the attacker is closed within 2 s, unanswered; the bystander answered within 5 s.
  await Promise.race([attacker.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('attacker not closed within 2 s')), 2_000))])
  expect(Date.now() - started).toBeLessThan(2_000)
  expect(await bystander).toBeLessThan(5_000)
  expect(attacker.frames.some((frame) => frame.startsWith('437'))).toBe(false)
  heap.stop()
  // Bound: less than 32 MiB of growth for a 4 MiB attachment (+300 MB when it was walked).
  expect(heap.max() - base).toBeLessThan(32 * MiB)
  expect(f.snapshot()).toBe(before)
}

describe('S12: binary payloads', () => {
  it('closes a socket that sends a binary event, before anything buffers or walks the attachment', async () => {
    fixture = await startFixture()
    await attack(fixture)
  })

  it('does the same on a socket.io Server the app created and attached', async () => {
    fixture = await startFixture()
    const http = createServer()
    // The app's own options: the default parser, a buffer as large as lastword's own default.
    const io = new Server(http, { maxHttpBufferSize: 16 * MiB })
    fixture.sync.attach(io)
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    try {
      await attack(fixture, `http://127.0.0.1:${(http.address() as AddressInfo).port}`)
    } finally {
      io.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })

  it('refuses at attach() a socket.io Server that already has connections (their parsers are unguarded)', async () => {
    fixture = await startFixture()
    const http = createServer()
    const io = new Server(http)
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const early = await rawConnect({ ...fixture, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` })
    try {
      expect(() => fixture!.sync.attach(io)).toThrow(/before it accepts connections/)
    } finally {
      early.close()
      io.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })

  it('refuses at attach() a socket.io Server whose parser is not the JSON one', async () => {
    fixture = await startFixture()
    class BinaryEncoder {
      encode(): unknown[] {
        return [Buffer.from([0x82])]
      }
    }
    const io = new Server({ parser: { Encoder: BinaryEncoder, Decoder: class {}, protocol: 5 } as never })
    expect(() => fixture!.sync.attach(io)).toThrow(/speaks JSON over socket\.io's default parser/)
  })
})
