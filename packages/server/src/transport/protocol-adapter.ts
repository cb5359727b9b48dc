/**
 * The one place the previous protocol's wire shapes are kept working (SPEC.md section 11, "Protocol
 * versions"). A server speaks the current protocol and the previous one (core's `protocolVerdict`);
 * everything a client of the previous protocol receives or sends passes through here.
 *
 * `PREVIOUS_PROTOCOL_VERSION` (6) differs from the current (7) only by what 7 added:
 * - `lw:push` (SPEC.md section 12): dirty records across tables in write order, a client transaction
 *   as one unit. A 6 client never sends it; one that does is not a 6 client and is refused
 *   ({@link pushAllowed}). It pushes with `lw:sync`, table by table, as protocol 6 always did.
 * - `UNIT_REFUSED` is an outcome of `lw:push` only: a 6 client never receives it.
 * - `lw:hello`: 6's table descriptors are strict objects without a key (`key`/`keyType`, SPEC.md section 4,
 *   "The key") or foreign keys (`foreignKeys`, section 4a), and its column types know no `uuid`: a 6
 *   client would refuse the hello whole, so those are left out and uuid columns described as text
 *   ({@link helloFor}). The wire carries the uid as `uid` in every protocol, so nothing else changes:
 *   its rows carry the uid as `uid` (not under the app's key name), the uids it makes are UUIDv7s, which
 *   a uuid key takes, a value the server's checks refuse comes back as a `rejected` outcome
 *   (`INVALID_VALUE`, `INVALID_UID`), which it keeps and reports, and the server still judges its pushes
 *   by the foreign keys (PD1).
 * - Otherwise `lw:sync` requests and pages, outcomes and realtime events are the same shapes in both:
 *   what a 6 client sends is passed on as is, and what it receives is what a 7 client does.
 */
import { LastwordError, PROTOCOL_VERSION, type Hello, type RealtimeEvent, type SyncPageWire, type SyncRequest, type TableDescriptor } from '@lastword/core'

/** The `lw:hello` a client of `protocol` understands. */
export function helloFor(protocol: number, serverTime: number, tables: readonly TableDescriptor[]): Hello {
  if (protocol === PROTOCOL_VERSION) return { protocolVersion: protocol, serverTime, tables: [...tables] }
  return {
    protocolVersion: protocol,
    serverTime,
    // No key, keyType or foreignKeys; uuid columns as text (above).
    tables: tables.map(({ key: _key, keyType: _keyType, foreignKeys: _foreignKeys, ...rest }) => ({
      ...rest,
      columns: rest.columns.map((c) => (c.type === 'uuid' ? { ...c, type: 'text' as const } : c)),
    })),
  }
}

/** A checked `lw:sync` request of a client of `protocol`, as the engine takes it (the same in 6 and 7). */
export function requestFrom(_protocol: number, request: SyncRequest): SyncRequest {
  return request
}

/** Refuses `lw:push` from a client of a protocol without it. */
export function pushAllowed(protocol: number): void {
  if (protocol !== PROTOCOL_VERSION) {
    throw new LastwordError('BAD_REQUEST', `Invalid push request: lw:push is not part of protocol ${protocol}; push with lw:sync`)
  }
}

/** The page a client of `protocol` reads (the same in 6 and 7). */
export function pageFor(_protocol: number, page: SyncPageWire): SyncPageWire {
  return page
}

/** The realtime event a client of `protocol` reads (the same in 6 and 7). */
export function eventFor(_protocol: number, event: RealtimeEvent): RealtimeEvent {
  return event
}
