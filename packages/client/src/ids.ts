/**
 * Identifiers made on the client: record uids (UUIDv7, so an offline create needs no server) and node
 * ids (one per client instance: each tab is its own writer, packages/core/SPEC.md "Stamps"). Randomness
 * comes from the runtime seam, so a test with a manual runtime gets reproducible ids.
 */
import { nodeIdFromBytes, type LastwordError } from '@lastword/core'
import { v7 } from 'uuid'
import { createDefaultRuntime, type Runtime } from './runtime.js'

/** The parts of the runtime ids need. */
export type IdSource = Pick<Runtime, 'now' | 'randomBytes'>

const defaultRuntime: IdSource = createDefaultRuntime()

/** The largest time a UUIDv7 holds: 48 bits of ms. */
const MAX_UUID_MS = 0xffff_ffff_ffff

/**
 * A UUIDv7 (RFC 9562, the `uuid` package's v7): 48 bits of Unix time in ms, then version and variant
 * bits around random bits. Time-ordered, so uid order roughly follows creation order.
 *
 * @param ms the time to embed (defaults to the runtime's clock); the client passes its corrected clock.
 * @param runtime where the time and the random bytes come from (default: the environment's).
 */
export function uuidv7(ms?: number, runtime: IdSource = defaultRuntime): string {
  const msecs = Math.max(0, Math.min(Math.floor(ms ?? runtime.now()), MAX_UUID_MS))
  // Explicit bytes and time: uuid's own monotonic state (global, on the real clock) stays unused.
  return v7({ msecs, random: runtime.randomBytes(16) })
}

/** A fresh node id: 16 lowercase hex digits of cryptographic randomness. */
export function randomNodeId(runtime: IdSource = defaultRuntime): string {
  return nodeIdFromBytes(runtime.randomBytes(8))
}

/** A short random id for realtime subscriptions, live queries and tab requests (unique per client). */
export function randomSubscriptionId(runtime: IdSource = defaultRuntime): string {
  return `s${nodeIdFromBytes(runtime.randomBytes(8))}`
}

/** One client instance's ids (see {@link createInstanceIds}). */
export interface InstanceIds {
  /** The node id of this instance's stamps. */
  node: string
  /** This instance's id: its tab id, and what its handshakes present unless refused (below). */
  clientId: string
  /** The clientId the next handshake presents. */
  handshakeId(): string
  /** Sees a connection's refusal: a clientId bound to another principal is replaced by a fresh one. */
  noteRefusal(error: LastwordError): void
}

/**
 * Draws an instance's ids. The clientId is drawn apart from the node id: stamps travel to other tenants,
 * and a clientId read from one would let them connect as this client (the server binds a clientId to the
 * principal that first used it, attack V7). When the server refuses the clientId as another principal's
 * (the app switched accounts on this client), the next handshake presents a fresh one: an id bound
 * elsewhere never locks this client out.
 */
export function createInstanceIds(runtime: IdSource = defaultRuntime): InstanceIds {
  const node = randomNodeId(runtime)
  const clientId = randomNodeId(runtime)
  let current = clientId
  return {
    node,
    clientId,
    handshakeId: () => current,
    noteRefusal(error) {
      if (error.code === 'FORBIDDEN' && error.details?.['clientId'] === current) current = randomNodeId(runtime)
    },
  }
}
