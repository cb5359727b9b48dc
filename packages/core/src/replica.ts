/**
 * The rules of a client's replica (SPEC.md §6, "The client's replica"): what a server state does to the
 * record a client holds (A1–A4, with E6), what the outcome of a push does to it (P1–P10), and how a record
 * refused for clock drift is re-stamped. Pure: the client reads and writes its store and calls these.
 */
import { LastwordError, fromWireError, type WireError } from './errors.js'
import { versionOf, type RecordMeta, type RecordState } from './metadata.js'
import { isNewer } from './conflict-rules.js'
import { compareStamps, maxStamp, type Stamp } from './stamp.js'
import { joinIncoming } from './field-replica.js'
import type { PushOutcome } from './wire.js'

/** A record as a client's replica holds it: its state and where its sync stands. */
export interface ReplicaRecord extends RecordState {
  /** Written locally and not yet acknowledged by the server. */
  dirty: boolean
  /** The server took or sent this uid at least once (R10). */
  acknowledged: boolean
  /** Why the server refused the last push of this record. */
  rejected?: WireError
  /**
   * P6: the record's stamps were re-made after the server refused this device's clock as too far ahead
   * (the app may tell the user the device clock is wrong). Cleared by the next local write.
   */
  restamped?: true
  /**
   * Columns whose value this copy does not know (SPEC.md section 11, SV2): added by a schema change after
   * its last local write, which the client migrated without them. Pushed without them (the server keeps
   * its values); the next state the server sends of the record completes it (A3).
   */
  unknown?: string[]
  /** Tables declared `merge: 'field'`: the columns written locally and not yet acknowledged (what a push carries). */
  changed?: readonly string[]
}

/** Whether two records are at the same version (the same write). */
export function isSameVersion(a: Pick<RecordMeta, 'updated_at' | 'deleted_at'>, b: Pick<RecordMeta, 'updated_at' | 'deleted_at'>): boolean {
  return compareStamps(versionOf(a), versionOf(b)) === 0
}

// ---- E6: what a removal remembers ----------------------------------------------------------------

/**
 * The version a client remembers for a record it removed (E6): the eviction's version, or the removed
 * copy's own for a purge, and never lower than what it remembered already.
 */
export function rememberRemoval(previous: Stamp | undefined, evictedAt: Stamp | null, removed: Pick<RecordMeta, 'updated_at' | 'deleted_at'>): Stamp {
  return maxStamp(previous ?? null, evictedAt ?? versionOf(removed)) as Stamp
}

/**
 * Whether an incoming state of a record the client removed at `removedAt` is stale news (E6): it read the
 * server before that version, so applying it would move the replica back. Equal or newer states apply.
 */
export function isOlderThanRemoval(incoming: Pick<RecordMeta, 'updated_at' | 'deleted_at'>, removedAt: Stamp | undefined): boolean {
  return removedAt !== undefined && compareStamps(versionOf(incoming), removedAt) < 0
}

// ---- A1–A4: a server state against the local record ---------------------------------------------

/** The rule that decided an incoming state, exactly as SPEC.md names it. */
export type IncomingRule =
  | 'A1 removed since at a newer version'
  | 'A2 newer state replaces'
  | 'A3 same write acknowledges'
  | 'A4 local state newer'

/** What an incoming server state does to the local record; `write` is the record to store, if any. */
export type IncomingDecision<T extends ReplicaRecord> =
  | { kind: 'applied'; rule: 'A2 newer state replaces' | 'A5 columns joined'; write: ReplicaRecord }
  | { kind: 'same'; rule: 'A3 same write acknowledges'; write: T | null }
  | { kind: 'kept'; rule: 'A1 removed since at a newer version' | 'A4 local state newer'; write: null }

/**
 * Decides a server state (a pulled row or tombstone, a realtime change, a push's winner) against the
 * local record, by core's conflict rule:
 *
 * - A1 (E6): nothing held, but removed during the running syncs at a newer version: kept out.
 * - A2: newer than the local state (or nothing held): stored, clean and acknowledged — a dirty local
 *   write older than it lost to it.
 * - A3: the same version: the same write seen twice, so the server has it: acknowledged, no longer dirty
 *   (a copy with `unknown` columns takes the server's row of it, which has them).
 * - A4: older than the local state: nothing changes — a write made during the sync stays, dirty (trap 5).
 */
export function decideIncoming<T extends ReplicaRecord>(local: T | undefined, incoming: RecordState, removedAt?: Stamp): IncomingDecision<T> {
  if (local === undefined && isOlderThanRemoval(incoming, removedAt)) return { kind: 'kept', rule: 'A1 removed since at a newer version', write: null }
  // A5: a live state of a field-merge table joins the local record column by column (field-replica.ts).
  if (local !== undefined && local.deleted_at === null && incoming.deleted_at === null && incoming.fields !== undefined) return joinIncoming(local, { ...incoming, fields: incoming.fields })
  if (isNewer(incoming, local)) {
    const write: ReplicaRecord = {
      uid: incoming.uid,
      row: incoming.deleted_at === null ? incoming.row : null,
      created_at: incoming.created_at,
      updated_at: incoming.updated_at,
      deleted_at: incoming.deleted_at,
      dirty: false,
      acknowledged: true,
      ...(incoming.fields !== undefined && incoming.deleted_at === null ? { fields: incoming.fields } : {}),
    }
    return { kind: 'applied', rule: 'A2 newer state replaces', write }
  }
  if (local !== undefined && isSameVersion(local, incoming)) {
    // A copy missing columns a schema change added (SV2) takes the server's row of that same write.
    if (local.unknown !== undefined && local.unknown.length > 0 && incoming.deleted_at === null) {
      const { unknown: _completed, ...rest } = local
      return { kind: 'same', rule: 'A3 same write acknowledges', write: { ...rest, row: incoming.row, dirty: false, acknowledged: true } as T }
    }
    return { kind: 'same', rule: 'A3 same write acknowledges', write: local.dirty || !local.acknowledged ? { ...local, dirty: false, acknowledged: true } : null }
  }
  return { kind: 'kept', rule: 'A4 local state newer', write: null }
}

// ---- Re-stamping after a drift refusal -----------------------------------------------------------

/**
 * Re-stamps a record refused for clock drift (P6): its version becomes a fresh stamp from `next`, and no
 * earlier stamp stays above it (`created_at <= updated_at`, and a tombstone's `deleted_at` strictly after
 * `updated_at` — so a tombstone whose update stamp would be clipped takes two fresh stamps).
 */
export function restampRecord<T extends RecordMeta>(record: T, next: () => Stamp): T {
  const refused = next()
  const atMost = (s: Stamp): Stamp => (compareStamps(s, refused) > 0 ? refused : s)
  // A field-merge record's column stamps came from the same clock: none may stay above the new version.
  const fields = (record as { fields?: Readonly<Record<string, Stamp>> }).fields
  if (fields !== undefined) record = { ...record, fields: Object.fromEntries(Object.entries(fields).map(([c, s]) => [c, atMost(s)])) }
  const stamp = refused
  if (record.deleted_at !== null) {
    if (compareStamps(record.updated_at, stamp) < 0) return { ...record, created_at: atMost(record.created_at), deleted_at: stamp }
    const deleted = next()
    return { ...record, created_at: atMost(record.created_at), updated_at: stamp, deleted_at: deleted }
  }
  return { ...record, created_at: atMost(record.created_at), updated_at: stamp }
}

// ---- P1–P10: a push outcome against the local record ----------------------------------------------

/** The kinds of push outcome a client tells apart: a new status or error code to single out must be added here and decided below. */
export type PushOutcomeKind = 'applied' | 'superseded' | 'purged' | 'clock-ahead' | 'outdated' | 'parent-deleted' | 'rejected'

/**
 * Classifies a push outcome. A `CLOCK_AHEAD` refusal is `clock-ahead` only once the client corrected its
 * clock from that page (the refusal carried the server's time); otherwise it is an ordinary refusal.
 */
export function classifyPushOutcome(outcome: PushOutcome, clockCorrected: boolean): PushOutcomeKind {
  switch (outcome.status) {
    case 'applied':
      return 'applied'
    case 'superseded':
      return 'superseded'
    case 'rejected':
      if (outcome.error.code === 'PURGED') return 'purged'
      if (outcome.error.code === 'CLOCK_AHEAD' && clockCorrected) return 'clock-ahead'
      if (outcome.error.code === 'SCHEMA_OUTDATED') return 'outdated'
      if (outcome.error.code === 'PARENT_DELETED') return 'parent-deleted'
      return 'rejected'
    default:
      return unreachable(outcome)
  }
}

/** What happens to the local record. */
export type LocalChange<T extends ReplicaRecord> = { kind: 'put'; record: T | ReplicaRecord } | { kind: 'remove' } | { kind: 'none' }

/** How the sync report counts an outcome (`null`: not at all). */
export type PushReport =
  | { kind: 'pushed' }
  | { kind: 'superseded'; winnerStamp: Stamp | null; rule: string }
  | { kind: 'purged' }
  | { kind: 'restamped' }
  | { kind: 'outdated'; error: WireError }
  | { kind: 'rejected'; error: WireError }
  | null

/** The rule that decided a push outcome, exactly as SPEC.md names it. */
export type PushRule =
  | 'P1 applied and unchanged: clean'
  | 'P2 applied but written since: acknowledged, still dirty'
  | 'P3 superseded by a readable winner'
  | 'P4 superseded by a hidden winner'
  | 'P5 purged'
  | 'P6 clock ahead: re-stamped'
  | 'P7 rejected: kept, marked'
  | 'P8 schema outdated: kept dirty'
  | 'P9 parent deleted: dropped, reconciled'
  | 'P10 applied, evicted since: removed'

/** The decision for one push outcome. */
export interface PushDecision<T extends ReplicaRecord> {
  rule: PushRule
  local: LocalChange<T>
  report: PushReport
  /** Written again while the push was in flight: still dirty at a newer version, so one more run pushes it. */
  changedInFlight: boolean
  /** P9: the table's scopes reconcile in full, so the server's state of the dropped record comes back. */
  reconcile?: true
}

/** What {@link decidePushOutcome} reads. */
export interface PushOutcomeInput<T extends ReplicaRecord> {
  /** The local record now (`undefined`: gone). */
  local: T | undefined
  /** The record as it was pushed. */
  sent: Pick<RecordMeta, 'updated_at' | 'deleted_at'>
  outcome: PushOutcome
  /** The winner of a `superseded` outcome, or the merged state of an `applied` one on a field-merge table, validated (`null`: none, or the client may not read it). */
  winner: RecordState | null
  /** The client corrected its clock from this page's `CLOCK_AHEAD` refusal. */
  clockCorrected: boolean
  /**
   * E6: the version this client removed the record at during the running syncs, if it did — or the
   * version of an eviction E1 kept it against because it was dirty (P10: the push's answer may come
   * after the eviction, read later, was applied).
   */
  removedAt?: Stamp | undefined
  /** A fresh stamp of the corrected clock (P6). */
  next: () => Stamp
}

type Decide = <T extends ReplicaRecord>(input: PushOutcomeInput<T>, unchanged: boolean) => Omit<PushDecision<T>, 'changedInFlight'>

const none = { kind: 'none' } as const

/** Every outcome kind, decided: a new kind does not compile until it has a row here. */
const PUSH_RULES: { readonly [K in PushOutcomeKind]: Decide } = {
  applied: ({ local, winner, removedAt }, unchanged) => {
    // Gone meanwhile (removed by a page of another scope): nothing to mark, the push still counts.
    if (local === undefined) return { rule: 'P2 applied but written since: acknowledged, still dirty', local: none, report: { kind: 'pushed' } }
    // A field-merge table's merged state (it may hold columns this client never saw): joined column by
    // column (A5); the columns it holds at the stamps pushed are no longer this client's to push.
    if (winner !== null && winner.fields !== undefined) {
      const joined = decideIncoming(local, winner)
      const record = joined.write ?? local
      if (!record.dirty && evictedSince(record, removedAt)) return { rule: 'P10 applied, evicted since: removed', local: { kind: 'remove' }, report: { kind: 'pushed' } }
      const rule = record.dirty ? 'P2 applied but written since: acknowledged, still dirty' : 'P1 applied and unchanged: clean'
      return { rule, local: { kind: 'put', record: { ...record, acknowledged: true } }, report: { kind: 'pushed' } }
    }
    if (!unchanged) return { rule: 'P2 applied but written since: acknowledged, still dirty', local: { kind: 'put', record: { ...local, acknowledged: true } }, report: { kind: 'pushed' } }
    // The server left a scope at a newer version while this copy was dirty (E1 kept it): now clean, it is
    // older than that eviction, so E2 removes it (B29: its answer, read before the eviction, came after).
    if (evictedSince(local, removedAt)) return { rule: 'P10 applied, evicted since: removed', local: { kind: 'remove' }, report: { kind: 'pushed' } }
    const { rejected: _cleared, changed: _pushed, ...rest } = local
    return { rule: 'P1 applied and unchanged: clean', local: { kind: 'put', record: { ...rest, dirty: false, acknowledged: true } }, report: { kind: 'pushed' } }
  },
  superseded: ({ local, outcome, winner, removedAt }, unchanged) => {
    const report: PushReport = { kind: 'superseded', winnerStamp: winner === null ? null : versionOf(winner), rule: outcome.status === 'superseded' ? outcome.rule : '' }
    if (winner !== null) {
      const incoming = decideIncoming(local, winner, removedAt)
      return { rule: 'P3 superseded by a readable winner', local: incoming.write === null ? none : { kind: 'put', record: incoming.write }, report }
    }
    // The winner is not ours to read: the local copy of a write that lost goes.
    return { rule: 'P4 superseded by a hidden winner', local: unchanged ? { kind: 'remove' } : none, report }
  },
  purged: (_input, unchanged) =>
    unchanged ? { rule: 'P5 purged', local: { kind: 'remove' }, report: { kind: 'purged' } } : { rule: 'P5 purged', local: none, report: null },
  'clock-ahead': ({ local, next }) =>
    local?.dirty === true
      ? { rule: 'P6 clock ahead: re-stamped', local: { kind: 'put', record: { ...restampRecord(local, next), restamped: true } }, report: { kind: 'restamped' } }
      : { rule: 'P6 clock ahead: re-stamped', local: none, report: null },
  // SV3: the server cannot map the schema version this was written under; the write waits, dirty, for
  // the client to upgrade (its descriptors and records migrated) and is pushed again then.
  outdated: ({ outcome }) => ({
    rule: 'P8 schema outdated: kept dirty',
    local: none,
    report: { kind: 'outdated', error: fromWireError(outcome.status === 'rejected' ? outcome.error : undefined).toWire() },
  }),
  // PD5: the parent's deletion won. The refused edit is dropped (a retry would be refused again) and the
  // server's state of the child is taken whatever its version: gone under cascade, its reference cleared
  // under set null. A record the server knows comes back by a full reconciliation of its table's scopes.
  'parent-deleted': ({ local, outcome }, unchanged) => {
    const error = fromWireError(outcome.status === 'rejected' ? outcome.error : undefined).toWire()
    if (!unchanged || local === undefined) return { rule: 'P9 parent deleted: dropped, reconciled', local: none, report: { kind: 'rejected', error } }
    return { rule: 'P9 parent deleted: dropped, reconciled', local: { kind: 'remove' }, report: { kind: 'rejected', error }, ...(local.acknowledged ? { reconcile: true as const } : {}) }
  },
  rejected: ({ local, outcome }, unchanged) => {
    const error = fromWireError(outcome.status === 'rejected' ? outcome.error : undefined).toWire()
    return {
      rule: 'P7 rejected: kept, marked',
      local: unchanged && local !== undefined ? { kind: 'put', record: { ...local, dirty: false, rejected: error } } : none,
      report: { kind: 'rejected', error },
    }
  },
}

/**
 * Decides what one push outcome does to the local record (SPEC.md P1–P10). "Unchanged" means the local
 * record is still at the version pushed; a record written again while the push was in flight keeps its
 * newer write, dirty (trap 5), whatever the outcome — only a readable winner newer still replaces it.
 *
 * - P1 `applied`, unchanged: clean and acknowledged, any earlier refusal cleared.
 * - P2 `applied`, written since: acknowledged (the server knows the uid), still dirty.
 * - P3 `superseded` with a winner: the winner is an incoming state (A1–A4).
 * - P4 `superseded`, winner hidden (attack V9): an unchanged copy is removed.
 * - P5 `PURGED` (R10): an unchanged copy is removed and reported purged.
 * - P6 `CLOCK_AHEAD` after the clock was corrected: a dirty copy is re-stamped (and says so: `restamped`)
 *   and pushed again.
 * - P7 any other refusal: reported; an unchanged copy is kept, no longer dirty, with the error.
 * - P8 `SCHEMA_OUTDATED` (SV3): nothing changes locally, the record stays dirty until the client upgrades.
 * - P9 `PARENT_DELETED` (PD5): reported; an unchanged copy is removed, and when the server knew the record
 *   its table's scopes reconcile in full (`reconcile`) to bring back the server's state of it.
 * - P10 `applied`, unchanged, but an eviction at a newer version was kept against the dirty copy (E1):
 *   removed, as E2 would remove the clean copy (B29).
 */
export function decidePushOutcome<T extends ReplicaRecord>(input: PushOutcomeInput<T>): PushDecision<T> {
  const { local, sent } = input
  const unchanged = local !== undefined && isSameVersion(local, sent)
  const decided = PUSH_RULES[classifyPushOutcome(input.outcome, input.clockCorrected)](input, unchanged)
  return { ...decided, changedInFlight: local?.dirty === true && !unchanged }
}

/** Whether an eviction (or removal) remembered at `removedAt` is newer than `record`'s version (E2 would remove it). */
function evictedSince(record: Pick<RecordMeta, 'updated_at' | 'deleted_at'>, removedAt: Stamp | undefined): boolean {
  return removedAt !== undefined && compareStamps(versionOf(record), removedAt) < 0
}

function unreachable(value: never): never {
  throw new LastwordError('INTERNAL', `Undecided push outcome: ${JSON.stringify(value)}`)
}
