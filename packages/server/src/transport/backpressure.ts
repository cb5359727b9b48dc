/**
 * Backpressure per socket: how many bytes are queued for it and not yet taken by the network. A client
 * that stops reading TCP leaves every answer and realtime event in the server's memory (engine.io's
 * write buffer, then the WebSocket's); past `limits.maxQueuedBytesPerSocket` the socket stops being
 * served and is closed at once, its buffers discarded, so it cannot grow the heap. A heartbeat answer
 * (`pong`) the server did not ask for is a protocol violation that closes the socket too: it would
 * otherwise keep a connection alive whose reader never reads.
 */
import type { SessionSocket } from './types.js'

/** What this module reads of an engine.io connection (`socket.conn`); absent for in-process duplexes. */
interface EngineConnection {
  protocol?: number
  transport?: EngineTransport
  on(event: string, listener: (arg: never) => void): unknown
  removeListener(event: string, listener: (arg: never) => void): unknown
  close(discard?: boolean): unknown
}

interface EngineTransport {
  name?: string
  socket?: { bufferedAmount?: number; terminate?: () => void }
  on?(event: string, fn: () => void): unknown
  removeListener?(event: string, fn: () => void): unknown
}

interface EnginePacket {
  type: string
  data?: unknown
}

export interface Backpressure {
  /** Bytes queued for the socket: engine.io's write buffer plus what the WebSocket holds unsent. */
  queued(): number
  /** Whether the socket went past its bound (it is no longer served). */
  readonly overflowed: boolean
  /** Resolves once everything queued so far has been written to the network, or the socket closed. */
  written(): Promise<void>
}

/** Watches one socket; `onDrop` is told why the socket was closed (for the log). */
export function watchBackpressure(socket: SessionSocket, maxQueuedBytes: number, onDrop: (reason: string) => void): Backpressure {
  const conn = (socket as { conn?: EngineConnection }).conn
  if (conn === undefined || typeof conn.on !== 'function') {
    // An in-process duplex has no buffers of its own to bound.
    return { queued: () => 0, overflowed: false, written: () => Promise.resolve() }
  }
  let buffered = 0 // bytes of packets in engine.io's write buffer (added on create, reset on flush)
  let overflowed = false
  let closed = false
  let pingOutstanding = false
  const waiters: Array<() => void> = []

  const wsBuffered = (): number => (conn.transport?.name === 'websocket' ? (conn.transport.socket?.bufferedAmount ?? 0) : 0)
  const queued = (): number => buffered + wsBuffered()

  const drop = (reason: string): void => {
    if (closed) return
    closed = true
    onDrop(reason)
    // Closed without flushing: a graceful close would wait for the buffer to drain, which never happens.
    socket.disconnect(true)
    conn.transport?.socket?.terminate?.()
    conn.close(true)
  }

  const settle = (): void => {
    if (!closed && queued() > 0) return
    for (const resolve of waiters.splice(0)) resolve()
  }

  const onPacketCreate = (packet: EnginePacket): void => {
    buffered += sizeOf(packet.data)
    if (packet.type === 'ping') pingOutstanding = true
    if (!overflowed && queued() > maxQueuedBytes) {
      overflowed = true
      // Not from inside engine.io's sendPacket: it pushes this packet after the event.
      setImmediate(() => drop(`more than ${maxQueuedBytes} bytes queued`))
    }
  }
  const onFlush = (): void => {
    buffered = 0
  }
  const onPacket = (packet: EnginePacket): void => {
    if (packet.type !== 'pong' || conn.protocol === 3) return
    if (!pingOutstanding) drop('unsolicited heartbeat')
    pingOutstanding = false
  }
  const onDrain = (): void => settle()
  // engine.io's own `drain` fires when a batch is handed to the transport, the transport's once it is
  // written: both are moments to look again. The transport changes on upgrade (polling → WebSocket).
  let transport: EngineTransport | undefined
  const watchTransport = (): void => {
    transport?.removeListener?.('drain', onDrain)
    transport = conn.transport
    transport?.on?.('drain', onDrain)
  }
  const onClose = (): void => {
    closed = true
    settle()
    transport?.removeListener?.('drain', onDrain)
    conn.removeListener('upgrade', watchTransport)
    conn.removeListener('packetCreate', onPacketCreate)
    conn.removeListener('flush', onFlush)
    conn.removeListener('packet', onPacket)
    conn.removeListener('drain', onDrain)
    conn.removeListener('close', onClose)
  }
  conn.on('packetCreate', onPacketCreate)
  conn.on('flush', onFlush)
  conn.on('packet', onPacket)
  conn.on('drain', onDrain)
  conn.on('upgrade', watchTransport)
  conn.on('close', onClose)
  watchTransport()

  return {
    queued,
    get overflowed() {
      return overflowed
    },
    written() {
      if (closed || queued() === 0) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
  }
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data)
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  return 0
}
