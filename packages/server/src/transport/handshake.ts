/**
 * The socket.io handshake middleware: who may connect, speaking which protocol (ARCHITECTURE.md,
 * "Connect"). Every refusal reaches the client as a `connect_error` whose `data` is the wire error.
 */
import { LastwordError, handshakeSchema, isLastwordError, parseWire, protocolVerdict, type Handshake } from '@lastword/core'
import type { ExtendedError } from 'socket.io'
import type { Logger, Principal } from '../types.js'
import type { OriginCheck } from './origin.js'
import type { Authenticate, SessionSocket } from './types.js'

/** What the handshake checks read of a connection. */
type Handshaking = Pick<SessionSocket, 'handshake'>

/** Who a socket is, once its handshake passed. */
export interface Identity {
  principal: Principal
  clientId: string
  /** The protocol the client speaks: the current one or the previous (protocol-adapter.ts). */
  protocolVersion: number
}

/** The principal of every connection when the app passes no `authenticate`. */
export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous' })

export interface HandshakeDeps {
  authenticate: Authenticate | undefined
  originCheck: OriginCheck | undefined
  /** Which principal a client id is bound to while it has live sockets on this node (V7). */
  clientIdOwner(clientId: string): string | undefined
  /** Binds a client id to a principal durably, across nodes; `false` when another principal holds it (V7). */
  bindClientId(clientId: string, principalId: string): Promise<boolean>
  now(): number
  logger: Logger
  /** How long `authenticate` may take before the connection is refused (`limits.handshakeTimeoutMs`). */
  timeoutMs?: number
}

/**
 * Keys a handshake may carry before it is refused unread: the schema knows three, so a handshake with
 * a million keys costs a count up to this, not a schema walk (and never an echo of the keys).
 */
const MAX_HANDSHAKE_KEYS = 8

/** Wraps a `LastwordError` the way socket.io carries middleware errors: `err.data` is the wire form. */
export function toConnectError(error: LastwordError): ExtendedError {
  const err = new LastwordError(error.code, error.message, error.details) as LastwordError & ExtendedError
  err.data = error.toWire()
  return err
}

/** Runs every check of the handshake; resolves the identity or rejects with a `LastwordError`. */
export async function identify(socket: Handshaking, deps: HandshakeDeps): Promise<Identity> {
  const { handshake } = socket
  if (deps.originCheck !== undefined && !deps.originCheck(handshake.headers.origin)) {
    throw new LastwordError('FORBIDDEN', 'This origin may not connect; add it to allowedOrigins on the server')
  }
  assertHandshakeSize(handshake.auth)
  // parseWire refuses a `__proto__` key (attack V5) that a validator would silently drop or copy.
  const auth: Handshake = parseWire(handshakeSchema, handshake.auth, 'handshake')
  // The current protocol or the previous one (served through protocol-adapter.ts); anything else is
  // PROTOCOL_MISMATCH, telling an older client it must upgrade (core's protocolVerdict).
  protocolVerdict(auth.protocolVersion)
  const principal = await withinBudget(authenticatePrincipal(auth, socket, deps), deps.timeoutMs)
  const owner = deps.clientIdOwner(auth.clientId)
  if ((owner !== undefined && owner !== principal.id) || !(await deps.bindClientId(auth.clientId, principal.id))) {
    throw new LastwordError('FORBIDDEN', 'This clientId is in use by another principal; generate a new one', { clientId: auth.clientId })
  }
  return { principal, clientId: auth.clientId, protocolVersion: auth.protocolVersion }
}

function assertHandshakeSize(auth: unknown): void {
  if (typeof auth !== 'object' || auth === null) return // the schema refuses it, cheaply
  let keys = 0
  for (const key in auth) {
    if (Object.prototype.hasOwnProperty.call(auth, key) && ++keys > MAX_HANDSHAKE_KEYS) {
      throw new LastwordError('BAD_REQUEST', `Invalid handshake: more than ${MAX_HANDSHAKE_KEYS} keys`, { limit: MAX_HANDSHAKE_KEYS })
    }
  }
}

/** `authenticate` gets the handshake budget: a hung token service must not hold connections open. */
function withinBudget<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return work
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LastwordError('TRANSIENT', `Authentication took longer than ${timeoutMs} ms; retry later`)), timeoutMs)
    timer.unref()
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

async function authenticatePrincipal(auth: Handshake, socket: Handshaking, deps: HandshakeDeps): Promise<Principal> {
  if (deps.authenticate === undefined) return ANONYMOUS
  let result: unknown
  try {
    result = await deps.authenticate(auth, { headers: socket.handshake.headers, address: socket.handshake.address })
  } catch (error) {
    if (isLastwordError(error)) throw error
    deps.logger.warn({ err: error, clientId: auth.clientId }, 'lastword: authenticate threw; connection refused')
    throw new LastwordError('UNAUTHENTICATED', 'Authentication failed; sign in again')
  }
  if (result === null || result === undefined) {
    throw new LastwordError('UNAUTHENTICATED', 'Authentication failed; sign in again')
  }
  if (!isPrincipal(result)) {
    deps.logger.error({ clientId: auth.clientId }, 'lastword: authenticate returned something that is not a principal { id: string, expiresAt?: number }')
    throw new LastwordError('UNAUTHENTICATED', 'Authentication failed; sign in again')
  }
  if (result.expiresAt !== undefined && result.expiresAt <= deps.now()) {
    throw new LastwordError('UNAUTHENTICATED', 'The session has expired; sign in again')
  }
  return result
}

function isPrincipal(value: unknown): value is Principal {
  if (typeof value !== 'object' || value === null) return false
  const { id, expiresAt } = value as { id?: unknown; expiresAt?: unknown }
  return typeof id === 'string' && id.length > 0 && (expiresAt === undefined || (typeof expiresAt === 'number' && Number.isFinite(expiresAt)))
}
