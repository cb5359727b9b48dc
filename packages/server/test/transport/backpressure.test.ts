/**
 * The per-socket backpressure watch (row S14, docs/test-matrix.md) against a stand-in engine.io
 * connection: what it counts as queued, when an answer counts as written (what keeps a request in
 * flight), the drop past the bound, and the heartbeat answer nobody asked for.
 */
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { watchBackpressure } from '../../src/transport/backpressure.js'
import type { SessionSocket } from '../../src/transport/types.js'

/** An engine.io connection as far as the watch reads it: events, a transport with a WebSocket, close. */
function fakeConnection() {
  const transport = Object.assign(new EventEmitter(), { name: 'websocket', socket: { bufferedAmount: 0, terminated: false, terminate() { this.terminated = true } } })
  const conn = Object.assign(new EventEmitter(), { protocol: 4, transport, closedWith: undefined as boolean | undefined, close(discard?: boolean) { this.closedWith = discard } })
  let disconnected = false
  const socket = { conn, disconnect: () => (disconnected = true) } as unknown as SessionSocket
  return { conn, transport, socket, disconnected: () => disconnected }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('backpressure watch', () => {
  it('counts engine.io write-buffer bytes until flushed, then what the WebSocket holds', () => {
    const { conn, transport, socket } = fakeConnection()
    const watch = watchBackpressure(socket, 1_000, () => {})
    conn.emit('packetCreate', { type: 'message', data: 'x'.repeat(100) })
    conn.emit('packetCreate', { type: 'message', data: Buffer.alloc(50) })
    expect(watch.queued()).toBe(150)
    conn.emit('flush')
    transport.socket.bufferedAmount = 150
    expect(watch.queued()).toBe(150)
    transport.socket.bufferedAmount = 0
    expect(watch.queued()).toBe(0)
  })

  it('counts an answer written only once the transport drained it, or the socket closed', async () => {
    const { conn, transport, socket } = fakeConnection()
    const watch = watchBackpressure(socket, 1_000, () => {})
    await watch.written() // nothing queued: at once
    conn.emit('packetCreate', { type: 'message', data: 'answer' })
    conn.emit('flush')
    transport.socket.bufferedAmount = 6
    let written = false
    void watch.written().then(() => (written = true))
    transport.emit('drain') // still in the WebSocket's buffer
    await tick()
    expect(written).toBe(false)
    transport.socket.bufferedAmount = 0
    transport.emit('drain')
    await tick()
    expect(written).toBe(true)

    transport.socket.bufferedAmount = 10
    let released = false
    void watch.written().then(() => (released = true))
    conn.emit('close')
    await tick()
    expect(released).toBe(true)
  })

  it('past the bound stops serving and closes the socket without flushing it', async () => {
    const { conn, transport, socket, disconnected } = fakeConnection()
    const reasons: string[] = []
    const watch = watchBackpressure(socket, 1_000, (reason) => reasons.push(reason))
    transport.socket.bufferedAmount = 900
    conn.emit('packetCreate', { type: 'message', data: 'x'.repeat(50) })
    expect(watch.overflowed).toBe(false)
    conn.emit('packetCreate', { type: 'message', data: 'x'.repeat(51) })
    expect(watch.overflowed).toBe(true)
    await tick()
    expect(reasons).toEqual(['more than 1000 bytes queued'])
    expect(disconnected()).toBe(true)
    expect(transport.socket.terminated).toBe(true)
    expect(conn.closedWith).toBe(true)
  })

  it('closes the socket on a pong that answers no ping, and accepts one that does', () => {
    const answered = fakeConnection()
    const reasons: string[] = []
    watchBackpressure(answered.socket, 1_000, (reason) => reasons.push(reason))
    answered.conn.emit('packetCreate', { type: 'ping' })
    answered.conn.emit('packet', { type: 'pong' })
    expect(reasons).toEqual([])
    answered.conn.emit('packet', { type: 'pong' }) // a second one: nothing asked for it
    expect(reasons).toEqual(['unsolicited heartbeat'])
    expect(answered.disconnected()).toBe(true)
  })
})
