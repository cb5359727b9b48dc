/**
 * The parts the wire messages (wire.ts) are built of: the schema's hard bounds, its scalars (stamps,
 * uids, names, points of the server's history), and the shapes that travel inside messages — table
 * descriptors, records, full-reconciliation entries and cursors, push outcomes, rows, tombstones and
 * evictions. Declared with valibot like wire.ts (the validator's seam with wire-schema.ts); the public
 * schemas and types are exported by wire.ts. Changing one changes the protocol (wire.test.ts).
 */
import * as v from 'valibot'
import { MAX_DECLARED_LENGTH } from './descriptor.js'
import { FOREIGN_KEY_ACTIONS } from './foreign-keys.js'
import { LINEAGE_PATTERN, LINEAGE_POINT_PATTERN } from './lineage.js'
import { UID_PATTERN } from './metadata.js'
import { MAX_RENAMES } from './schema-version.js'
import { plainObject, strictObject, wireSchema, type WireOutput } from './wire-schema.js'

/** Hard bounds of the schema; servers configure tighter limits (see the server's `limits`). */
export const WIRE_BOUNDS = {
  maxPushRecords: 10_000,
  /** Units of one `lw:push` (SPEC.md section 12). */
  maxPushUnits: 1_000,
  /** Groups (runs of one table's records) of one `lw:push`, over all its units. */
  maxPushGroups: 1_000,
  maxMetaEntries: 50_000,
  maxNameLength: 64,
  maxTokenLength: 128,
} as const

// Every part of a schema is made by a function, and each wire schema is built on its first use: the
// module does nothing when loaded, so a bundler keeps only the schemas an app uses (the client never
// parses a sync request or a handshake).
export const str = () => v.string()
export const stamp = () => v.pipe(v.string(), v.regex(/^[0-9a-f]{12}-[0-9a-f]{4}-[0-9a-f]{16}$/))
export const uid = () => v.pipe(v.string(), v.regex(UID_PATTERN))
/** A point of the server's history, `<db>.<segment>.<rev>` (lineage.ts, R12). */
export const lineagePoint = () => v.pipe(v.string(), v.regex(LINEAGE_POINT_PATTERN))
export const name = () => v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_BOUNDS.maxNameLength))
/** Column stamps of a field-merge record: column name → stamp, at most as many as a table has columns. */
export const fieldStamps = () => v.pipe(v.record(name(), stamp()), v.maxEntries(256))
/** A number as JSON carries it: finite. */
export const num = () => v.pipe(v.number(), v.finite())
/** An integer a double holds exactly. */
export const int = () => v.pipe(v.number(), v.safeInteger())
export const count = () => v.pipe(v.number(), v.safeInteger(), v.minValue(0))
export const bool = () => v.boolean()
export const bounded = <S extends v.GenericSchema>(item: S, max: number) => v.pipe(v.array(item), v.maxLength(max))
/** A list left out on the wire when empty. */
export const list = <S extends v.GenericSchema>(item: S) => v.optional(v.array(item), () => [])

export const columnDescriptor = () =>
  strictObject({
    name: name(),
    type: v.picklist(['text', 'integer', 'real', 'boolean', 'timestamp', 'json', 'uuid']),
    nullable: bool(),
    writable: bool(),
    bits: v.optional(v.picklist([16, 32])),
    maxLength: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(MAX_DECLARED_LENGTH))),
  })
export const columnDescriptorSchema = /* @__PURE__ */ wireSchema(columnDescriptor)

export const tableDescriptor = () =>
  strictObject({
    name: name(),
    columns: bounded(columnDescriptor(), 256),
    /** The table's schema version (SPEC.md section 11); protocol 6. */
    schemaVersion: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
    /** Every rename of the table's history, `[version, from, to]`; protocol 6. */
    renames: v.optional(bounded(v.strictTuple([v.pipe(v.number(), v.safeInteger(), v.minValue(2)), name(), name()]), MAX_RENAMES)),
    /** How concurrent writes resolve (SPEC.md section 3a); absent: `'row'`. */
    merge: v.optional(v.picklist(['row', 'field'])),
    /** The name rows carry the uid under (SPEC.md section 4, "The key"); absent: `uid`. */
    key: v.optional(name()),
    /** `'uuid'`: a PostgreSQL uuid key, uids canonical UUIDs; absent: a text key. */
    keyType: v.optional(v.picklist(['uuid'])),
    /** Foreign keys to other synced tables' uid (SPEC.md section 4a); absent: none. */
    foreignKeys: v.optional(
      bounded(
        strictObject({
          column: name(),
          references: name(),
          onDelete: v.picklist(FOREIGN_KEY_ACTIONS),
          onUpdate: v.picklist(FOREIGN_KEY_ACTIONS),
        }),
        256,
      ),
    ),
  })
export const tableDescriptorSchema = /* @__PURE__ */ wireSchema(tableDescriptor)

/** A record as it travels: stamps and the row (`null` for a tombstone). */
export const wireRecord = () =>
  strictObject({
    uid: uid(),
    created_at: stamp(),
    updated_at: stamp(),
    deleted_at: v.nullable(stamp()),
    row: v.nullable(plainObject()),
    /** Pushes: the server acknowledged this uid once (R10: if it no longer knows it, the write is `PURGED`). */
    acknowledged: v.optional(bool()),
    /** Pushes: the point of the server's history the acknowledged state was read at (R12: the evidence R10 needs). */
    knownAt: v.optional(lineagePoint()),
    /**
     * Tables declared `merge: 'field'` (SPEC.md section 3a): each column's stamp. A pushed edit carries
     * the columns its writer changed (and only those in `row`); a state the server sends, every column.
     */
    fields: v.optional(fieldStamps()),
  })
export const wireRecordSchema = /* @__PURE__ */ wireSchema(wireRecord)
export type WireRecord = WireOutput<typeof wireRecordSchema>

/** The client's metadata for one record in full reconciliation: `[uid, version, deleted, acknowledged]`. */
/**
 * The client's metadata for one record in full reconciliation: `[uid, version, deleted, acknowledged,
 * knownAt]`, `knownAt` the point of the server's history the acknowledged state was read at (or `null`).
 */
/** A sixth element, on tables declared `merge: 'field'`: `fieldDigest` of the record's column stamps (14 hex digits). */
export const clientEntry = () =>
  v.union([
    v.strictTuple([uid(), stamp(), bool(), bool(), v.nullable(lineagePoint())]),
    v.strictTuple([uid(), stamp(), bool(), bool(), v.nullable(lineagePoint()), v.pipe(v.string(), v.regex(/^[0-9a-f]{14}$/))]),
  ])
export const clientEntrySchema = /* @__PURE__ */ wireSchema(clientEntry)

/** Where a paged full reconciliation stands: the rev it started at and the last uid it covered. */
export const fullCursor = () =>
  strictObject({
    startRev: count(),
    after: v.nullable(uid()),
    /** `<db>.<segment>` of `startRev` (lineage.ts): a reconciliation is not continued on another history. */
    lineage: v.optional(v.pipe(v.string(), v.regex(LINEAGE_PATTERN))),
  })
export const fullCursorSchema = /* @__PURE__ */ wireSchema(fullCursor)
export type FullCursor = WireOutput<typeof fullCursorSchema>

export const wireError = () => strictObject({ code: str(), message: str(), details: v.optional(plainObject()) })

/** The outcome of one pushed record. */
export const pushOutcome = () =>
  v.variant('status', [
    strictObject({
      uid: uid(),
      status: v.literal('applied'),
      /** Tables declared `merge: 'field'`: the merged state, when the caller may read it (it may hold columns the writer never saw). */
      state: v.optional(wireRecord()),
    }),
    strictObject({
      uid: uid(),
      status: v.literal('superseded'),
      rule: str(),
      /** The winning state, when the caller may read it; `null` otherwise (attack V9). */
      winner: v.nullable(wireRecord()),
    }),
    strictObject({ uid: uid(), status: v.literal('rejected'), error: wireError() }),
  ])
export const pushOutcomeSchema = /* @__PURE__ */ wireSchema(pushOutcome)
export type PushOutcome = WireOutput<typeof pushOutcomeSchema>

/**
 * Rows as arrays: `[uid, created_at, updated_at, ...values in column order]`; on a table declared
 * `merge: 'field'`, one more element: the column stamps as an object (checked by core's `assertFieldStamps`).
 */
export const liveRow = () => v.pipe(v.array(v.unknown()), v.minLength(3))
/** Tombstones: `[uid, created_at, updated_at, deleted_at]`. */
export const tombstoneRow = () => v.strictTuple([uid(), stamp(), stamp(), stamp()])
/**
 * An eviction: `[uid, version]` (`[uid, version, digest]` on a field-merge table), the version of the record the server found outside the scope. The
 * client compares it with its own: an older local copy is stale and goes; a newer one means the eviction
 * is late and says nothing about it; the same version is matched against the client's other scopes.
 */
export const eviction = () =>
  v.union([
    v.strictTuple([uid(), stamp()]),
    // A field-merge table's record also names its state's column-stamp digest (core's `fieldDigest`): its
    // version alone does not tell two states apart (SPEC.md E4 and section 3a).
    v.strictTuple([uid(), stamp(), v.pipe(v.string(), v.regex(/^[0-9a-f]{14}$/))]),
  ])
export type Eviction = v.InferOutput<ReturnType<typeof eviction>>
