/**
 * The one place the previous protocol's wire shapes are kept working (SPEC.md section 11, "Protocol
 * versions"). A server speaks the current protocol and the previous one (core's `protocolVerdict`);
 * everything a client of the previous protocol receives or sends passes through here.
 *
 * `PREVIOUS_PROTOCOL_VERSION` (5) differs from the current (6) only by what 6 added:
 * - `lw:hello`: 5's table descriptors are strict objects without `schemaVersion` and `renames`: a 5
 *   client would refuse the hello whole, so they are left out ({@link helloFor}).
 * - `lw:sync` requests: 5 sends no `schemaVersion` (its pushes are full rows of the current schema, as
 *   protocol 5 always meant); one that carries it is not a 5 client and is refused ({@link requestFrom}).
 * - Pages, outcomes and realtime events are the same shapes in both (6 answers a push it cannot map with
 *   a `rejected` outcome coded `SCHEMA_OUTDATED`, which only a push stating a schema version can get).
 */
import { LastwordError, PROTOCOL_VERSION, type Hello, type SyncRequest, type TableDescriptor } from '@lastword/core'

/** The `lw:hello` a client of `protocol` understands. */
export function helloFor(protocol: number, serverTime: number, tables: readonly TableDescriptor[]): Hello {
  if (protocol === PROTOCOL_VERSION) return { protocolVersion: protocol, serverTime, tables: [...tables] }
  return { protocolVersion: protocol, serverTime, tables: tables.map((t) => ({ name: t.name, columns: t.columns })) }
}

/** A checked `lw:sync` request of a client of `protocol`, as the engine takes it. */
export function requestFrom(protocol: number, request: SyncRequest): SyncRequest {
  if (protocol === PROTOCOL_VERSION) return request
  if (request.schemaVersion !== undefined) {
    throw new LastwordError('BAD_REQUEST', `Invalid sync request: schemaVersion is not part of protocol ${protocol}`)
  }
  return request
}
