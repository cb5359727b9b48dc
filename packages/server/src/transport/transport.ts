/**
 * The socket.io transport: attaches lastword to a socket.io server, runs the handshake, keeps one
 * {@link Session} per socket (principal, client id, subscriptions, rate limit, expiry) and routes its
 * events to the engine and realtime.
 */
import { Server as HttpServer } from 'node:http'
import { Server as HttpsServer } from 'node:https'
import { performance } from 'node:perf_hooks'
import { LastwordError, type ClientToServerEvents, type Reply, type ServerToClientEvents } from '@lastword/core'
import { Server, type ServerOptions } from 'socket.io'
import type { CommittedChange, Limits, Logger, SyncEngine } from '../types.js'
import { watchBackpressure } from './backpressure.js'
import { identify, toConnectError, type Identity } from './handshake.js'
import { helloFor } from './protocol-adapter.js'
import { createOriginCheck, createOriginMiddleware, type OriginCheck } from './origin.js'
import { installPacketGuard } from './packet-guard.js'
import { createRealtime } from './realtime.js'
import { errorReply, toPublicError } from './replies.js'
import { handlePush, handleSync, handleUnsubscribe, type RequestDeps } from './requests.js'
import { createTokenBucket } from './token-bucket.js'
import { createMeter, observeSync, type Meter } from '../metrics.js'
import type { Authenticate, DuplexConnection, Session, SessionSocket, SyncIoServer, SyncSocket } from './types.js'

/**
 * `lw:sync` requests one socket may have in progress at once; more are `RATE_LIMITED`. The token bucket
 * bounds requests per second, this bounds the memory and database work one socket can hold at a time.
 */
export const MAX_IN_FLIGHT_PER_SOCKET = 16

/** The longest delay `setTimeout` honours (2^31 − 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647

/** What {@link attach} accepts: an HTTP(S) server to create socket.io on, or an existing socket.io server. */
export type AttachTarget = HttpServer | HttpsServer | SyncIoServer

export interface TransportOptions {
  engine: SyncEngine
  limits: Limits
  logger: Logger
  authenticate: Authenticate | undefined
  allowedOrigins: readonly string[] | undefined
  /**
   * The socket.io adapter of the servers `attach` creates on an HTTP server (several nodes: the
   * PostgreSQL or Redis adapter). An attached socket.io `Server` keeps its own.
   */
  adapter?: ServerOptions['adapter'] | undefined
  /** Where sockets, syncs, queued bytes and errors are reported (metrics.ts); none by default. */
  meter?: Meter | undefined
}

export interface Transport {
  attach(target: AttachTarget): SyncIoServer
  /** The first socket.io server attached, if any. */
  readonly io: SyncIoServer | undefined
  /** Fans committed changes out to subscribed sockets (wired to `engine.onCommit`). */
  deliver(changes: readonly CommittedChange[], origin?: unknown): void
  /** Resolves once queued realtime deliveries are done (tests, shutdown). */
  idle(): Promise<void>
  /**
   * Refuses new connections and new requests (`CLOSED`), waits for the syncs in flight to answer, then
   * disconnects every socket. HTTP servers are the app's to close.
   */
  close(): Promise<void>
  /**
   * Serves one connection that is not a socket.io socket (an in-process duplex: the fault-injecting test
   * transport). It goes through the same handshake checks as a socket.io connection (origin, schema,
   * protocol, `authenticate`, client-id binding) and is then handled exactly like one. Resolves once the
   * session is set up (`lw:hello` emitted); rejects with the `LastwordError` a socket.io client would get
   * as its `connect_error` data.
   */
  serveConnection(connection: DuplexConnection): Promise<void>
}

export function createTransport(options: TransportOptions): Transport {
  const { engine, limits, logger, authenticate } = options
  const meter = options.meter ?? createMeter(undefined, [])
  const originCheck: OriginCheck | undefined = options.allowedOrigins === undefined ? undefined : createOriginCheck(options.allowedOrigins)
  const ios: SyncIoServer[] = []
  const created = new Set<SyncIoServer>()
  const sessions = new Set<Session>()
  const expiryTimers = new Map<Session, NodeJS.Timeout>()
  /** Identities from the handshake, until the socket's `connection` event picks them up. */
  const identities = new WeakMap<SessionSocket, Identity>()
  /** clientId → the principal it is bound to, and how many live sockets use it (V7). */
  const bindings = new Map<string, { principalId: string; sockets: number }>()
  /** Syncs being handled, on every socket: `close()` waits for them before the engine goes. */
  const running = new Set<Promise<unknown>>()
  let closed = false

  const isExpired = (session: Session): boolean => session.principal.expiresAt !== undefined && session.principal.expiresAt <= engine.now()
  const realtime = createRealtime({ engine, logger, isLive: (session) => session.socket.connected && !isExpired(session) })
  const requestDeps: RequestDeps = { engine, limits, logger, realtime }

  /** A socket's handshake (handshake.ts), attached or served (`serveConnection`): its identity, or the refusal it is told, counted. */
  async function identifySocket(socket: Parameters<typeof identify>[0]): Promise<Identity> {
    try {
      return await identify(socket, {
        authenticate,
        originCheck,
        clientIdOwner: (clientId) => bindings.get(clientId)?.principalId,
        bindClientId: (clientId, principalId) => engine.bindClient(clientId, principalId),
        now: () => engine.now(),
        logger,
        timeoutMs: limits.handshakeTimeoutMs,
      })
    } catch (error) {
      const refusal = toPublicError(error, logger, { event: 'handshake' })
      meter.error(refusal.code, 'handshake')
      throw refusal
    }
  }

  function expire(session: Session): void {
    logger.info({ principal: session.principal.id, clientId: session.clientId }, 'lastword: session expired; socket closed')
    session.socket.disconnect(true)
  }

  function scheduleExpiry(session: Session): void {
    const at = session.principal.expiresAt
    if (at === undefined) return
    const arm = (): void => {
      const delay = at - engine.now()
      if (delay <= 0) {
        expiryTimers.delete(session)
        expire(session)
        return
      }
      const timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS))
      timer.unref()
      expiryTimers.set(session, timer)
    }
    arm()
  }

  function onConnection(socket: SessionSocket): void {
    const identity = identities.get(socket)
    identities.delete(socket)
    if (identity === undefined || closed) {
      socket.disconnect(true)
      return
    }
    const { principal, clientId, protocolVersion } = identity
    // Re-checked here: two handshakes with one clientId may have passed the middleware together.
    const binding = bindings.get(clientId)
    if (binding !== undefined && binding.principalId !== principal.id) {
      logger.warn({ principal: principal.id, clientId }, 'lastword: clientId bound to another principal; socket closed')
      socket.disconnect(true)
      return
    }
    if (binding === undefined) bindings.set(clientId, { principalId: principal.id, sockets: 1 })
    else binding.sockets++

    const session: Session = { socket, principal, clientId, protocolVersion, subscriptions: new Map(), inFlight: 0 }
    sessions.add(session)
    meter.socketsConnected(sessions.size)
    scheduleExpiry(session)
    const pressure = watchBackpressure(socket, limits.maxQueuedBytesPerSocket, (reason) => {
      meter.socketDropped()
      logger.warn({ principal: principal.id, clientId, reason }, 'lastword: socket not reading; closed')
    })

    const clock = () => performance.now()
    const requests = createTokenBucket({ ratePerSecond: limits.maxRequestsPerSecond, burst: limits.maxRequestsPerSecond, clock })
    // A client told RATE_LIMITED that keeps sending as fast again is not a client but a flood: cut it off.
    const refusals = createTokenBucket({ ratePerSecond: limits.maxRequestsPerSecond, burst: limits.maxRequestsPerSecond, clock })

    // Runs before every incoming event, known or not.
    socket.use((packet, next) => {
      const ack: unknown = packet[packet.length - 1]
      const reply = (r: Reply<never>): void => {
        if (typeof ack === 'function') (ack as (reply: Reply<never>) => void)(r)
      }
      // Past its bound a socket is not served at all, not even a refusal: it is being closed.
      if (pressure.overflowed) return
      if (closed) {
        reply({ ok: false, error: new LastwordError('CLOSED', 'The server is shutting down; retry later').toWire() })
        return
      }
      if (isExpired(session)) {
        reply({ ok: false, error: new LastwordError('UNAUTHENTICATED', 'The session has expired; sign in again').toWire() })
        expire(session)
        return
      }
      if (!requests.tryTake()) {
        meter.error('RATE_LIMITED', 'lw:sync')
        reply(errorReply(rateLimited(limits), logger, { principal: principal.id, clientId }))
        if (!refusals.tryTake()) {
          logger.warn({ principal: principal.id, clientId }, 'lastword: request flood; socket closed')
          socket.disconnect(true)
        }
        return
      }
      next()
    })

    // `lw:sync` and `lw:push` (protocol 7): the same admission, in-flight bound and expiry rules.
    const serve = (event: 'lw:sync' | 'lw:push', handle: (raw: unknown) => Promise<Reply<unknown>>): void => {
      socket.on(event, (raw: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return // nowhere to answer: a request without an ack is ignored
        const answer = ack as (reply: Reply<unknown>) => void
        // Past the middleware but not yet started when close() began: refused like any later request.
        if (closed) return answer({ ok: false, error: new LastwordError('CLOSED', 'The server is shutting down; retry later').toWire() })
        if (session.inFlight >= MAX_IN_FLIGHT_PER_SOCKET) {
          meter.error('RATE_LIMITED', event)
          answer(errorReply(new LastwordError('RATE_LIMITED', `At most ${MAX_IN_FLIGHT_PER_SOCKET} syncs may run at once on one socket; wait for answers`), logger, {}))
          return
        }
        session.inFlight++
        const started = performance.now()
        const work = handle(raw).then((reply) => {
          if (event === 'lw:sync') observeSync(meter, raw, reply, performance.now() - started)
          else if (!reply.ok) meter.error(reply.error.code, event)
          running.delete(work)
          // Nothing after expiry, not even the answer to a request that started before it.
          if (isExpired(session)) {
            session.inFlight--
            return expire(session)
          }
          answer(reply)
          meter.queuedBytes(pressure.queued())
          // In flight until written: a socket that does not read holds its answers, not more requests.
          void pressure.written().then(() => session.inFlight--)
        })
        running.add(work)
      })
    }
    serve('lw:sync', (raw) => handleSync(raw, session, requestDeps))
    serve('lw:push', (raw) => handlePush(raw, session, requestDeps))

    socket.on('lw:unsubscribe', (raw: unknown, ack: unknown) => {
      const reply = handleUnsubscribe(raw, session, requestDeps)
      if (!reply.ok) meter.error(reply.error.code, 'lw:unsubscribe')
      if (typeof ack === 'function') (ack as (reply: Reply<null>) => void)(reply)
    })

    socket.on('disconnect', (reason) => {
      logger.debug({ principal: principal.id, clientId, reason }, 'lastword: socket disconnected')
      const timer = expiryTimers.get(session)
      if (timer !== undefined) clearTimeout(timer)
      expiryTimers.delete(session)
      realtime.forget(session)
      sessions.delete(session)
      meter.socketsConnected(sessions.size)
      const b = bindings.get(clientId)
      if (b !== undefined && --b.sockets <= 0) bindings.delete(clientId)
    })

    logger.debug({ principal: principal.id, clientId, address: socket.handshake.address }, 'lastword: socket connected')
    socket.emit('lw:hello', helloFor(protocolVersion, engine.now(), engine.tables))
  }

  function attach(target: AttachTarget): SyncIoServer {
    if (closed) throw new LastwordError('CLOSED', 'This sync server was closed; create a new one')
    let io: SyncIoServer
    if (target instanceof HttpServer || target instanceof HttpsServer) {
      io = new Server<ClientToServerEvents, ServerToClientEvents>(target, {
        maxHttpBufferSize: limits.maxMessageBytes,
        connectTimeout: connectTimeout(limits),
        ...(options.adapter === undefined ? {} : { adapter: options.adapter }),
        ...(options.allowedOrigins === undefined ? {} : { cors: { origin: [...options.allowedOrigins], credentials: true } }),
      })
      created.add(io)
    } else if (isIoServer(target)) {
      io = target
      const size = (io.engine as { opts?: { maxHttpBufferSize?: number } } | undefined)?.opts?.maxHttpBufferSize
      if (size !== undefined && size > limits.maxMessageBytes) {
        logger.warn(
          { maxHttpBufferSize: size, maxMessageBytes: limits.maxMessageBytes },
          'lastword: the socket.io Server accepts messages larger than limits.maxMessageBytes; create it with maxHttpBufferSize set to that limit',
        )
      }
      // An unauthenticated connection gets the handshake budget, however the app configured the server.
      if (io.connectTimeout() > connectTimeout(limits)) io.connectTimeout(connectTimeout(limits))
    } else {
      throw new LastwordError('BAD_REQUEST', 'attach() takes a node:http or node:https Server, or a socket.io Server')
    }
    // Binary packets and oversized handshakes refused at the parser, on every server lastword serves.
    installPacketGuard(io, limits)
    if (originCheck !== undefined) {
      if (io.engine === undefined) {
        throw new LastwordError('BAD_REQUEST', 'allowedOrigins needs the socket.io Server bound to an HTTP server before attach(); or pass the HTTP server itself')
      }
      io.engine.use(createOriginMiddleware(originCheck))
    }
    io.use((socket, next) => {
      if (closed) return next(toConnectError(new LastwordError('CLOSED', 'The server is shutting down; retry later')))
      identifySocket(socket).then(
        (identity) => {
          identities.set(socket, identity)
          next()
        },
        (refusal: LastwordError) => next(toConnectError(refusal)),
      )
    })
    io.on('connection', (socket: SyncSocket) => onConnection(socket as unknown as SessionSocket))
    ios.push(io)
    return io
  }

  async function serveConnection(connection: DuplexConnection): Promise<void> {
    if (closed) throw new LastwordError('CLOSED', 'The server is shutting down; retry later')
    const socket = adaptDuplex(connection)
    const identity = await identifySocket(socket)
    if (closed) throw new LastwordError('CLOSED', 'The server is shutting down; retry later')
    // The connection may have ended while `authenticate` ran; socket.io drops such sockets silently.
    if (!connection.connected) throw new LastwordError('TRANSIENT', 'The connection ended during the handshake')
    identities.set(socket, identity)
    onConnection(socket)
  }

  return {
    attach,
    get io() {
      return ios[0]
    },
    deliver: (changes, origin) => realtime.deliver(changes, origin),
    idle: () => realtime.idle(),
    serveConnection,
    async close() {
      closed = true
      // Syncs in flight finish and answer before the engine (and its pool) goes; new ones get CLOSED.
      while (running.size > 0) await Promise.allSettled([...running])
      for (const session of [...sessions]) session.socket.disconnect(true)
      for (const timer of expiryTimers.values()) clearTimeout(timer)
      expiryTimers.clear()
      for (const io of created) io.engine.close()
      await realtime.idle()
    },
  }
}

/**
 * A duplex as a session socket: `use` middlewares run before every handler of a client event, as
 * socket.io runs them before every incoming packet (`[event, ...args]`).
 */
function adaptDuplex(connection: DuplexConnection): SessionSocket {
  type Middleware = (packet: unknown[], next: (err?: Error) => void) => void
  const middlewares: Middleware[] = []
  const handshake = {
    auth: connection.handshake.auth,
    headers: connection.handshake.headers ?? {},
    address: connection.handshake.address ?? 'in-process',
  }
  return {
    get connected() {
      return connection.connected
    },
    handshake,
    use(fn) {
      middlewares.push(fn)
    },
    on(event, listener) {
      const call = listener as (...args: unknown[]) => void
      if (event === 'disconnect') return connection.on(event, listener)
      connection.on(event, ((...args: unknown[]) => {
        const packet = [event, ...args]
        const step = (i: number): void => {
          const middleware = middlewares[i]
          if (middleware === undefined) return call(...args)
          middleware(packet, (err) => {
            if (err === undefined) step(i + 1)
          })
        }
        step(0)
      }) as (...args: never[]) => void)
    },
    emit: (event, ...args) => connection.emit(event, ...args),
    disconnect: (close) => connection.disconnect(close),
  }
}

/**
 * socket.io's `connectTimeout`: a connection gets `handshakeTimeoutMs` to send its handshake and as long
 * again for `authenticate`, which is refused with a typed `TRANSIENT` at its own budget before this
 * closes the connection untyped.
 */
function connectTimeout(limits: Limits): number {
  return 2 * limits.handshakeTimeoutMs
}

function rateLimited(limits: Limits): LastwordError {
  return new LastwordError('RATE_LIMITED', `More than ${limits.maxRequestsPerSecond} requests per second on one socket; slow down and retry`, {
    limit: limits.maxRequestsPerSecond,
  })
}

function isIoServer(value: unknown): value is SyncIoServer {
  if (value instanceof Server) return true
  // Another copy of socket.io (a second install) fails instanceof; recognise it by shape.
  const v = value as Partial<SyncIoServer> | null
  return typeof v === 'object' && v !== null && typeof v.of === 'function' && typeof v.use === 'function' && typeof v.on === 'function'
}
