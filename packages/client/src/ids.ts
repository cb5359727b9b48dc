/**
 * Identifiers made on the client: record uids (UUIDv7, so an offline create needs no server) and node
 * ids (one per client instance: each tab is its own writer, packages/core/SPEC.md "Stamps"). Randomness
 * comes from the runtime seam, so a test with a manual runtime gets reproducible ids.
 */
import { nodeIdFromBytes, type LastwordError } from '@lastword/core'
import { createDefaultRuntime, type Runtime } from './runtime.js'

/** The parts of the runtime ids need. */
export type IdSource = Pick<Runtime, 'now' | 'randomBytes'>

const defaultRuntime: IdSource = createDefaultRuntime()

/** The largest time a UUIDv7 holds: 48 bits of ms. */
const MAX_UUID_MS = 0xffff_ffff_ffff

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * A UUIDv7 (RFC 9562, section 5.7): 48 bits of Unix time in ms (big-endian), the version nibble 7, 12
 * random bits, the variant bits 10, then 62 random bits. Time-ordered, so uid order roughly follows
 * creation order. Written here (a dozen lines) rather than taken from a package: it is all the client
 * needs of one, and the browser bundle pays for every byte.
 *
 * @param ms the time to embed (defaults to the runtime's clock); the client passes its corrected clock.
 * @param runtime where the time and the random bytes come from (default: the environment's).
 */
export function uuidv7(ms?: number, runtime: IdSource = defaultRuntime): string {
  const msecs = Math.max(0, Math.min(Math.floor(ms ?? runtime.now()), MAX_UUID_MS))
  const b = runtime.randomBytes(16)
  // 2^48 does not fit 32-bit operators: the high 16 bits and the low 32 bits apart.
  const high = Math.floor(msecs / 0x1_0000_0000)
  const low = msecs % 0x1_0000_0000
  b[0] = high >>> 8
  b[1] = high & 0xff
  b[2] = low >>> 24
  b[3] = (low >>> 16) & 0xff
  b[4] = (low >>> 8) & 0xff
  b[5] = low & 0xff
  b[6] = 0x70 | ((b[6] as number) & 0x0f)
  b[8] = 0x80 | ((b[8] as number) & 0x3f)
  let out = ''
  for (let i = 0; i < 16; i++) out += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + HEX[b[i] as number]
  return out
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
