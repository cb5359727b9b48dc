/**
 * The conflict rule (SPEC.md section 3 names each rule): the greater version wins; equal
 * versions are the same write seen twice; a later write brings a tombstoned record back, an older one
 * never does. Written as a typed decision table: a new case does not compile until it is decided.
 */
import type { TableDescriptor } from './descriptor.js'
import { LastwordError } from './errors.js'
import { versionOf, type RecordMeta } from './metadata.js'
import { compareStamps } from './stamp.js'

/** What is stored for a uid. */
export type StoredKind = 'absent' | 'live' | 'tombstone'
/** What a write carries. */
export type IncomingKind = 'live' | 'tombstone'
/** How the incoming version compares with the stored one. */
export type Order = 'newer' | 'equal' | 'older'
/** What to do with the write. */
export type Decision = 'apply' | 'noop' | 'supersede'

/** A rule of the table, named as in SPEC.md. */
export interface Rule {
  readonly id: string
  readonly decision: Decision
}

/** The decision table. `absent` has no version, so only `newer` is reachable there. */
export const CONFLICT_TABLE: {
  readonly [S in StoredKind]: { readonly [I in IncomingKind]: { readonly [O in Order]: Rule } }
} = {
  absent: {
    live: {
      newer: { id: 'R1 create', decision: 'apply' },
      equal: { id: 'R1 create', decision: 'apply' },
      older: { id: 'R1 create', decision: 'apply' },
    },
    tombstone: {
      newer: { id: 'R2 tombstone for an unknown uid', decision: 'apply' },
      equal: { id: 'R2 tombstone for an unknown uid', decision: 'apply' },
      older: { id: 'R2 tombstone for an unknown uid', decision: 'apply' },
    },
  },
  live: {
    live: {
      newer: { id: 'R3 later update wins', decision: 'apply' },
      equal: { id: 'R6 same write seen twice', decision: 'noop' },
      older: { id: 'R7 older write superseded', decision: 'supersede' },
    },
    tombstone: {
      newer: { id: 'R4 later delete wins', decision: 'apply' },
      equal: { id: 'R6 same write seen twice', decision: 'noop' },
      older: { id: 'R8 older delete superseded', decision: 'supersede' },
    },
  },
  tombstone: {
    live: {
      newer: { id: 'R5 later write brings the record back', decision: 'apply' },
      equal: { id: 'R6 same write seen twice', decision: 'noop' },
      older: { id: 'R9 older write never resurrects', decision: 'supersede' },
    },
    tombstone: {
      newer: { id: 'R4 later delete wins', decision: 'apply' },
      equal: { id: 'R6 same write seen twice', decision: 'noop' },
      older: { id: 'R8 older delete superseded', decision: 'supersede' },
    },
  },
}

/** The outcome of resolving one write against the stored state. */
export type Resolution<T extends RecordMeta = RecordMeta> =
  | { kind: 'applied'; rule: string }
  | { kind: 'noop'; rule: string }
  | { kind: 'superseded'; rule: string; winner: T }

/** Orders two versions. */
export function compareVersions(a: RecordMeta, b: RecordMeta): number {
  return compareStamps(versionOf(a), versionOf(b))
}

/** Classifies a stored state. */
export function storedKind(stored: RecordMeta | null | undefined): StoredKind {
  if (stored == null) return 'absent'
  return stored.deleted_at === null ? 'live' : 'tombstone'
}

/** Looks up the rule for a write. */
export function ruleFor(stored: RecordMeta | null | undefined, incoming: RecordMeta): Rule {
  const s = storedKind(stored)
  const i: IncomingKind = incoming.deleted_at === null ? 'live' : 'tombstone'
  const c = stored == null ? 1 : compareVersions(incoming, stored)
  const o: Order = c > 0 ? 'newer' : c === 0 ? 'equal' : 'older'
  return CONFLICT_TABLE[s][i][o]
}

/**
 * Resolves a write against what is stored for its uid. Pure and deterministic: the final state over
 * a set of writes is the one with the greatest version, whatever the order they arrive in.
 */
export function resolveWrite<T extends RecordMeta>(stored: T | null | undefined, incoming: RecordMeta): Resolution<T> {
  const rule = ruleFor(stored, incoming)
  switch (rule.decision) {
    case 'apply':
      return { kind: 'applied', rule: rule.id }
    case 'noop':
      return { kind: 'noop', rule: rule.id }
    case 'supersede':
      // `supersede` is only reachable with a stored state (the `absent` row never supersedes).
      return { kind: 'superseded', rule: rule.id, winner: stored as T }
  }
}

/**
 * R10 (trap 3, tombstone retention, in docs/guarantees.md): a write of a record its sender says the server
 * acknowledged once, while the server no longer knows the uid, is of a record deleted and purged after
 * retention — refused (`PURGED`, and the client removes its copy), never a create (R1) that would bring
 * back what was deleted. Only on R12's evidence (`purgeProven`: the sender's knowledge of the record is
 * part of the server's history, lineage.ts): a record acknowledged by a history the server does not
 * share (a restored backup, another database) is created with its original stamps (R1/R2).
 */
export function isPurgedWrite(stored: RecordMeta | null | undefined, incoming: { acknowledged?: boolean | undefined }, purgeProven: boolean): boolean {
  return stored == null && incoming.acknowledged === true && purgeProven
}

/** Whether `incoming` should replace `stored` (a write that would be `applied`). */
export function isNewer(incoming: RecordMeta, stored: RecordMeta | null | undefined): boolean {
  return ruleFor(stored, incoming).decision === 'apply'
}

/** A write's content as the equal-version check compares it: the record's kind and, when live, its row. */
export interface WriteContent {
  deleted_at: string | null
  /** The full row (`null` for a tombstone). */
  row: Readonly<Record<string, unknown>> | null
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` compare equal (jsonb reorders keys). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * Whether two writes of one record at one version carry the same content (R11): both tombstones, or
 * both live with equal values in every column of `table` (a missing column counts as `null`; JSON
 * values compare by content, whatever their key order).
 */
export function isSameContent(table: TableDescriptor, stored: WriteContent, incoming: WriteContent): boolean {
  if ((stored.deleted_at === null) !== (incoming.deleted_at === null)) return false
  if (stored.deleted_at !== null) return true
  if (stored.row === null || incoming.row === null) return stored.row === incoming.row
  for (const column of table.columns) {
    const a = stored.row[column.name] ?? null
    const b = incoming.row[column.name] ?? null
    if (column.type === 'json' ? canonicalJson(a) !== canonicalJson(b) : a !== b) return false
  }
  return true
}

/**
 * R11 — equal version, different content: R6 takes an equal version for the same write seen twice. An
 * honest clock never gives two different writes one stamp, so a write at the stored version whose
 * content differs (another row, or a tombstone against a live row) is refused with `INVALID_STAMP`,
 * never reported applied while the old content stays (client and server would disagree at one version).
 */
export function assertSameWrite(table: TableDescriptor, stored: WriteContent, incoming: WriteContent): void {
  if (!isSameContent(table, stored, incoming)) {
    throw new LastwordError('INVALID_STAMP', 'This version was already written with other content; a changed record needs a new stamp', {
      reason: 'version-reused',
    })
  }
}
