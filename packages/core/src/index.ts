/**
 * @lastword/core — every rule of lastword, once: stamps, the conflict rule, the `where` language,
 * sync plans, checkpoints, table descriptors, the client's replica rules and the wire contract. Pure:
 * no I/O, no clock, no globals.
 */

// Errors
export { LastwordError, isLastwordError, toLastwordError, fromWireError, isErrorCode, ERROR_CODES } from './errors.js'
export type { ErrorCode, WireError } from './errors.js'

// Stamps (hybrid logical clock)
export {
  createHlc,
  formatStamp,
  parseStamp,
  assertStamp,
  isStamp,
  isNodeId,
  compareStamps,
  maxStamp,
  stampToDate,
  stampMs,
  assertWithinDrift,
  nodeIdFromBytes,
  MAX_COUNTER,
  MAX_MS,
  STAMP_LENGTH,
} from './stamp.js'
export type { Stamp, StampParts, Hlc, HlcOptions } from './stamp.js'
// Stamps of writes the database makes itself (captured foreign writes, backfill)
export { DATABASE_NODE, isDatabaseStamp, nextDatabaseStamp } from './database-stamp.js'

// Clock offset (four timestamps, least-delay filter)
export { clockSample, addClockSample, restartEstimate, bestSample, samplesAgree, CLOCK_FILTER_DEFAULTS, EMPTY_ESTIMATE } from './clock-offset.js'
export type { ClockSample, ClockFilterOptions, OffsetEstimate } from './clock-offset.js'

// Metadata
export { versionOf, isTombstone, isUid, assertUid, assertMetaOrder, UID_PATTERN } from './metadata.js'
export type { RecordMeta, ServerRecordMeta, RecordState, RowValues } from './metadata.js'

// Lineage: which history a client's knowledge comes from (R12)
export {
  formatLineagePoint,
  parseLineagePoint,
  formatLineage,
  parseLineage,
  lineageBreak,
  isPurgeProven,
  segmentsNamed,
  historyOfPoint,
  pointCovers,
  advanceSeen,
  LINEAGE_PATTERN,
  LINEAGE_POINT_PATTERN,
} from './lineage.js'
export type { Lineage, LineagePoint, LineageHistory, LineageBreak } from './lineage.js'

// Conflict rules
export { CONFLICT_TABLE, resolveWrite, ruleFor, compareVersions, storedKind, isNewer, isPurgedWrite, isSameContent, assertSameWrite } from './conflict-rules.js'
export type { StoredKind, IncomingKind, Order, Decision, Rule, Resolution, WriteContent } from './conflict-rules.js'

// Field-level merge (tables declared `merge: 'field'`)
export { mergeFieldWrite, joinFieldRecords, sameFieldState, defaultFieldStamps, assertFieldStamps, toFieldRecord, fieldDigest, MERGE_MODES } from './field-merge.js'
export type { MergeMode, FieldStamps, FieldRecord, FieldMerge, FieldRuleId } from './field-merge.js'

// Foreign keys between synced tables and the parent-deleted rule (PD1–PD5)
export { isParentDeleted, parentRefs, assertParentsLive, parentDeleted, childEffects, assertForeignKeys, FOREIGN_KEY_ACTIONS } from './foreign-keys.js'
export type { ForeignKeyAction, ForeignKeyDescriptor, ParentState, ParentJudge, ChildEffect } from './foreign-keys.js'

// Table descriptors and row validation
export {
  assertTableDescriptor,
  isFieldMerge,
  findColumn,
  getColumn,
  normalizeRow,
  normalizeClientWrite,
  assertWritableColumns,
  normalizeValue,
  normalizeTimestamp,
  isStorableText,
  rowToArray,
  arrayToRow,
  assertSafeKey,
  assertSafeJson,
  COLUMN_TYPES,
  RESERVED_COLUMNS,
  FORBIDDEN_KEYS,
  IDENTIFIER_PATTERN,
  DEFAULT_VALUE_LIMITS,
  MAX_DECLARED_LENGTH,
} from './descriptor.js'
export type { ColumnType, ColumnDescriptor, TableDescriptor, ValueLimits, NormalizeRowOptions, IntegerBits } from './descriptor.js'
// A table's key (the app's primary key is the uid) and uuid values
export { keyOf, hasUuidKey, assertTableUid, normalizeTableUid, DEFAULT_KEY } from './table-key.js'
export { normalizeUuid, isCanonicalUuid } from './uuid.js'

// Schema versions (SPEC.md section 11)
export { diffSchema, isWidening, schemaMapping, mapRow, schemaOutdated, schemaVersionOf, nextRenames, MAX_RENAMES } from './schema-version.js'
export type { ColumnRename, SchemaChange, SchemaChangeOptions, SchemaMapping, ColumnFate, MappedRow, UnsupportedReason } from './schema-version.js'
export { PREVIOUS_PROTOCOL_VERSION, SUPPORTED_PROTOCOLS, protocolVerdict } from './protocol.js'
export type { ProtocolVerdict } from './protocol.js'

// The `where` language
export {
  validateWhere,
  matches,
  matchesCondition,
  compareValues,
  compareCodePoints,
  intersectScopes,
  scopesOverlap,
  isSatisfiable,
  scopeKey,
  DEFAULT_WHERE_LIMITS,
} from './where.js'
export type { Where, WhereOps, WhereValue, Operator, ScalarValue, Condition, Scope, WhereLimits } from './where.js'
export { compileScope } from './compiled-scope.js'

// Types only: the app's Drizzle schema through lastword's rules (the typed client and services)
export type {
  DrizzleTableLike,
  SchemaEntry,
  SyncSchema,
  TableName,
  SelectModelOf,
  InsertModelOf,
  ServerColumnsOf,
  KeyOf,
  SchemaRow,
  UntypedRow,
  ReadValue,
  WriteValue,
  ReadRow,
  ColumnOf,
  WritableColumnOf,
  FilterableColumnOf,
  CreateInput,
  UpdatePatch,
  ServiceCreateInput,
  FilterValue,
  TypedWhere,
  TypedWhereOps,
  TypedOrderBy,
  TableDescriptorJson,
} from './typed.js'
export type { CompiledScope } from './compiled-scope.js'

// Sync plans
export { computePlan, emptyPlan, isEmptyPlan, classifyChange, decideEviction, decideRealtime } from './plan.js'
export type { ServerEntry, ClientEntry, SyncPlan, ChangeAction, EvictionDecision, RealtimeDecision } from './plan.js'

// Checkpoints
export { encodeCheckpoint, decodeCheckpoint, hashString } from './checkpoint.js'
export type { Checkpoint } from './checkpoint.js'

// Wire contract
export {
  PROTOCOL_VERSION,
  WIRE_BOUNDS,
  WIRE_SCHEMAS,
  parseWire,
  compactPage,
  columnDescriptorSchema,
  tableDescriptorSchema,
  wireRecordSchema,
  clientEntrySchema,
  fullCursorSchema,
  syncRequestSchema,
  pushOutcomeSchema,
  syncPageSchema,
  realtimeEventSchema,
  helloSchema,
  handshakeSchema,
  unsubscribeRequestSchema,
  pushRequestSchema,
  pushAnswerSchema,
} from './wire.js'
export type {
  WireRecord,
  Eviction,
  FullCursor,
  SyncRequest,
  PushOutcome,
  SyncPage,
  SyncPageWire,
  RealtimeEvent,
  Hello,
  Handshake,
  UnsubscribeRequest,
  PushRequest,
  PushAnswer,
  Reply,
  ClientToServerEvents,
  ServerToClientEvents,
} from './wire.js'
export type { WireSchema, WireResult, WireOutput, WireInput } from './wire-schema.js'

// The client's replica: incoming states, push outcomes, re-stamping, removals (E6)
export {
  decideIncoming,
  decidePushOutcome,
  classifyPushOutcome,
  restampRecord,
  rememberRemoval,
  isOlderThanRemoval,
  isSameVersion,
} from './replica.js'
export type {
  ReplicaRecord,
  IncomingRule,
  IncomingDecision,
  PushOutcomeKind,
  PushRule,
  PushReport,
  PushDecision,
  PushOutcomeInput,
  LocalChange,
} from './replica.js'
