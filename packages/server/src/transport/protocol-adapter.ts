/**
 * The one place the previous protocol's wire shapes are kept working (SPEC.md section 11, "Protocol
 * versions"). A server speaks the current protocol and the previous one (core's `protocolVerdict`);
 * everything a client of the previous protocol receives or sends passes through here.
 *
 * `PREVIOUS_PROTOCOL_VERSION` (5) differs from the current (6) only by what 6 added:
 * - `lw:hello`: 5's table descriptors are strict objects without `schemaVersion` and `renames`: a 5
 *   client would refuse the hello whole, so they are left out ({@link helloFor}), and so are the foreign
 *   keys (`foreignKeys`, core's SPEC.md section 4a; the server still judges 5's pushes by them, PD1).
 * - `lw:sync` requests: 5 sends no `schemaVersion` (its pushes are full rows of the current schema, as
 *   protocol 5 always meant); one that carries it is not a 5 client and is refused ({@link requestFrom}).
 * - Field-level merge (SPEC.md section 3a) is 6's: 5's descriptors have no `merge` (left out above), its
 *   records no column stamps. Pages and realtime events for it drop the column stamps 6 appends to each
 *   row of a field-merge table and the digest it adds to an eviction, the merged `state` of an applied
 *   outcome and a winner's `fields`
 *   ({@link pageFor}, {@link eventFor}), so a field-merge table reads as a row table; its pushes carry whole
 *   rows, which the server takes as every column written at the record's version (F-rules: a whole-row write).
 * - A table's key (SPEC.md section 4, "The key") and the `uuid` column type come after 5: its descriptors
 *   have no `key`/`keyType` and know no `uuid` type, so a 5 client is told of such a table as one keyed
 *   `uid` with text columns ({@link helloFor}). The wire carries the uid as `uid` in every protocol, so
 *   nothing else changes: its rows carry the uid as `uid` (not under the app's key name), the uids it
 *   makes are UUIDv7s, which a uuid key takes, and a value the server's checks refuse (a uuid column
 *   given other text, a uid that is not a canonical UUID on a uuid key) comes back as a `rejected`
 *   outcome (`INVALID_VALUE`, `INVALID_UID`), which it keeps and reports.
 * - Otherwise pages, outcomes and realtime events are the same shapes in both (6 answers a push it cannot
 *   map with a `rejected` outcome coded `SCHEMA_OUTDATED`, which only a push stating a schema version can get).
 */
import { LastwordError, PROTOCOL_VERSION, type Hello, type RealtimeEvent, type SyncPageWire, type SyncRequest, type TableDescriptor } from '@lastword/core'

/** The `lw:hello` a client of `protocol` understands. */
export function helloFor(protocol: number, serverTime: number, tables: readonly TableDescriptor[]): Hello {
  if (protocol === PROTOCOL_VERSION) return { protocolVersion: protocol, serverTime, tables: [...tables] }
  return {
    protocolVersion: protocol,
    serverTime,
    // No schemaVersion, renames, merge, key or keyType; uuid columns as text (above).
    tables: tables.map((t) => ({ name: t.name, columns: t.columns.map((c) => (c.type === 'uuid' ? { ...c, type: 'text' as const } : c)) })),
  }
}

/** A checked `lw:sync` request of a client of `protocol`, as the engine takes it. */
export function requestFrom(protocol: number, request: SyncRequest): SyncRequest {
  if (protocol === PROTOCOL_VERSION) return request
  if (request.schemaVersion !== undefined) {
    throw new LastwordError('BAD_REQUEST', `Invalid sync request: schemaVersion is not part of protocol ${protocol}`)
  }
  return request
}

/** Rows as protocol 5 reads them: `[uid, created_at, updated_at, ...values]`, no trailing column stamps. */
function rowsFor(columns: readonly string[] | undefined, rows: readonly (readonly unknown[])[]): unknown[][] {
  const width = 3 + (columns?.length ?? 0)
  return rows.map((row) => (row.length > width ? row.slice(0, width) : [...row]))
}

/** A wire record without its column stamps (protocol 5 has none). */
function withoutFields<R extends object | null | undefined>(record: R): R {
  if (record === null || record === undefined || !('fields' in record)) return record
  const { fields: _fields, ...rest } = record as R & { fields?: unknown }
  return rest as R
}

/** The page a client of `protocol` reads. */
export function pageFor(protocol: number, page: SyncPageWire): SyncPageWire {
  if (protocol === PROTOCOL_VERSION) return page
  const out: SyncPageWire = { ...page }
  if (page.rows !== undefined) out.rows = rowsFor(page.columns, page.rows as unknown[][])
  if (page.evict !== undefined) out.evict = page.evict.map(([uid, version]) => [uid, version])
  if (page.outcomes !== undefined) {
    out.outcomes = page.outcomes.map((outcome) => {
      if (outcome.status === 'applied' && 'state' in outcome) return { uid: outcome.uid, status: outcome.status }
      if (outcome.status === 'superseded') return { ...outcome, winner: withoutFields(outcome.winner) }
      return outcome
    })
  }
  return out
}

/** The realtime event a client of `protocol` reads. */
export function eventFor(protocol: number, event: RealtimeEvent): RealtimeEvent {
  if (protocol === PROTOCOL_VERSION) return event
  return { ...event, rows: rowsFor(event.columns, event.rows as unknown[][]), evict: event.evict.map(([uid, version]) => [uid, version]) }
}
