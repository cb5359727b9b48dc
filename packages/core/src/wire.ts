/**
 * The wire contract: runtime schemas (zod) with inferred types, and the typed socket.io event maps.
 * Schemas check shape and bounds; handlers still validate meaning (columns, types, drift) with the
 * rules of this package. Change a schema → bump {@link PROTOCOL_VERSION} (a test enforces it).
 */
import { z } from 'zod'
import { MAX_DECLARED_LENGTH, assertSafeJson } from './descriptor.js'
import { LastwordError, type WireError } from './errors.js'
import { LINEAGE_PATTERN, LINEAGE_POINT_PATTERN } from './lineage.js'
import { UID_PATTERN } from './metadata.js'

/** The protocol spoken by this version of lastword. A client speaking another gets `PROTOCOL_MISMATCH`. */
export const PROTOCOL_VERSION = 4

/** Hard bounds of the schema; servers configure tighter limits (see the server's `limits`). */
export const WIRE_BOUNDS = {
  maxPushRecords: 10_000,
  maxMetaEntries: 50_000,
  maxNameLength: 64,
  maxTokenLength: 128,
} as const

const stamp = z.string().regex(/^[0-9a-f]{12}-[0-9a-f]{4}-[0-9a-f]{16}$/)
const uid = z.string().regex(UID_PATTERN)
const name = z.string().min(1).max(WIRE_BOUNDS.maxNameLength)
const plainObject = z.record(z.string(), z.unknown())
/** A point of the server's history, `<db>.<segment>.<rev>` (lineage.ts, R12). */
const lineagePoint = z.string().regex(LINEAGE_POINT_PATTERN)

export const columnDescriptorSchema = z.strictObject({
  name,
  type: z.enum(['text', 'integer', 'real', 'boolean', 'timestamp', 'json']),
  nullable: z.boolean(),
  writable: z.boolean(),
  bits: z.union([z.literal(16), z.literal(32)]).optional(),
  maxLength: z.number().int().min(1).max(MAX_DECLARED_LENGTH).optional(),
})

export const tableDescriptorSchema = z.strictObject({ name, columns: z.array(columnDescriptorSchema).max(256) })

/** A record as it travels: stamps and the row (`null` for a tombstone). */
export const wireRecordSchema = z.strictObject({
  uid,
  created_at: stamp,
  updated_at: stamp,
  deleted_at: stamp.nullable(),
  row: plainObject.nullable(),
  /** Pushes: the server acknowledged this uid once (R10: if it no longer knows it, the write is `PURGED`). */
  acknowledged: z.boolean().optional(),
  /** Pushes: the point of the server's history the acknowledged state was read at (R12: the evidence R10 needs). */
  knownAt: lineagePoint.optional(),
})
export type WireRecord = z.infer<typeof wireRecordSchema>

/**
 * The client's metadata for one record in full reconciliation: `[uid, version, deleted, acknowledged,
 * knownAt]`, `knownAt` the point of the server's history the acknowledged state was read at (or `null`).
 */
export const clientEntrySchema = z.tuple([uid, stamp, z.boolean(), z.boolean(), lineagePoint.nullable()])

/** Where a paged full reconciliation stands: the rev it started at and the last uid it covered. */
export const fullCursorSchema = z.strictObject({
  startRev: z.number().int().nonnegative(),
  after: uid.nullable(),
  /** `<db>.<segment>` of `startRev` (lineage.ts): a reconciliation is not continued on another history. */
  lineage: z.string().regex(LINEAGE_PATTERN).optional(),
})
export type FullCursor = z.infer<typeof fullCursorSchema>

/** One request per scope: the dirty records, and the checkpoint (incremental) or metadata (full). */
export const syncRequestSchema = z.strictObject({
  table: name,
  /** The filter, as apps write it (`{ done: false }`); validated against the table by the server. */
  where: plainObject,
  /** The checkpoint token for this scope, or `null` when the client has none. */
  checkpoint: z.string().max(WIRE_BOUNDS.maxTokenLength).nullable(),
  /** Dirty records, each with its full row (or `null` for a delete). */
  push: z.array(wireRecordSchema).max(WIRE_BOUNDS.maxPushRecords),
  /** Full reconciliation: the client's entries with uid > `cursor.after`, in uid order. */
  full: z
    .strictObject({
      cursor: fullCursorSchema.nullable(),
      entries: z.array(clientEntrySchema).max(WIRE_BOUNDS.maxMetaEntries),
      /** `true` when `entries` holds every remaining client entry of the scope. */
      complete: z.boolean(),
    })
    .optional(),
  /** A client-chosen id: keep this scope live on this socket and send its changes as `lw:changes`. */
  subscription: z.string().min(1).max(WIRE_BOUNDS.maxNameLength).optional(),
  /** Rows per page wanted (the server caps it). */
  pageSize: z.number().int().positive().max(100_000).optional(),
})
export type SyncRequest = z.infer<typeof syncRequestSchema>

const wireErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  details: plainObject.optional(),
})

/** The outcome of one pushed record. */
export const pushOutcomeSchema = z.discriminatedUnion('status', [
  z.strictObject({ uid, status: z.literal('applied') }),
  z.strictObject({
    uid,
    status: z.literal('superseded'),
    rule: z.string(),
    /** The winning state, when the caller may read it; `null` otherwise (attack V9). */
    winner: wireRecordSchema.nullable(),
  }),
  z.strictObject({ uid, status: z.literal('rejected'), error: wireErrorSchema }),
])
export type PushOutcome = z.infer<typeof pushOutcomeSchema>

/** Rows as arrays: `[uid, created_at, updated_at, ...values in column order]`. */
const liveRow = z.array(z.unknown()).min(3)
/** Tombstones: `[uid, created_at, updated_at, deleted_at]`. */
const tombstoneRow = z.tuple([uid, stamp, stamp, stamp])
/**
 * An eviction: `[uid, version]`, the version of the record the server found outside the scope. The
 * client compares it with its own: an older local copy is stale and goes; a newer one means the eviction
 * is late and says nothing about it; the same version is matched against the client's other scopes.
 */
const eviction = z.tuple([uid, stamp])
export type Eviction = z.infer<typeof eviction>

/** One page of a sync answer. Fields at their default (empty lists, `null`, `false`) may be left out on the wire. */
export const syncPageSchema = z.strictObject({
  /** `resync`: the checkpoint cannot be used (retention passed, scope changed); send metadata (full). */
  mode: z.enum(['incremental', 'full', 'resync']),
  /** When the server received the request (its clock, ms): t1 of the client's offset sample. */
  receivedAt: z.number(),
  /** When the server answered (its clock, ms): t2. The handling between them never biases the offset (SPEC.md, "Clock offset"). */
  answeredAt: z.number(),
  outcomes: z.array(pushOutcomeSchema).default([]),
  /** The table's columns, naming the values of each row array after the three leading fields (sent with rows). */
  columns: z.array(name).default([]),
  rows: z.array(liveRow).default([]),
  tombstones: z.array(tombstoneRow).default([]),
  /** Left the scope (or may no longer be read), with the version found outside it: remove locally, never delete on the server. */
  evict: z.array(eviction).default([]),
  /** Acknowledged once, unknown to the server now, and R12's evidence that it was purged: remove locally, tell the app. */
  purged: z.array(uid).default([]),
  /** Erased on request (`erase()`): remove locally, dirty or not, and tell the app. */
  erased: z.array(uid).default([]),
  /** The point of the server's history this page's rows, tombstones and outcomes were read at (R12); `null` on `resync`. */
  knownAt: lineagePoint.nullable().default(null),
  /** Records the client holds newer than the server (or never pushed): push them. */
  push: z.array(uid).default([]),
  /** The checkpoint after this page, or `null` for a full-reconciliation page that is not the last. */
  checkpoint: z.string().nullable().default(null),
  hasMore: z.boolean().default(false),
  /** Where to continue a paged full reconciliation. */
  cursor: fullCursorSchema.nullable().default(null),
  /** Why `resync` was asked for. */
  reason: z.string().optional(),
  progress: z
    .strictObject({ received: z.number().int().nonnegative(), total: z.number().int().nonnegative().nullable() })
    .default({ received: 0, total: null }),
})
export type SyncPage = z.infer<typeof syncPageSchema>
/** A sync page as it travels: fields at their default may be missing. */
export type SyncPageWire = z.input<typeof syncPageSchema>

/**
 * A page as the server sends it: fields at their default left out, and the column names only with rows,
 * so that a resync with nothing to do is a few dozen bytes (ARCHITECTURE.md, "Pages").
 */
export function compactPage(page: SyncPage): SyncPageWire {
  const out: SyncPageWire = { mode: page.mode, receivedAt: page.receivedAt, answeredAt: page.answeredAt }
  if (page.outcomes.length > 0) out.outcomes = page.outcomes
  if (page.rows.length > 0) {
    out.columns = page.columns
    out.rows = page.rows
  }
  if (page.tombstones.length > 0) out.tombstones = page.tombstones
  if (page.evict.length > 0) out.evict = page.evict
  if (page.purged.length > 0) out.purged = page.purged
  if (page.erased.length > 0) out.erased = page.erased
  if (page.knownAt !== null) out.knownAt = page.knownAt
  if (page.push.length > 0) out.push = page.push
  if (page.checkpoint !== null) out.checkpoint = page.checkpoint
  if (page.hasMore) out.hasMore = true
  if (page.cursor !== null) out.cursor = page.cursor
  if (page.reason !== undefined) out.reason = page.reason
  if (page.progress.received !== 0 || page.progress.total !== null) out.progress = page.progress
  return out
}

/** Changes pushed to a subscribed scope after a commit. */
export const realtimeEventSchema = z.strictObject({
  subscription: z.string(),
  table: name,
  serverTime: z.number(),
  /** The revs of the event's records span [`firstRev`, `rev`]: a pull up to a checkpoint at or past `firstRev` already covered (part of) it. */
  firstRev: z.number().int().nonnegative(),
  rev: z.number().int().nonnegative(),
  columns: z.array(name),
  rows: z.array(liveRow),
  tombstones: z.array(tombstoneRow),
  evict: z.array(eviction),
  /** The point of the server's history at the event's greatest rev (R12): what its records' knowledge dates from. */
  knownAt: lineagePoint.nullable().optional(),
})
export type RealtimeEvent = z.infer<typeof realtimeEventSchema>

/** Sent by the server on connect: its protocol, its time and the synced tables. */
export const helloSchema = z.strictObject({
  protocolVersion: z.number().int(),
  serverTime: z.number(),
  tables: z.array(tableDescriptorSchema),
})
export type Hello = z.infer<typeof helloSchema>

/** What a client puts in the socket.io handshake `auth`. */
export const handshakeSchema = z.strictObject({
  protocolVersion: z.number().int(),
  /** This client instance's node id (16 hex digits). */
  clientId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Whatever the app's `authenticate` expects (a bearer token, say). */
  token: z.string().max(8_192).optional(),
})
export type Handshake = z.infer<typeof handshakeSchema>

export const unsubscribeRequestSchema = z.strictObject({ subscription: z.string().min(1).max(WIRE_BOUNDS.maxNameLength) })
export type UnsubscribeRequest = z.infer<typeof unsubscribeRequestSchema>

/** Every acknowledgement: the data, or a typed error as plain data. */
export type Reply<T> = { ok: true; data: T } | { ok: false; error: WireError }

/** Events a client sends. */
export interface ClientToServerEvents {
  'lw:sync': (request: SyncRequest, ack: (reply: Reply<SyncPageWire>) => void) => void
  'lw:unsubscribe': (request: UnsubscribeRequest, ack: (reply: Reply<null>) => void) => void
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
} as const

/**
 * Parses wire input against a schema; a mismatch is `BAD_REQUEST` naming the first problem by its path
 * and kind only — never echoing the input (zod's own messages list unrecognized keys and received
 * values, which let one request make the server send megabytes back); `__proto__`, `constructor` or
 * `prototype` anywhere is `FORBIDDEN_KEY`.
 */
export function parseWire<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  // zod drops a `__proto__` key silently (a filter would be widened, a row stored without it):
  // refuse pollution keys anywhere in the input before parsing (attack V5).
  assertSafeJson(input, what)
  const result = schema.safeParse(input)
  if (!result.success) {
    const issue = result.error.issues[0]
    const path = issue === undefined ? '' : wirePath(issue.path)
    throw new LastwordError('BAD_REQUEST', `Invalid ${what}${path === '' ? '' : ` at ${path}`}: ${issue === undefined ? 'malformed' : describeIssue(issue)}`, {
      path,
    })
  }
  return result.data
}

/** Longest path segment and number of segments a refusal names (a path can carry a client's key). */
const MAX_PATH_SEGMENT = 64
const MAX_PATH_SEGMENTS = 16

function wirePath(path: readonly PropertyKey[]): string {
  const segments = path.slice(0, MAX_PATH_SEGMENTS).map((segment) => {
    const text = typeof segment === 'symbol' ? '?' : String(segment)
    return text.length > MAX_PATH_SEGMENT ? `${text.slice(0, MAX_PATH_SEGMENT)}…` : text
  })
  return path.length > MAX_PATH_SEGMENTS ? `${segments.join('.')}.…` : segments.join('.')
}

/** The problem of one issue in a few words of our own: its kind and the schema's bound, no input. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`
    case 'unrecognized_keys':
      return `${issue.keys.length} unexpected key${issue.keys.length === 1 ? '' : 's'}`
    case 'too_big':
      return `too big (at most ${String(issue.maximum)})`
    case 'too_small':
      return `too small (at least ${String(issue.minimum)})`
    case 'invalid_format':
      return `not in the expected format (${issue.format})`
    case 'invalid_value':
      return 'not an allowed value'
    case 'not_multiple_of':
      return 'not an allowed number'
    default:
      return `invalid (${issue.code})`
  }
}
