/**
 * The `Transport` seam: how the client reaches the server. Small on purpose, so that a fault-injecting
 * in-memory transport can replace the socket.io default (docs/test-matrix.md, row T02). Socket.io delivers at most
 * once; the sync driver retries what did not come back.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client'
import {
  LastwordError,
  fromWireError,
  type ClientToServerEvents,
  type Handshake,
  type ServerToClientEvents,
} from '@lastword/core'

/** The payload of a client-to-server event. */
export type RequestOf<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0]
/** The acknowledgement of a client-to-server event (a `Reply`). */
export type ReplyOf<E extends keyof ClientToServerEvents> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0]

/** What a transport tells the client. Payloads from the server arrive unvalidated (`unknown`). */
export interface TransportHandlers {
  /** The handshake `auth` for a connection attempt; called for every attempt (fresh token each time). */
  handshake(): Promise<Handshake>
  /** Connected (the server's `lw:hello` follows). */
  onConnect(): void
  /** Disconnected; `retrying` says whether the transport reconnects by itself (not after a server-side disconnect). */
  onDisconnect(reason: string, retrying: boolean): void
  /** A connection attempt failed or was refused; `retrying` says whether the transport tries again itself. */
  onConnectError(error: LastwordError, retrying: boolean): void
  onHello(hello: unknown): void
  onChanges(event: unknown): void
}

/** A connection to the sync server. */
export interface Transport {
  /** Starts connecting (and reconnecting after losses) until {@link Transport.close}. */
  open(handlers: TransportHandlers): void
  /** Disconnects and stops reconnecting; pending requests fail with `TRANSIENT`. */
  close(): void
  /**
   * Sends a request and resolves with the server's reply. Rejects with `TRANSIENT` when not connected,
   * on timeout, or when the connection drops before the reply (the request may or may not have run).
   */
  request<E extends keyof ClientToServerEvents>(event: E, payload: RequestOf<E>, timeoutMs: number): Promise<ReplyOf<E>>
}

/** Options of {@link createSocketTransport}. */
export interface SocketTransportOptions {
  /**
   * The server URL — or the URLs of several server nodes serving one database: the client connects to
   * one, and moves to the next (round robin) when a connection attempt fails or an established
   * connection is lost. A socket.io client is opened with `transports: ['websocket']`.
   */
  url?: string | readonly string[]
  /** Or a socket made by the app (not yet connected); it is dedicated to lastword and disconnected on close. */
  socket?: Socket
  /** First reconnection delay, ms (socket.io's `reconnectionDelay`). */
  reconnectionDelay?: number
  /** Largest reconnection delay, ms (socket.io's `reconnectionDelayMax`). */
  reconnectionDelayMax?: number
  /** Any other socket.io client option. */
  ioOptions?: Partial<ManagerOptions & SocketOptions>
}

type SyncSocket = Socket<ServerToClientEvents, ClientToServerEvents>

/**
 * The default transport: socket.io. The handshake goes in `auth` as a callback, so every reconnection
 * asks for a fresh token.
 *
 * @example
 * const transport = createSocketTransport({ url: 'https://api.example.com' })
 * // several server nodes: the next one is tried when a connection fails or is lost
 * const clustered = createSocketTransport({ url: ['https://a.example.com', 'https://b.example.com'] })
 * const client = createSyncClient({ name: 'app', transport })
 */
export function createSocketTransport(options: SocketTransportOptions): Transport {
  const urls = options.url === undefined ? [] : typeof options.url === 'string' ? [options.url] : [...options.url]
  if (urls.length === 0 && options.socket === undefined) {
    throw new LastwordError('BAD_REQUEST', 'createSocketTransport needs `url` (one or more) or `socket`')
  }
  if (urls.some((u) => typeof u !== 'string' || u.length === 0)) throw new LastwordError('BAD_REQUEST', 'Every url must be a non-empty string')
  // Several nodes: socket.io's own reconnection would keep retrying the node that failed. Instead the
  // transport reports every loss as not retried, the client reopens it after its backoff, and the
  // reopened transport tries the next URL.
  const rotate = options.socket === undefined && urls.length > 1
  let index = 0
  let moveOn = false
  let socket: SyncSocket | null = null
  let detach: (() => void) | null = null
  const pending = new Set<(error: LastwordError) => void>()

  const failPending = (reason: string): void => {
    const error = new LastwordError('TRANSIENT', `The connection was lost before the server answered (${reason}); the request is retried`)
    for (const fail of [...pending]) fail(error)
  }

  return {
    open(handlers) {
      if (socket !== null) return
      const auth = (cb: (data: object) => void): void => {
        void handlers.handshake().then(cb)
      }
      if (moveOn) index = (index + 1) % urls.length
      moveOn = false
      const created: SyncSocket =
        options.socket !== undefined
          ? (options.socket as SyncSocket)
          : io(urls[index] as string, {
              autoConnect: false,
              transports: ['websocket'],
              reconnectionDelay: options.reconnectionDelay ?? 500,
              reconnectionDelayMax: options.reconnectionDelayMax ?? 10_000,
              ...options.ioOptions,
              ...(rotate ? { reconnection: false, forceNew: true } : {}),
            })
      created.auth = auth
      socket = created
      const onConnect = (): void => handlers.onConnect()
      const onDisconnect = (reason: string): void => {
        failPending(reason)
        if (rotate && reason !== 'io client disconnect') moveOn = true
        // socket.io does not reconnect after the server disconnected the socket ('io server disconnect').
        handlers.onDisconnect(reason, created.active && !rotate)
      }
      const onConnectError = (error: Error & { data?: unknown }): void => {
        // A refusal by the server's middleware carries the wire error in `data`; socket.io does not
        // retry those by itself (`active` is false). Anything else is a network failure it retries.
        const lw = error.data !== undefined ? fromWireError(error.data) : new LastwordError('TRANSIENT', `Cannot reach the server (${error.message})`)
        if (rotate) moveOn = true
        handlers.onConnectError(lw, created.active && !rotate)
      }
      const onHello = (hello: unknown): void => handlers.onHello(hello)
      const onChanges = (event: unknown): void => handlers.onChanges(event)
      created.on('connect', onConnect)
      created.on('disconnect', onDisconnect)
      created.on('connect_error', onConnectError)
      created.on('lw:hello', onHello)
      created.on('lw:changes', onChanges)
      detach = () => {
        created.off('connect', onConnect)
        created.off('disconnect', onDisconnect)
        created.off('connect_error', onConnectError)
        created.off('lw:hello', onHello)
        created.off('lw:changes', onChanges)
      }
      created.connect()
    },
    close() {
      const current = socket
      if (current === null) return
      socket = null
      detach?.()
      detach = null
      current.disconnect()
      failPending('closed')
    },
    request(event, payload, timeoutMs) {
      const current = socket
      if (current === null || !current.connected) {
        return Promise.reject(new LastwordError('TRANSIENT', 'Not connected to the sync server'))
      }
      return new Promise((resolve, reject) => {
        const fail = (error: LastwordError): void => {
          pending.delete(fail)
          reject(error)
        }
        pending.add(fail)
        const ack = (error: Error | null, reply: unknown): void => {
          if (!pending.has(fail)) return
          pending.delete(fail)
          if (error !== null) reject(new LastwordError('TRANSIENT', `The server did not answer ${event} within ${timeoutMs} ms`))
          else resolve(reply as never)
        }
        // socket.io's typed `emit` cannot see through the generic event name; the payload type is checked above.
        ;(current.timeout(timeoutMs) as unknown as { emit(e: string, p: unknown, cb: typeof ack): void }).emit(event, payload, ack)
      })
    },
  }
}
