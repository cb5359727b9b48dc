/**
 * Table descriptors: a plain-data description of a synced table's columns (SPEC.md section 4).
 * The server derives them from Drizzle tables; the client receives them (or is handed them) and keeps
 * them, so it can validate writes and start offline. No Drizzle import here.
 */
import { LastwordError } from './errors.js'
import type { ColumnRename } from './schema-version.js'
import { normalizeUuid } from './uuid.js'
import { assertForeignKeys, type ForeignKeyDescriptor } from './foreign-keys.js'

/**
 * Column types lastword syncs. Timestamps travel and are stored client-side as ISO strings; uuids
 * (PostgreSQL `uuid`) as canonical lowercase strings (uuid.ts).
 */
export type ColumnType = 'text' | 'integer' | 'real' | 'boolean' | 'timestamp' | 'json' | 'uuid'

export const COLUMN_TYPES: readonly ColumnType[] = ['text', 'integer', 'real', 'boolean', 'timestamp', 'json', 'uuid']

/** One column of a synced table (never its key, `uid` or a metadata column). */
export interface ColumnDescriptor {
  name: string
  type: ColumnType
  /** Whether `null` is allowed. */
  nullable: boolean
  /** `false` for server-owned columns (tenant, owner…): the server sets them, clients cannot. */
  writable: boolean
  /**
   * An integer column's storage width in bits, when narrower than a safe integer: 16 (`smallint`) or 32
   * (PostgreSQL `integer`). A value outside `-2^(bits-1) .. 2^(bits-1) - 1` is `INVALID_VALUE`, refused
   * at the edge rather than by the database inside the write transaction. Absent: any safe integer.
   */
  bits?: IntegerBits
  /** A text column's declared length (`varchar(n)`), in characters (code points). Absent: unbounded. */
  maxLength?: number
}

/** The integer widths a descriptor may declare. */
export type IntegerBits = 16 | 32

/** Longest declared text length a descriptor may carry (PostgreSQL's own `varchar` limit). */
export const MAX_DECLARED_LENGTH = 10_485_760

/** A synced table: its name and its app columns, in a fixed order (rows travel as arrays in it). */
export interface TableDescriptor {
  name: string
  columns: ColumnDescriptor[]
  /** The table's schema version (SPEC.md section 11): 1, 2, … as the server recorded its schemas. Absent: 1. */
  schemaVersion?: number
  /** Every column rename of the table's history, `[version, from, to]`, in order (schema-version.ts). */
  renames?: ColumnRename[]
  /**
   * How concurrent writes of one record resolve (SPEC.md section 3a): `'row'` (absent: the default) the
   * whole row by the record's version (R1–R9), `'field'` column by column (F1–F8).
   */
  merge?: 'row' | 'field'
  /**
   * The name the app's rows carry the uid under (table-key.ts, SPEC.md section 4): the Drizzle key of the
   * table's text, varchar or uuid primary key. Absent (or `'uid'`): `uid`, the shape of a table keyed
   * `uid: text('uid').primaryKey()`. The wire calls it `uid` whatever its name.
   */
  key?: string
  /** `'uuid'`: the key is a PostgreSQL `uuid` column and uids are canonical UUIDs. Absent: a text key. */
  keyType?: 'uuid'
  /**
   * The table's foreign keys to other synced tables' `uid` (SPEC.md section 4a): absent when it has none.
   * A parent's deletion wins over its children's writes (PD1–PD5).
   */
  foreignKeys?: ForeignKeyDescriptor[]
}

/** Whether a table merges column by column (`merge: 'field'`). */
export function isFieldMerge(table: Pick<TableDescriptor, 'merge'> | undefined): boolean {
  return table?.merge === 'field'
}

/** Names lastword keeps for itself; an app table may not use them as column names. */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set(['uid', 'created_at', 'updated_at', 'deleted_at', 'rev'])

/** Keys refused anywhere in wire data (prototype pollution, attack V5). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** Identifier shape for table and column names. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Size limits applied to rows and filters; the server documents and may tighten them. */
export interface ValueLimits {
  /** Longest text value, in UTF-16 code units. */
  maxTextLength: number
  /** Largest JSON value, in characters of its JSON text. */
  maxJsonLength: number
}

export const DEFAULT_VALUE_LIMITS: ValueLimits = { maxTextLength: 100_000, maxJsonLength: 100_000 }

/** Throws `FORBIDDEN_KEY` if `key` is one of the pollution keys. */
export function assertSafeKey(key: string, where: string): void {
  if (FORBIDDEN_KEYS.has(key)) {
    throw new LastwordError('FORBIDDEN_KEY', `The key "${key}" is not allowed (${where})`, { key, where })
  }
}

/** Recursively refuses pollution keys in a JSON value. */
export function assertSafeJson(value: unknown, where: string, depth = 0): void {
  if (depth > 64) throw new LastwordError('TOO_LARGE', `JSON nested deeper than 64 levels (${where})`)
  if (Array.isArray(value)) {
    for (const item of value) assertSafeJson(item, where, depth + 1)
  } else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      assertSafeKey(key, where)
      assertSafeJson((value as Record<string, unknown>)[key], where, depth + 1)
    }
  }
}

/** Checks a descriptor's own shape (names, types, no reserved or duplicate columns). */
export function assertTableDescriptor(table: TableDescriptor): TableDescriptor {
  if (!IDENTIFIER_PATTERN.test(table.name)) {
    throw new LastwordError('BAD_REQUEST', `Table name ${JSON.stringify(table.name)} is not an identifier`)
  }
  const seen = new Set<string>()
  for (const column of table.columns) {
    if (!IDENTIFIER_PATTERN.test(column.name) || FORBIDDEN_KEYS.has(column.name)) {
      throw new LastwordError('BAD_REQUEST', `Column name ${JSON.stringify(column.name)} in "${table.name}" is not allowed`)
    }
    if (RESERVED_COLUMNS.has(column.name)) {
      throw new LastwordError('BAD_REQUEST', `Column "${column.name}" in "${table.name}" is reserved by lastword`)
    }
    if (!COLUMN_TYPES.includes(column.type)) {
      throw new LastwordError('BAD_REQUEST', `Column "${column.name}" has unknown type ${JSON.stringify(column.type)}`)
    }
    if (column.bits !== undefined && (column.type !== 'integer' || (column.bits !== 16 && column.bits !== 32))) {
      throw new LastwordError('BAD_REQUEST', `Column "${column.name}" declares bits; only integer columns may, as 16 or 32`)
    }
    if (
      column.maxLength !== undefined &&
      (column.type !== 'text' || !Number.isSafeInteger(column.maxLength) || column.maxLength < 1 || column.maxLength > MAX_DECLARED_LENGTH)
    ) {
      throw new LastwordError('BAD_REQUEST', `Column "${column.name}" declares maxLength; only text columns may, as 1..${MAX_DECLARED_LENGTH}`)
    }
    if (seen.has(column.name)) throw new LastwordError('BAD_REQUEST', `Column "${column.name}" appears twice`)
    seen.add(column.name)
  }
  const version = table.schemaVersion
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
    throw new LastwordError('BAD_REQUEST', `Table "${table.name}" has a schema version that is not a positive integer`)
  }
  for (const rename of table.renames ?? []) {
    const [at, from, to] = rename
    if (!Number.isSafeInteger(at) || at < 2 || (version !== undefined && at > version) || !IDENTIFIER_PATTERN.test(from) || !IDENTIFIER_PATTERN.test(to)) {
      throw new LastwordError('BAD_REQUEST', `Table "${table.name}" lists a malformed rename`)
    }
  }
  if (table.merge !== undefined && table.merge !== 'row' && table.merge !== 'field') {
    throw new LastwordError('BAD_REQUEST', `Table "${table.name}" declares merge; only 'row' or 'field'`)
  }
  const key = table.key
  // The key is no column: rows carry it beside the columns, so it may not be one of them nor lastword's.
  if (key !== undefined && (typeof key !== 'string' || !IDENTIFIER_PATTERN.test(key) || FORBIDDEN_KEYS.has(key) || (key !== 'uid' && RESERVED_COLUMNS.has(key)) || seen.has(key))) {
    throw new LastwordError('BAD_REQUEST', `Table "${table.name}" names a key that is not an identifier of its own (reserved, or a column's name)`)
  }
  if (table.keyType !== undefined && table.keyType !== 'uuid') {
    throw new LastwordError('BAD_REQUEST', `Table "${table.name}" declares keyType; only 'uuid'`)
  }
  assertForeignKeys(table, (name) => IDENTIFIER_PATTERN.test(name) && !FORBIDDEN_KEYS.has(name))
  return table
}

/** Finds a column by name (never through the prototype chain). */
export function findColumn(table: TableDescriptor, name: string): ColumnDescriptor | undefined {
  return table.columns.find((column) => column.name === name)
}

/** Looks up a column or throws `UNKNOWN_COLUMN` naming the known ones. */
export function getColumn(table: TableDescriptor, name: string): ColumnDescriptor {
  const column = findColumn(table, name)
  if (column === undefined) {
    assertSafeKey(name, `column of "${table.name}"`)
    throw new LastwordError(
      'UNKNOWN_COLUMN',
      `Column ${JSON.stringify(name.slice(0, 80))} is not in table "${table.name}"; known: ${table.columns.map((c) => c.name).join(', ')}`,
      { table: table.name, column: name.slice(0, 80) },
    )
  }
  return column
}

// Lone surrogates become U+FFFD in SQLite and PostgreSQL, and PostgreSQL refuses NUL: either would
// leave two different values at one version that never reconcile, so such text is refused up front.
const UNSTORABLE_TEXT = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/

/** Whether text survives a round trip through SQLite and PostgreSQL unchanged. */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE_TEXT.test(value)
}

const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/

/** Normalises a timestamp (ISO string or `Date`) to `YYYY-MM-DDTHH:mm:ss.sssZ`, or `undefined` if invalid. */
export function normalizeTimestamp(value: unknown): string | undefined {
  let date: Date
  if (value instanceof Date) date = value
  else if (typeof value === 'string' && ISO_PATTERN.test(value)) {
    // `Date` rolls impossible days over ('2024-02-30' becomes 1 March); PostgreSQL refuses them. So do we.
    const year = Number(value.slice(0, 4))
    const month = Number(value.slice(5, 7))
    const day = Number(value.slice(8, 10))
    if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined
    date = new Date(value)
  } else return undefined
  const ms = date.getTime()
  if (!Number.isFinite(ms) || ms < 0 || ms > 253_402_300_799_999) return undefined // years 1970..9999
  return date.toISOString()
}

/**
 * Checks one value against its column and returns its normalised form (timestamps as ISO strings).
 * Throws `INVALID_VALUE` (or `FORBIDDEN_KEY`, `TOO_LARGE`).
 */
export function normalizeValue(column: ColumnDescriptor, value: unknown, limits: ValueLimits = DEFAULT_VALUE_LIMITS): unknown {
  if (value === null || value === undefined) {
    if (column.nullable) return null
    throw invalid(column, value, 'a value (the column is not nullable)')
  }
  switch (column.type) {
    case 'text':
      if (typeof value !== 'string') throw invalid(column, value, 'a string')
      if (!isStorableText(value)) throw invalid(column, value, 'well-formed text (no lone surrogates, no NUL)')
      if (value.length > limits.maxTextLength) {
        throw new LastwordError('TOO_LARGE', `Text in "${column.name}" is longer than ${limits.maxTextLength}`, { column: column.name })
      }
      // UTF-16 units bound code points from above: only a longer string needs counting.
      if (column.maxLength !== undefined && value.length > column.maxLength && codePoints(value) > column.maxLength) {
        throw invalid(column, value, `text of at most ${column.maxLength} characters`)
      }
      return value
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(column, value, 'a safe integer')
      if (column.bits !== undefined && (value < -(2 ** (column.bits - 1)) || value >= 2 ** (column.bits - 1))) {
        throw invalid(column, value, `an integer of ${column.bits} bits (-2^${column.bits - 1} to 2^${column.bits - 1} - 1)`)
      }
      return value
    case 'real':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(column, value, 'a finite number')
      return value
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(column, value, 'a boolean')
      return value
    case 'timestamp': {
      const iso = normalizeTimestamp(value)
      if (iso === undefined) throw invalid(column, value, 'an ISO-8601 timestamp between 1970 and 9999')
      return iso
    }
    case 'uuid': {
      const uuid = normalizeUuid(value)
      if (uuid === undefined) throw invalid(column, value, 'a UUID (8-4-4-4-12 hexadecimal digits)')
      return uuid
    }
    case 'json': {
      assertSafeJson(value, `column "${column.name}"`)
      let text: string
      try {
        text = JSON.stringify(value)
      } catch (error) {
        throw new LastwordError('INVALID_VALUE', `Column "${column.name}" holds a value that is not JSON`, { column: column.name }, { cause: error })
      }
      if (text === undefined) throw invalid(column, value, 'a JSON value')
      if (text.length > limits.maxJsonLength) {
        throw new LastwordError('TOO_LARGE', `JSON in "${column.name}" is longer than ${limits.maxJsonLength}`, { column: column.name })
      }
      return JSON.parse(text) as unknown
    }
  }
}

function codePoints(value: string): number {
  let count = 0
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i)
    // A high surrogate followed by a low one is one code point (text here is well-formed: checked above).
    if (unit >= 0xd800 && unit <= 0xdbff) i++
    count++
  }
  return count
}

function invalid(column: ColumnDescriptor, value: unknown, expected: string): LastwordError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : typeof value
  return new LastwordError('INVALID_VALUE', `Column "${column.name}" needs ${expected}, got ${got}`, {
    column: column.name,
    expected: column.type,
  })
}

/** Options of {@link normalizeRow}. */
export interface NormalizeRowOptions {
  /** Columns missing from the input: `'null'` fills nullable ones with null; `'error'` refuses. */
  missing?: 'null' | 'error'
  /** Drop values of non-writable columns instead of keeping them (server side, for client writes). */
  dropReadOnly?: boolean
  limits?: ValueLimits
}

/**
 * Validates a row against its table and returns a fresh object with exactly the table's columns,
 * normalised. Unknown keys are `UNKNOWN_COLUMN`; pollution keys `FORBIDDEN_KEY`; the table's key (`uid`
 * unless the descriptor names another) is ignored. Never merges into the input.
 */
export function normalizeRow(table: TableDescriptor, input: unknown, options: NormalizeRowOptions = {}): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new LastwordError('INVALID_VALUE', `A row of "${table.name}" must be an object`)
  }
  const source = input as Record<string, unknown>
  const uidKey = table.key ?? 'uid'
  for (const key of Object.keys(source)) {
    assertSafeKey(key, `row of "${table.name}"`)
    if (key === uidKey) continue
    getColumn(table, key)
  }
  const out: Record<string, unknown> = {}
  for (const column of table.columns) {
    if (options.dropReadOnly === true && !column.writable) continue
    const present = Object.prototype.hasOwnProperty.call(source, column.name)
    if (!present && options.missing === 'error' && !column.nullable) {
      throw new LastwordError('INVALID_VALUE', `Column "${column.name}" of "${table.name}" is required`, { column: column.name })
    }
    out[column.name] = normalizeValue(column, present ? source[column.name] : null, options.limits)
  }
  return out
}

/**
 * The one rule for server-owned columns (`writable: false`, filled by the server from the principal):
 * a client never writes them. The client refuses such a local write and the server refuses such a pushed
 * record, both with `READ_ONLY_COLUMN` (attack V3, mass assignment). Only the app itself, writing through
 * the server's services with no principal, may set them.
 */
export function assertWritableColumns(table: TableDescriptor, input: Record<string, unknown>): void {
  for (const key of Object.keys(input)) {
    assertSafeKey(key, `row of "${table.name}"`)
    if (key === (table.key ?? 'uid')) continue
    const column = getColumn(table, key)
    if (!column.writable) {
      throw new LastwordError('READ_ONLY_COLUMN', `Column "${key}" of "${table.name}" is set by the server; leave it out`, {
        table: table.name,
        column: key,
      })
    }
  }
}

/**
 * Validates a client's write of a row and returns the full row: only writable columns may be given
 * ({@link assertWritableColumns}); server-owned ones are kept from `base` (an update) or `null` until the
 * server fills them (a create). `keysOnly` checks the keys and values present, not the missing ones (an
 * update's patch, before the stored row is read).
 */
export function normalizeClientWrite(
  table: TableDescriptor,
  input: unknown,
  base: Record<string, unknown> | null,
  keysOnly = false,
): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new LastwordError('INVALID_VALUE', `A row of "${table.name}" must be an object`)
  }
  const source = input as Record<string, unknown>
  assertWritableColumns(table, source)
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(source, key)
  const writable = table.columns.filter((c) => c.writable)
  const uidKey = table.key ?? 'uid'
  const key = uidKey === 'uid' ? {} : { key: uidKey }
  if (keysOnly) return normalizeRow({ name: table.name, columns: writable.filter((c) => has(c.name)), ...key }, source)
  const merged: Record<string, unknown> = {}
  if (base !== null) for (const column of writable) merged[column.name] = base[column.name] ?? null
  for (const k of Object.keys(source)) if (k !== uidKey) merged[k] = source[k]
  const normalized = normalizeRow({ name: table.name, columns: writable, ...key }, merged, { missing: 'error' })
  const out: Record<string, unknown> = {}
  for (const column of table.columns) out[column.name] = column.writable ? normalized[column.name] : (base?.[column.name] ?? null)
  return out
}

/** A row as an array in the descriptor's column order (the wire form of a page). */
export function rowToArray(table: TableDescriptor, row: Record<string, unknown>): unknown[] {
  return table.columns.map((column) => row[column.name] ?? null)
}

/** The inverse of {@link rowToArray}. */
export function arrayToRow(table: TableDescriptor, values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  table.columns.forEach((column, i) => {
    out[column.name] = values[i] ?? null
  })
  return out
}
