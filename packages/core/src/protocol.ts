/**
 * Which protocol versions a server serves (SPEC.md section 11, "Protocol versions"): the current one and
 * the previous one, whose wire shapes the server's adapter translates in one place. Anything else is
 * refused with `PROTOCOL_MISMATCH`, `details.upgrade` telling an older client it must upgrade.
 */
import { LastwordError } from './errors.js'
import { PROTOCOL_VERSION } from './wire.js'

/**
 * The previous protocol, still served: the one the release before this spoke (deployed clients speak
 * it). A number of its own, not `PROTOCOL_VERSION - 1`: one release may bump the protocol more than once,
 * and what the adapter translates is this protocol's shapes.
 */
export const PREVIOUS_PROTOCOL_VERSION = 6

/** Every protocol a server of this version serves, newest first. */
export const SUPPORTED_PROTOCOLS: readonly number[] = [PROTOCOL_VERSION, PREVIOUS_PROTOCOL_VERSION]

/** How a server answers a client's protocol version. */
export type ProtocolVerdict = { kind: 'current' } | { kind: 'previous' }

/**
 * The server's answer to the protocol a client states: served as is, served through the adapter, or
 * `PROTOCOL_MISMATCH` whose `details` say what the server speaks and whether the client must upgrade
 * (`upgrade: true`: it is older than the current protocol and not served; `false`: it is newer than the server).
 */
export function protocolVerdict(version: number): ProtocolVerdict {
  if (version === PROTOCOL_VERSION) return { kind: 'current' }
  if (version === PREVIOUS_PROTOCOL_VERSION) return { kind: 'previous' }
  const upgrade = version < PROTOCOL_VERSION
  throw new LastwordError(
    'PROTOCOL_MISMATCH',
    upgrade
      ? `This server speaks lastword protocols ${PREVIOUS_PROTOCOL_VERSION}–${PROTOCOL_VERSION}; this client is older: upgrade it (its unsynced writes are kept)`
      : `This server speaks lastword protocols ${PREVIOUS_PROTOCOL_VERSION}–${PROTOCOL_VERSION}; this client is newer: the server must be upgraded`,
    { supported: [...SUPPORTED_PROTOCOLS], upgrade },
  )
}
