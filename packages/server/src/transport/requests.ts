/**
 * The request handlers of a connected socket: `lw:sync`, `lw:push` (protocol 7) and `lw:unsubscribe`. The wire schema (with
 * core's refusal of pollution keys) and the socket's own limit (live subscriptions) are checked here;
 * the limits of a sync request itself (records, entries, page size) are the engine's, checked once there.
 */
import {
  compactPage,
  LastwordError,
  parseWire,
  pushRequestSchema,
  syncRequestSchema,
  unsubscribeRequestSchema,
  type PushAnswer,
  type Reply,
  type SyncPageWire,
  type SyncRequest,
} from '@lastword/core'
import type { Limits, Logger, SyncEngine } from '../types.js'
import { pageFor, pushAllowed, requestFrom } from './protocol-adapter.js'
import type { Realtime } from './realtime.js'
import { errorReply, okReply } from './replies.js'
import type { Session } from './types.js'

export interface RequestDeps {
  engine: SyncEngine
  limits: Limits
  logger: Logger
  realtime: Realtime
}

/** Checks a raw `lw:sync` request against the schema and the limits; returns what the engine gets. */
export function checkSyncRequest(raw: unknown, session: Session, limits: Limits): SyncRequest {
  // parseWire refuses a request carrying a `__proto__` key whole (attack V5): a validator would drop it silently.
  const request = requestFrom(session.protocolVersion, parseWire(syncRequestSchema, raw, 'sync request'))
  const id = request.subscription
  // Refused before the sync runs, so a refused subscription never leaves a half-done request behind.
  if (id !== undefined && !session.subscriptions.has(id) && session.subscriptions.size >= limits.maxSubscriptionsPerSocket) {
    throw new LastwordError('TOO_LARGE', `A socket may keep at most ${limits.maxSubscriptionsPerSocket} live subscriptions; unsubscribe some first`, {
      limit: limits.maxSubscriptionsPerSocket,
    })
  }
  return request
}

export async function handleSync(raw: unknown, session: Session, deps: RequestDeps): Promise<Reply<SyncPageWire>> {
  const context = { principal: session.principal.id, clientId: session.clientId, event: 'lw:sync' }
  try {
    const request = checkSyncRequest(raw, session, deps.limits)
    // The session as the commit's origin: realtime does not echo a socket's own writes back to it.
    const page = await deps.engine.sync({ principal: session.principal, origin: session }, request)
    // A socket that left while the sync ran must not be indexed again.
    if (request.subscription !== undefined && session.socket.connected) {
      deps.realtime.subscribe(session, { id: request.subscription, table: request.table, where: request.where })
    }
    return okReply(pageFor(session.protocolVersion, compactPage(page)))
  } catch (error) {
    return errorReply(error, deps.logger, context)
  }
}

/** `lw:push`: the client's dirty records across tables, unit by unit (SPEC.md section 12). */
export async function handlePush(raw: unknown, session: Session, deps: RequestDeps): Promise<Reply<PushAnswer>> {
  const context = { principal: session.principal.id, clientId: session.clientId, event: 'lw:push' }
  try {
    pushAllowed(session.protocolVersion)
    const request = parseWire(pushRequestSchema, raw, 'push request')
    // The session as the commit's origin: realtime does not echo a socket's own writes back to it.
    return okReply(await deps.engine.push({ principal: session.principal, origin: session }, request))
  } catch (error) {
    return errorReply(error, deps.logger, context)
  }
}

export function handleUnsubscribe(raw: unknown, session: Session, deps: RequestDeps): Reply<null> {
  try {
    const { subscription } = parseWire(unsubscribeRequestSchema, raw, 'unsubscribe request')
    // Unknown ids are fine: the client may be retrying an unsubscribe whose answer it lost.
    deps.realtime.unsubscribe(session, subscription)
    return okReply(null)
  } catch (error) {
    return errorReply(error, deps.logger, { principal: session.principal.id, clientId: session.clientId, event: 'lw:unsubscribe' })
  }
}
