/** Redis for the multi-node figures' Redis adapter: whether it answers, without a client library. */
import net from 'node:net'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** null if Redis at `url` answers a PING (an authentication error counts: the nodes log in with the URL), else why not. */
export async function redisAvailable(url = REDIS_URL): Promise<string | null> {
  let host: string
  let port: number
  try {
    const u = new URL(url)
    if (u.protocol === 'rediss:') return null // TLS: left to the adapter's own client
    host = u.hostname || '127.0.0.1'
    port = Number(u.port || 6379)
  } catch {
    return `REDIS_URL is not a URL: ${url}`
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (why: string | null) => {
      socket.destroy()
      resolve(why)
    }
    socket.setTimeout(3_000, () => done(`Redis did not answer at ${url} within 3 s`))
    socket.once('error', (e) => done(`Redis unreachable at ${url}: ${e.message}`))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (chunk: Buffer) => {
      const reply = chunk.toString()
      done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH') ? null : `unexpected answer from ${url}: ${reply.trim().slice(0, 80)}`)
    })
  })
}
