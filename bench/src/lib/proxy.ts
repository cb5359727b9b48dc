/**
 * A counting TCP proxy on loopback, put in front of every server (lastword, RxDB, PouchDB alike):
 * it counts the bytes each way as they cross the wire (TCP payload: HTTP, WebSocket framing and all)
 * and the round trips — per connection, each burst of client bytes that follows server bytes (or opens
 * the connection) is one request turn.
 */
import net from 'node:net'

export interface WireCounts {
  up: number
  down: number
  roundTrips: number
  connections: number
}

export interface CountingProxy {
  port: number
  counts(): WireCounts
  reset(): void
  close(): Promise<void>
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CountingProxy> {
  let c: WireCounts = { up: 0, down: 0, roundTrips: 0, connections: 0 }
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    client.setNoDelay(true)
    c.connections++
    const upstream = net.connect({ port: targetPort, host: targetHost })
    upstream.setNoDelay(true)
    sockets.add(client)
    sockets.add(upstream)
    let last: 'up' | 'down' | null = null
    client.on('data', (chunk: Buffer) => {
      c.up += chunk.length
      if (last !== 'up') c.roundTrips++
      last = 'up'
    })
    upstream.on('data', (chunk: Buffer) => {
      c.down += chunk.length
      last = 'down'
    })
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    counts: () => ({ ...c }),
    reset: () => {
      c = { up: 0, down: 0, roundTrips: 0, connections: 0 }
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
