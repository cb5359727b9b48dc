/**
 * Schema versions of a synced table (SPEC.md section 11): which changes of a table's columns lastword
 * serves (rules SV1–SV6), and how a row written under one version of a table maps to another — the
 * one rule the server applies to a push from an older schema and the client applies to its stored
 * records when it learns a newer one. Pure: descriptors in, decisions out.
 */
import { type ColumnDescriptor, type TableDescriptor } from './descriptor.js'
import { LastwordError } from './errors.js'

/**
 * A rename in a table's history: `[version, from, to]`, the column called `from` before `version` is
 * called `to` from `version` on. Descriptors carry every rename of their table's history, in order.
 */
export type ColumnRename = [version: number, from: string, to: string]

/** Why {@link diffSchema} refuses a change (SV6): each is a `SCHEMA_CHANGE_UNSUPPORTED` error's `details.reason`. */
export type UnsupportedReason =
  | 'retyped' // a column's type changed other than by widening (SV5)
  | 'narrowed' // a width or length became smaller, or a column gained a width
  | 'made-required' // a nullable column became NOT NULL
  | 'required-without-default' // a NOT NULL column without a default was added
  | 'ownership-changed' // a column became server-owned, or stopped being so
  | 'rename-source-missing' // `renamed` names a column the previous version did not have

/** One supported change between two consecutive versions. */
export type SchemaChange =
  | { kind: 'add'; column: string } // SV1
  | { kind: 'drop'; column: string } // SV3
  | { kind: 'rename'; from: string; to: string } // SV4
  | { kind: 'widen'; column: string } // SV5

/** What the app declares beside the columns of the new version. */
export interface SchemaChangeOptions {
  /** `{ newName: 'oldName' }`: columns renamed by this version (SV4). Entries that do not apply (already renamed) are ignored. */
  renamed?: Readonly<Record<string, string>>
  /** Columns that have a default in the database: a NOT NULL one may be added (SV1). */
  defaulted?: ReadonlySet<string>
}

function has(record: Readonly<Record<string, string>>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key)
}

/** SV5: `next` holds every value `prev` held. integer → real, narrower integer → wider, shorter varchar → longer or unbounded. */
export function isWidening(prev: ColumnDescriptor, next: ColumnDescriptor): boolean {
  if (prev.type === next.type) {
    if (prev.type === 'integer') return next.bits === undefined || (prev.bits !== undefined && next.bits >= prev.bits)
    if (prev.type === 'text') return next.maxLength === undefined || (prev.maxLength !== undefined && next.maxLength >= prev.maxLength)
    return true
  }
  // A 53-bit integer is exactly a double; a real never goes back to integer.
  return prev.type === 'integer' && next.type === 'real'
}

function sameColumn(a: ColumnDescriptor, b: ColumnDescriptor): boolean {
  return a.type === b.type && a.nullable === b.nullable && a.writable === b.writable && a.bits === b.bits && a.maxLength === b.maxLength
}

function refuse(table: string, column: string, reason: UnsupportedReason, message: string): never {
  throw new LastwordError('SCHEMA_CHANGE_UNSUPPORTED', `lastword will not serve "${table}": ${message}`, { table, column, reason })
}

/**
 * The changes from `prev` to `next` (two versions of one table), or `SCHEMA_CHANGE_UNSUPPORTED` naming
 * the table, the column and the reason (SV6). An empty list: the same schema (no new version).
 */
export function diffSchema(prev: TableDescriptor, next: TableDescriptor, options: SchemaChangeOptions = {}): SchemaChange[] {
  const renamed = options.renamed ?? {}
  const defaulted = options.defaulted ?? new Set<string>()
  const before = new Map(prev.columns.map((c) => [c.name, c]))
  const after = new Map(next.columns.map((c) => [c.name, c]))
  const changes: SchemaChange[] = []
  const renamedFrom = new Set<string>()
  for (const column of next.columns) {
    const name = column.name
    let old = before.get(name)
    if (old === undefined && has(renamed, name)) {
      const from = renamed[name] as string
      old = before.get(from)
      if (old === undefined || after.has(from)) {
        refuse(next.name, name, 'rename-source-missing', `"${name}" is declared renamed from "${from}", which the previous version did not have (or still has)`)
      }
      renamedFrom.add(from)
      changes.push({ kind: 'rename', from, to: name })
    }
    if (old === undefined) {
      if (!column.nullable && !defaulted.has(name)) {
        refuse(next.name, name, 'required-without-default', `the new column "${name}" is NOT NULL without a default; older clients cannot write it`)
      }
      changes.push({ kind: 'add', column: name })
      continue
    }
    if (sameColumn(old, column)) continue
    if (old.writable !== column.writable) refuse(next.name, name, 'ownership-changed', `"${name}" changed between client-written and server-owned`)
    if (old.nullable && !column.nullable) refuse(next.name, name, 'made-required', `"${name}" became NOT NULL; older clients may write null`)
    if (old.type !== column.type && !isWidening(old, column)) {
      refuse(next.name, name, 'retyped', `"${name}" changed from ${old.type} to ${column.type}; only widening (integer to real, a wider integer or text) is served`)
    }
    if (!isWidening(old, column)) refuse(next.name, name, 'narrowed', `"${name}" became narrower; older clients may hold values it refuses`)
    changes.push({ kind: 'widen', column: name })
  }
  for (const column of prev.columns) {
    if (!after.has(column.name) && !renamedFrom.has(column.name)) changes.push({ kind: 'drop', column: column.name })
  }
  return changes
}

/** Where one column of the older version went. */
export type ColumnFate = { kind: 'kept'; to: string } | { kind: 'dropped' }

/** How rows of one version of a table map to another (newer) version. */
export interface SchemaMapping {
  /** By column name in the older version. */
  columns: ReadonlyMap<string, ColumnFate>
  /** Columns of the newer version the older did not know (SV1): a write under the older version leaves them as they are. */
  added: readonly string[]
}

/** The version a descriptor says it is (1 when it says none). */
export function schemaVersionOf(table: TableDescriptor): number {
  return table.schemaVersion ?? 1
}

/**
 * How rows of `from` map to `to`, two descriptors of one table with `from`'s version at most `to`'s: a
 * column follows the renames `to` lists after `from`'s version (SV4); one that `to` lacks was dropped
 * (SV3); one whose type `to` changed other than by widening counts as dropped (it cannot be mapped).
 */
export function schemaMapping(from: TableDescriptor, to: TableDescriptor): SchemaMapping {
  const since = schemaVersionOf(from)
  const target = new Map(to.columns.map((c) => [c.name, c]))
  const columns = new Map<string, ColumnFate>()
  const reached = new Set<string>()
  for (const column of from.columns) {
    let name = column.name
    for (const [version, old, now] of to.renames ?? []) if (version > since && old === name) name = now
    const there = target.get(name)
    if (there === undefined || !isWidening(column, there)) {
      columns.set(column.name, { kind: 'dropped' })
      continue
    }
    columns.set(column.name, { kind: 'kept', to: name })
    reached.add(name)
  }
  return { columns, added: to.columns.filter((c) => !reached.has(c.name)).map((c) => c.name) }
}

/** The result of mapping one row to a newer version. */
export type MappedRow =
  | { ok: true; row: Record<string, unknown>; unknown: string[] }
  | { ok: false; column: string }

/**
 * A row written under `from` as a row of `to` (SV2): renamed columns carry their values over, columns
 * `to` added are absent from `row` and listed in `unknown` (the writer did not know them: the server keeps
 * their stored value, the client reads them as null until a pull brings them). A key of a dropped or
 * retyped column with `strict` makes the row unmappable (`SCHEMA_OUTDATED` for a push, SV3); without it
 * (a client migrating its own records) the value is left behind. Keys `from` does not know are kept
 * as they are, for the caller's own validation to refuse.
 */
export function mapRow(mapping: SchemaMapping, row: Readonly<Record<string, unknown>>, strict: boolean): MappedRow {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(row)) {
    const fate = mapping.columns.get(key)
    if (fate === undefined) out[key] = row[key]
    else if (fate.kind === 'kept') out[fate.to] = row[key]
    else if (strict) return { ok: false, column: key }
  }
  return { ok: true, row: out, unknown: mapping.added.filter((name) => !Object.prototype.hasOwnProperty.call(out, name)) }
}

/** The error a push from a schema version the server cannot map is answered with (SV3). */
export function schemaOutdated(table: TableDescriptor, from: number): LastwordError {
  return new LastwordError(
    'SCHEMA_OUTDATED',
    `This record was written under version ${from} of "${table.name}"; the server is at version ${schemaVersionOf(table)}: upgrade, then push it again`,
    { table: table.name, schemaVersion: from, current: schemaVersionOf(table) },
  )
}

/**
 * The renames of the table's next version: its predecessor's, plus those `changes` made at `version`.
 * Bounded: a descriptor carries the last {@link MAX_RENAMES}; a client migrating from a version older than
 * the earliest one kept sees that rename as a drop and an add (its value left behind).
 */
export function nextRenames(previous: readonly ColumnRename[], changes: readonly SchemaChange[], version: number): ColumnRename[] {
  const added: ColumnRename[] = changes.flatMap((c) => (c.kind === 'rename' ? [[version, c.from, c.to] as ColumnRename] : []))
  return [...previous, ...added].slice(-MAX_RENAMES)
}

/** Renames a descriptor carries at most. */
export const MAX_RENAMES = 64
