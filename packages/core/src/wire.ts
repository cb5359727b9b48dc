/**
 * The wire contract: runtime schemas with inferred types, and the typed socket.io event maps. The
 * schemas are declared with valibot and seen by everything else through wire-schema.ts's `WireSchema`.
 * Schemas check shape and bounds; handlers still validate meaning (columns, types, drift) with the
 * rules of this package. Change a schema → bump {@link PROTOCOL_VERSION} (a test enforces it). The
 * messages are built of the parts in wire-parts.ts, each on its first use (a bundle keeps only the
 * schemas it parses).
 */
import * as v from 'valibot'
import { assertSafeJson } from './descriptor.js'
import type { WireError } from './errors.js'
import {
  WIRE_BOUNDS,
  bool,
  bounded,
  clientEntry,
  clientEntrySchema,
  columnDescriptorSchema,
  count,
  eviction,
  fullCursor,
  fullCursorSchema,
  int,
  lineagePoint,
  list,
  liveRow,
  name,
  num,
  pushOutcome,
  pushOutcomeSchema,
  str,
  tableDescriptor,
  tableDescriptorSchema,
  tombstoneRow,
  uid,
  wireRecord,
  wireRecordSchema,
} from './wire-parts.js'
import { plainObject, strictObject, wireSchema, type WireInput, type WireOutput, type WireSchema } from './wire-schema.js'

export { WIRE_BOUNDS, clientEntrySchema, columnDescriptorSchema, fullCursorSchema, pushOutcomeSchema, tableDescriptorSchema, wireRecordSchema } from './wire-parts.js'
export type { Eviction, FullCursor, PushOutcome, WireRecord } from './wire-parts.js'

/**
 * The protocol spoken by this version of lastword. A server also serves the previous one (protocol.ts,
 * the server's `protocol-adapter.ts`); a client speaking any other gets `PROTOCOL_MISMATCH`.
 */
export const PROTOCOL_VERSION = 7

/** One request per scope: the dirty records, and the checkpoint (incremental) or metadata (full). */
export const syncRequestSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({
    table: name(),
    /** The filter, as apps write it (`{ done: false }`); validated against the table by the server. */
    where: plainObject(),
    /** The checkpoint token for this scope, or `null` when the client has none. */
    checkpoint: v.nullable(v.pipe(v.string(), v.maxLength(WIRE_BOUNDS.maxTokenLength))),
    /** Dirty records, each with its full row (or `null` for a delete). */
    push: bounded(wireRecord(), WIRE_BOUNDS.maxPushRecords),
    /**
     * The table's schema version the pushed rows are written under (protocol 6, SPEC.md section 11): their
     * keys are that version's column names, and a column the row leaves out keeps its stored value (on
     * create: its default, else null). Absent: the server's current version, full rows.
     */
    schemaVersion: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
    /** Full reconciliation: the client's entries with uid > `cursor.after`, in uid order. */
    full: v.optional(
      strictObject({
        cursor: v.nullable(fullCursor()),
        entries: bounded(clientEntry(), WIRE_BOUNDS.maxMetaEntries),
        /** `true` when `entries` holds every remaining client entry of the scope. */
        complete: bool(),
      }),
    ),
    /** A client-chosen id: keep this scope live on this socket and send its changes as `lw:changes`. */
    subscription: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_BOUNDS.maxNameLength))),
    /** Rows per page wanted (the server caps it). */
    pageSize: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(100_000))),
    /**
     * `false`: push only. The server applies `push` and answers without pulling: the page carries the
     * outcomes and the `checkpoint` sent, unchanged (or `resync`). Needs a checkpoint and no `full`.
     */
    pull: v.optional(v.literal(false)),
    /**
     * With a checkpoint: the furthest point of the server's history the client applied realtime events
     * of, past its checkpoint (R12). Realtime never moves a checkpoint, so only this tells a restored
     * server that the client holds records of a future it lost: then the pull is a full reconciliation.
     */
    seen: v.optional(lineagePoint()),
  }),
)
export type SyncRequest = WireOutput<typeof syncRequestSchema>


/** One page of a sync answer. Fields at their default (empty lists, `null`, `false`) may be left out on the wire. */
export const syncPageSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({
    /** `resync`: the checkpoint cannot be used (retention passed, scope changed); send metadata (full). */
    mode: v.picklist(['incremental', 'full', 'resync']),
    /** When the server received the request (its clock, ms): t1 of the client's offset sample. */
    receivedAt: num(),
    /** When the server answered (its clock, ms): t2. The handling between them never biases the offset (SPEC.md, "Clock offset"). */
    answeredAt: num(),
    outcomes: list(pushOutcome()),
    /** The table's columns, naming the values of each row array after the three leading fields (sent with rows). */
    columns: list(name()),
    rows: list(liveRow()),
    tombstones: list(tombstoneRow()),
    /** Left the scope (or may no longer be read), with the version found outside it: remove locally, never delete on the server. */
    evict: list(eviction()),
    /** Acknowledged once, unknown to the server now, and R12's evidence that it was purged: remove locally, tell the app. */
    purged: list(uid()),
    /** Erased on request (`erase()`): remove locally, dirty or not, and tell the app. */
    erased: list(uid()),
    /** The point of the server's history this page's rows, tombstones and outcomes were read at (R12); `null` on `resync`. */
    knownAt: v.optional(v.nullable(lineagePoint()), null),
    /** Records the client holds newer than the server (or never pushed): push them. */
    push: list(uid()),
    /** The checkpoint after this page, or `null` for a full-reconciliation page that is not the last. */
    checkpoint: v.optional(v.nullable(str()), null),
    hasMore: v.optional(bool(), false),
    /** Where to continue a paged full reconciliation. */
    cursor: v.optional(v.nullable(fullCursor()), null),
    /** Why `resync` was asked for. */
    reason: v.optional(str()),
    /**
     * `received`: the records this page sends. `total`: on a pull's first page, what the server counted
     * for the whole pull (an estimate, ARCHITECTURE.md "Progress"); `null` on later pages or unknown.
     */
    progress: v.optional(strictObject({ received: count(), total: v.nullable(count()) }), () => ({ received: 0, total: null })),
  }),
)
export type SyncPage = WireOutput<typeof syncPageSchema>
/** A sync page as it travels: fields at their default may be missing. */
export type SyncPageWire = WireInput<typeof syncPageSchema>

export { compactPage } from './wire-compact.js'

/** Changes pushed to a subscribed scope after a commit. */
export const realtimeEventSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({
    subscription: str(),
    table: name(),
    serverTime: num(),
    /** The revs of the event's records span [`firstRev`, `rev`]: a pull up to a checkpoint at or past `firstRev` already covered (part of) it. */
    firstRev: count(),
    rev: count(),
    columns: v.array(name()),
    rows: v.array(liveRow()),
    tombstones: v.array(tombstoneRow()),
    evict: v.array(eviction()),
    /** The point of the server's history at the event's greatest rev (R12): what its records' knowledge dates from. */
    knownAt: v.optional(v.nullable(lineagePoint())),
  }),
)
export type RealtimeEvent = WireOutput<typeof realtimeEventSchema>

/**
 * `lw:push` (protocol 7, SPEC.md section 12): a client's dirty records in its write order, across tables.
 * A unit is a local transaction (`atomic`: all or nothing) or single writes (independent records); its
 * groups are runs of consecutive records of one table, each with the schema version its rows are written
 * under. The total of records is bounded by the server's `maxPushRecords` (checked by the engine).
 */
export const pushRequestSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({
    units: v.pipe(
      bounded(
        strictObject({
          atomic: bool(),
          groups: v.pipe(
            bounded(
              strictObject({
                table: name(),
                schemaVersion: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
                records: v.pipe(bounded(wireRecord(), WIRE_BOUNDS.maxPushRecords), v.minLength(1)),
              }),
              WIRE_BOUNDS.maxPushGroups,
            ),
            v.minLength(1),
          ),
        }),
        WIRE_BOUNDS.maxPushUnits,
      ),
      v.minLength(1),
    ),
  }),
)
export type PushRequest = WireOutput<typeof pushRequestSchema>

/**
 * The answer to `lw:push`: per unit, one outcome per record in the unit's order (over its groups), and
 * the point of the server's history read after the writes (R12: every scope of a pushed table remembers
 * it as `seen`, as after a push-only sync, B16).
 */
export const pushAnswerSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({
    receivedAt: num(),
    answeredAt: num(),
    units: v.array(strictObject({ outcomes: v.array(pushOutcome()) })),
    knownAt: v.nullable(lineagePoint()),
  }),
)
export type PushAnswer = WireOutput<typeof pushAnswerSchema>

/** Sent by the server on connect: its protocol, its time and the synced tables. */
export const helloSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({
    protocolVersion: int(),
    serverTime: num(),
    tables: v.array(tableDescriptor()),
  }),
)
export type Hello = WireOutput<typeof helloSchema>

/** What a client puts in the socket.io handshake `auth`. */
export const handshakeSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({
    protocolVersion: int(),
    /** This client instance's node id (16 hex digits). */
    clientId: v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/)),
    /** Whatever the app's `authenticate` expects (a bearer token, say). */
    token: v.optional(v.pipe(v.string(), v.maxLength(8_192))),
  }),
)
export type Handshake = WireOutput<typeof handshakeSchema>

export const unsubscribeRequestSchema = /* @__PURE__ */ wireSchema(() =>
  strictObject({ subscription: v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_BOUNDS.maxNameLength)) }),
)
export type UnsubscribeRequest = WireOutput<typeof unsubscribeRequestSchema>

/** Every acknowledgement: the data, or a typed error as plain data. */
export type Reply<T> = { ok: true; data: T } | { ok: false; error: WireError }

/** Events a client sends. */
export interface ClientToServerEvents {
  'lw:sync': (request: SyncRequest, ack: (reply: Reply<SyncPageWire>) => void) => void
  'lw:unsubscribe': (request: UnsubscribeRequest, ack: (reply: Reply<null>) => void) => void
  /** Protocol 7: dirty records across tables, in write order (SPEC.md section 12). */
  'lw:push': (request: PushRequest, ack: (reply: Reply<PushAnswer>) => void) => void
}

/** Events the server sends. */
export interface ServerToClientEvents {
  'lw:hello': (hello: Hello) => void
  'lw:changes': (event: RealtimeEvent) => void
}

/** Every schema of the protocol, by name (the protocol-version test fingerprints them). */
export const WIRE_SCHEMAS = {
  columnDescriptor: columnDescriptorSchema,
  tableDescriptor: tableDescriptorSchema,
  wireRecord: wireRecordSchema,
  clientEntry: clientEntrySchema,
  fullCursor: fullCursorSchema,
  syncRequest: syncRequestSchema,
  pushOutcome: pushOutcomeSchema,
  syncPage: syncPageSchema,
  realtimeEvent: realtimeEventSchema,
  hello: helloSchema,
  handshake: handshakeSchema,
  unsubscribeRequest: unsubscribeRequestSchema,
  pushRequest: pushRequestSchema,
  pushAnswer: pushAnswerSchema,
} as const

/**
 * Parses wire input against a schema; a mismatch is `BAD_REQUEST` naming the first problem by its path
 * and kind only — never echoing the input (see wire-schema.ts); `__proto__`, `constructor` or
 * `prototype` anywhere is `FORBIDDEN_KEY`.
 */
export function parseWire<Out, In>(schema: WireSchema<Out, In>, input: unknown, what: string): Out {
  // A validator drops or copies a `__proto__` key silently (a filter would be widened, a row stored
  // without it): refuse pollution keys anywhere in the input before parsing (attack V5).
  assertSafeJson(input, what)
  return schema.parse(input, what)
}
