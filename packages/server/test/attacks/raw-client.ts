/**
 * Helpers of the attack suite: a raw engine.io client over `ws` that speaks the wire frame by frame
 * (no socket.io client in the way, so it can send what a real client never would), and probes of the
 * server's memory, queued bytes and liveness while an attack runs.
 */
import { WebSocket } from 'ws'
import { connected, handshake, syncOk, type Fixture } from '../transport/harness.js'

export interface RawClient {
  readonly ws: WebSocket
  /** Text frames received so far (engine.io packets, e.g. `40{...}`, `431[...]`). */
  readonly frames: string[]
  /** Bytes received so far. */
  readonly receivedBytes: () => number
  /** Resolves when the connection is closed, from either side. */
  readonly closed: Promise<void>
  isOpen(): boolean
  /** Sends a frame; a frame sent after the server closed is dropped, as a real network would. */
  send(frame: string | Buffer): void
  /** Resolves with the first frame (already received or not) that satisfies `match`. */
  frame(match: (frame: string) => boolean, timeoutMs?: number): Promise<string>
  close(): void
}

/** Opens a raw WebSocket engine.io connection and waits for engine.io's open packet. */
export async function rawConnect(fixture: Fixture): Promise<RawClient> {
  const ws = new WebSocket(`${fixture.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
  const frames: string[] = []
  let bytes = 0
  const listeners = new Set<() => void>()
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    bytes += data.length
    if (!isBinary) frames.push(data.toString())
    for (const listener of [...listeners]) listener()
  })
  ws.on('error', () => {})
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  const client: RawClient = {
    ws,
    frames,
    receivedBytes: () => bytes,
    closed,
    isOpen: () => ws.readyState === WebSocket.OPEN,
    send(frame) {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame, () => {})
    },
    frame(match, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const look = (): boolean => {
          const found = frames.find(match)
          if (found === undefined) return false
          listeners.delete(check)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const check = (): void => void look()
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error('timed out waiting for a frame'))
        }, timeoutMs)
        if (!look()) listeners.add(check)
      })
    },
    close: () => ws.terminate(),
  }
  await client.frame((f) => f.startsWith('0{'))
  return client
}

/** Sends the socket.io CONNECT packet with `auth`; resolves with the server's answer frame (`40…` or `44…`). */
export async function rawHandshake(client: RawClient, auth: unknown = handshake()): Promise<string> {
  client.send(`40${JSON.stringify(auth)}`)
  return client.frame((f) => f.startsWith('40') || f.startsWith('44'))
}

/** A trivial sync request as a raw socket.io EVENT with ack id `id`. */
export function rawSync(id: number, request: Record<string, unknown> = {}): string {
  return `42${id}${JSON.stringify(['lw:sync', { table: 'todos', where: {}, checkpoint: null, push: [], ...request }])}`
}

/** Heap plus buffers of this process (server and attacker share it: the bound covers both). */
export function memory(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/**
 * Samples `probe` every few ms until `stop()`; `max()` is the greatest value seen. Sampling runs on the
 * event loop, so a blocked loop shows up as missing samples, not as a lower figure.
 */
export function sampler(probe: () => number): { max(): number; stop(): number } {
  let max = probe()
  const timer = setInterval(() => {
    max = Math.max(max, probe())
  }, 5)
  return {
    max: () => max,
    stop() {
      clearInterval(timer)
      max = Math.max(max, probe())
      return max
    },
  }
}

/** Bytes queued by the server for every connected socket.io socket (engine.io write buffer + WebSocket). */
export function serverQueuedBytes(fixture: Fixture): number {
  let total = 0
  const io = fixture.sync.io
  if (io === undefined) return 0
  for (const socket of io.of('/').sockets.values()) {
    const conn = socket.conn as unknown as { writeBuffer: Array<{ data?: unknown }>; transport: { name: string; socket?: { bufferedAmount?: number } } }
    for (const packet of conn.writeBuffer) total += typeof packet.data === 'string' ? Buffer.byteLength(packet.data) : 0
    if (conn.transport.name === 'websocket') total += conn.transport.socket?.bufferedAmount ?? 0
  }
  return total
}

/** A bystander: a normal client that must get a trivial sync answered within `withinMs` while an attack runs. */
export async function bystanderSync(fixture: Fixture, withinMs = 5_000): Promise<number> {
  const socket = fixture.connect(handshake())
  const start = Date.now()
  await connected(socket)
  await Promise.race([
    syncOk(socket, { table: 'todos' }),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`bystander not answered within ${withinMs} ms`)), withinMs)),
  ])
  socket.disconnect()
  return Date.now() - start
}
