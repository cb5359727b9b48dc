/**
 * Synced tables: the plain descriptor core works with, derived from the app's Drizzle table, and the
 * per-column codecs between core values (ISO timestamps, booleans, JSON values) and what the driver
 * stores. Every SQL identifier the engine emits comes from the Drizzle column objects kept here,
 * never from a name received on the wire (attack V2, docs/guarantees.md).
 */
import {
  LastwordError,
  assertTableDescriptor,
  normalizeTimestamp,
  type ColumnDescriptor,
  type ColumnType,
  type TableDescriptor,
} from '@lastword/core'
import { Column, SQL, Table, getTableColumns, is, sql } from 'drizzle-orm'
import type { Principal, TableOptions } from '../types.js'
import { keyColumnOf } from './table-key.js'

/** A Drizzle table of either dialect. */
export type AnyDrizzleTable = Table

/** A synced table as the app declares it: the Drizzle table alone, or with its options. */
export type TableInput<P extends Principal = Principal> = AnyDrizzleTable | ({ table: AnyDrizzleTable } & TableOptions<P>)

/** How one column's values cross between core and the driver. */
export interface ColumnCodec {
  /** Core value (normalised, never null) → driver parameter. */
  toDriver(value: unknown): unknown
  /** Driver value (never null) → core value. */
  fromDriver(raw: unknown): unknown
  /**
   * Filter values compare against `expr(column)`; second-precision timestamps compare as `column * 1000`
   * so that sub-second bounds mean what core's matcher says they mean.
   */
  compareExpr(column: SQL): SQL
  /** For timestamps stored coarser than ms: the step (ms) a value must be a multiple of. */
  stepMs: number
}

/** One synced column: its descriptor, its Drizzle column and its codec. */
export interface SyncedColumn {
  descriptor: ColumnDescriptor
  column: Column
  /** The column's SQL name (after the db's casing rule). */
  sqlName: string
  /** The column's SQL type as declared in the app's schema (PostgreSQL writes cast through it). */
  sqlType: string
  codec: ColumnCodec
}

/** Everything the engine knows about one synced table. */
export interface SyncedTable {
  /** The name clients use (the key in `tables`). */
  name: string
  descriptor: TableDescriptor
  table: AnyDrizzleTable
  /** The table's key (its text, varchar or uuid primary key, table-key.ts): the record's uid. */
  uid: Column
  uidSqlName: string
  uidSqlType: string
  /** In descriptor order. */
  columns: SyncedColumn[]
  byName: ReadonlyMap<string, SyncedColumn>
  serverColumns: ReadonlyMap<string, (principal: Principal | null) => unknown>
  /** Columns with a default lastword can compute (a value or a function in the Drizzle schema): a create that leaves one out gets it. */
  defaults: ReadonlyMap<string, () => unknown>
  /** The app's `renamed` option (README, "Schema changes"). */
  renamed: Readonly<Record<string, string>>
  /** Whether writes outside lastword are captured by triggers (the `capture` option, default `true`; capture.ts). */
  capture: boolean
}

type Casing = { getColumnCasing(column: Column): string }

const TEXT = new Set(['SQLiteText', 'PgText', 'PgVarchar'])
const INTEGER = new Set(['SQLiteInteger', 'PgInteger', 'PgSmallInt', 'PgBigInt53', 'PgSerial', 'PgSmallSerial', 'PgBigSerial53'])
const REAL = new Set(['SQLiteReal', 'PgReal', 'PgDoublePrecision', 'PgNumericNumber', 'SQLiteNumericNumber'])
const BOOLEAN = new Set(['SQLiteBoolean', 'PgBoolean'])
const TIMESTAMP = new Set(['SQLiteTimestamp', 'PgTimestamp', 'PgTimestampString'])
const JSON_TYPES = new Set(['SQLiteTextJson', 'PgJson', 'PgJsonb'])
const UUID = new Set(['PgUUID'])

function columnTypeOf(column: Column, table: string, key: string): ColumnType {
  const kind = column.columnType
  if (TEXT.has(kind)) return 'text'
  if (INTEGER.has(kind)) return 'integer'
  if (REAL.has(kind)) return 'real'
  if (BOOLEAN.has(kind)) return 'boolean'
  if (TIMESTAMP.has(kind)) return 'timestamp'
  if (JSON_TYPES.has(kind)) return 'json'
  if (UUID.has(kind)) return 'uuid'
  throw new LastwordError(
    'BAD_REQUEST',
    `Column "${key}" of "${table}" is a ${kind}, which lastword cannot sync; use text, varchar, integer, real, double, numeric({ mode: 'number' }), boolean, timestamp, json or uuid`,
    { table, column: key, columnType: kind },
  )
}

/** Integer kinds narrower than a safe integer (PostgreSQL `smallint`, `integer`), by storage width. */
const INTEGER_BITS: Readonly<Record<string, 16 | 32>> = { PgSmallInt: 16, PgSmallSerial: 16, PgInteger: 32, PgSerial: 32 }

/**
 * The column's width as declared in the app's schema (core checks values against it at the edge, so a
 * row the database would refuse never reaches the write transaction): integer bits, declared text length.
 */
function widthOf(column: Column, type: ColumnType): Pick<ColumnDescriptor, 'bits' | 'maxLength'> {
  const bits = INTEGER_BITS[column.columnType]
  if (type === 'integer' && bits !== undefined) return { bits }
  const { length } = column as unknown as { length?: unknown }
  if (type === 'text' && typeof length === 'number' && Number.isSafeInteger(length) && length > 0) return { maxLength: length }
  return {}
}

const identity = (value: unknown): unknown => value
const plainExpr = (column: SQL): SQL => column

function toIso(value: unknown): string {
  const iso = normalizeTimestamp(value)
  if (iso === undefined) throw new LastwordError('INTERNAL', 'The database returned a timestamp lastword cannot read')
  return iso
}

function codecFor(column: Column, type: ColumnType): ColumnCodec {
  const base = { compareExpr: plainExpr, stepMs: 1 }
  const mapTo = (value: unknown): unknown => column.mapToDriverValue(value)
  const mapFrom = (raw: unknown): unknown => column.mapFromDriverValue(raw)
  switch (type) {
    case 'text':
      return { ...base, toDriver: identity, fromDriver: (raw) => String(raw) }
    case 'uuid':
      // PostgreSQL prints uuids in canonical lowercase form, core's (uuid.ts); lowercased anyway.
      return { ...base, toDriver: identity, fromDriver: (raw) => String(raw).toLowerCase() }
    case 'integer':
    case 'real':
      return { ...base, toDriver: identity, fromDriver: (raw) => Number(mapFrom(raw)) }
    case 'boolean':
      return { ...base, toDriver: mapTo, fromDriver: (raw) => Boolean(mapFrom(raw)) }
    case 'json':
      return { ...base, toDriver: mapTo, fromDriver: mapFrom }
    case 'timestamp': {
      const kind = column.columnType
      if (kind === 'SQLiteTimestamp') {
        const seconds = (column as unknown as { mode?: string }).mode === 'timestamp'
        return {
          toDriver: (value) => mapTo(new Date(value as string)),
          fromDriver: (raw) => toIso(mapFrom(raw)),
          compareExpr: seconds ? (c) => sql`(${c} * 1000)` : plainExpr,
          stepMs: seconds ? 1000 : 1,
        }
      }
      const { withTimezone, precision } = column as unknown as { withTimezone?: boolean; precision?: number }
      // PostgreSQL rounds to the declared precision: refuse values it would change instead.
      const stepMs = precision !== undefined && precision < 3 ? 10 ** (3 - precision) : 1
      return {
        ...base,
        stepMs,
        // An ISO string with `Z` is read as UTC by timestamptz and its zone ignored by timestamp, which
        // drizzle also stores as UTC.
        toDriver: identity,
        fromDriver: (raw) =>
          typeof raw === 'string' ? toIso(new Date(withTimezone === true ? raw : `${raw}+0000`)) : toIso(raw),
      }
    }
  }
}

/**
 * Builds the synced table for `name` from the app's declaration. Throws `BAD_REQUEST` for tables
 * lastword cannot sync (no text, varchar or uuid primary key — table-key.ts —, reserved or unsupported
 * columns).
 */
export function buildSyncedTable(name: string, input: TableInput, casing: Casing | undefined): SyncedTable {
  const table = is(input, Table) ? input : input.table
  const options: TableOptions = is(input, Table) ? {} : input
  if (!is(table, Table)) throw new LastwordError('BAD_REQUEST', `tables.${name} is not a Drizzle table`)
  const all = getTableColumns(table) as Record<string, Column>
  const { key: keyName, column: uid, keyType } = keyColumnOf(name, table, all)
  const serverColumns = new Map<string, (principal: Principal | null) => unknown>()
  for (const [key, fill] of Object.entries(options.serverColumns ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(all, key) || key === keyName) {
      throw new LastwordError('BAD_REQUEST', `serverColumns.${key} of "${name}" is not a column of the table`)
    }
    if (typeof fill !== 'function') throw new LastwordError('BAD_REQUEST', `serverColumns.${key} of "${name}" must be a function`)
    serverColumns.set(key, fill as (principal: Principal | null) => unknown)
  }
  const sqlNameOf = (column: Column): string => (casing === undefined ? column.name : casing.getColumnCasing(column))
  const columns: SyncedColumn[] = []
  for (const [key, column] of Object.entries(all)) {
    if (key === keyName) continue
    if (column.generated !== undefined || column.generatedIdentity !== undefined) {
      throw new LastwordError('BAD_REQUEST', `Column "${key}" of "${name}" is generated; lastword writes every synced column`)
    }
    const type = columnTypeOf(column, name, key)
    columns.push({
      descriptor: { name: key, type, nullable: !column.notNull, writable: !serverColumns.has(key), ...widthOf(column, type) },
      column,
      sqlName: sqlNameOf(column),
      sqlType: sqlTypeOf(column),
      codec: codecFor(column, type),
    })
  }
  const merge = options.merge ?? 'row'
  if (merge !== 'row' && merge !== 'field') throw new LastwordError('BAD_REQUEST', `tables.${name}.merge must be 'row' or 'field'`)
  // `merge` and the key travel in the descriptor only when they are not the default, so tables keyed
  // `uid: text('uid')` and merged by row describe themselves as before.
  const descriptor = assertTableDescriptor({
    name,
    columns: columns.map((c) => c.descriptor),
    ...(merge === 'field' ? { merge } : {}),
    ...(keyName === 'uid' ? {} : { key: keyName }),
    ...(keyType === 'uuid' ? { keyType } : {}),
  })
  const defaults = new Map<string, () => unknown>()
  for (const c of columns) {
    const fill = defaultOf(c.column)
    if (fill !== undefined) defaults.set(c.descriptor.name, fill)
  }
  if (options.capture !== undefined && typeof options.capture !== 'boolean') throw new LastwordError('BAD_REQUEST', `tables.${name}.capture must be true or false`)
  const renamed: Record<string, string> = {}
  for (const [to, from] of Object.entries(options.renamed ?? {})) {
    if (typeof from !== 'string') throw new LastwordError('BAD_REQUEST', `renamed.${to} of "${name}" must name the old column`)
    renamed[to] = from
  }
  return {
    name,
    descriptor,
    table,
    uid,
    uidSqlName: sqlNameOf(uid),
    uidSqlType: sqlTypeOf(uid),
    columns,
    byName: new Map(columns.map((c) => [c.descriptor.name, c])),
    serverColumns,
    defaults,
    renamed,
    capture: options.capture ?? true,
  }
}

/** A column's default as the Drizzle schema gives it (a value or a function), or `undefined` (none, or SQL only the database computes). */
function defaultOf(column: Column): (() => unknown) | undefined {
  const { default: value, defaultFn } = column as unknown as { default?: unknown; defaultFn?: () => unknown }
  if (typeof defaultFn === 'function') {
    return () => {
      const made = defaultFn()
      return is(made, SQL) ? null : made
    }
  }
  if (value !== undefined && !is(value, SQL)) return () => value
  return undefined
}

const PSEUDO_TYPES: Record<string, string> = { serial: 'integer', smallserial: 'smallint', bigserial: 'bigint' }

function sqlTypeOf(column: Column): string {
  const declared = (column as unknown as { getSQLType(): string }).getSQLType()
  return PSEUDO_TYPES[declared] ?? declared
}

/** Checks a normalised value against storage limits core does not know (timestamp precision). */
export function assertStorable(column: SyncedColumn, value: unknown): void {
  if (value === null || column.codec.stepMs === 1) return
  const ms = Date.parse(value as string)
  if (ms % column.codec.stepMs !== 0) {
    throw new LastwordError(
      'INVALID_VALUE',
      `Column "${column.descriptor.name}" stores time in steps of ${column.codec.stepMs} ms; round the value (or declare the column with ms precision)`,
      { column: column.descriptor.name },
    )
  }
}

/** Driver values (in descriptor order, read back as `c0, c1, …`) → a core row. */
export function decodeRow(table: SyncedTable, raw: Readonly<Record<string, unknown>>, prefix = 'c'): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  table.columns.forEach((c, i) => {
    const value = raw[`${prefix}${i}`]
    out[c.descriptor.name] = value === null || value === undefined ? null : c.codec.fromDriver(value)
  })
  return out
}
