/**
 * The `where` language (SPEC.md section 5): an AND of conditions on columns — equality, `null`, `in`, and
 * `gt/gte/lt/lte`, combinable on one column. No OR and no NOT, so a scope is a box that SQL indexes and
 * this matcher agree on. Comparison is SQL's: a range or equality never matches null; strings compare
 * by code point (SQLite BINARY, PostgreSQL COLLATE "C"); booleans as booleans; timestamps as instants.
 */
import { LastwordError } from './errors.js'
import { assertSafeKey, getColumn, isStorableText, normalizeTimestamp, type ColumnDescriptor, type TableDescriptor } from './descriptor.js'
import { normalizeUuid } from './uuid.js'

/** A value in a filter. Dates may be `Date` objects locally; they travel as ISO strings. */
export type WhereValue = string | number | boolean | Date

/** Operators on one column, AND-ed. */
export interface WhereOps {
  eq?: WhereValue
  in?: readonly WhereValue[]
  gt?: WhereValue
  gte?: WhereValue
  lt?: WhereValue
  lte?: WhereValue
}

/**
 * A filter as apps write it: `{ done: false, owner: null, priority: { gte: 2, lt: 5 }, tag: { in: ['a'] } }`.
 * `{}` matches every row.
 */
export type Where = { readonly [column: string]: WhereValue | null | WhereOps }

/** The operators of the grammar. */
export type Operator = 'eq' | 'in' | 'null' | 'gt' | 'gte' | 'lt' | 'lte'
const OPS_IN_OBJECT = new Set(['eq', 'in', 'gt', 'gte', 'lt', 'lte'])

/** A primitive after normalisation (timestamps become ISO strings). */
export type ScalarValue = string | number | boolean

/** One validated, normalised condition. */
export type Condition =
  | { column: string; op: 'null' }
  | { column: string; op: 'eq' | 'gt' | 'gte' | 'lt' | 'lte'; value: ScalarValue }
  | { column: string; op: 'in'; values: ScalarValue[] }

/** A validated filter: conditions in canonical order. */
export type Scope = readonly Condition[]

/** Limits on filters (attack V6). */
export interface WhereLimits {
  maxConditions: number
  maxInValues: number
  maxValueLength: number
}

export const DEFAULT_WHERE_LIMITS: WhereLimits = { maxConditions: 32, maxInValues: 1_000, maxValueLength: 1_024 }

/**
 * Validates a filter against a table and returns its canonical form. Unknown column → `UNKNOWN_COLUMN`;
 * unknown operator, `undefined`, NaN or an empty operator object → `INVALID_WHERE`; a value of the
 * wrong type → `INVALID_VALUE`; pollution keys → `FORBIDDEN_KEY`. A filter is never silently widened.
 */
export function validateWhere(where: unknown, table: TableDescriptor, limits: WhereLimits = DEFAULT_WHERE_LIMITS): Scope {
  if (typeof where !== 'object' || where === null || Array.isArray(where) || where instanceof Date) {
    throw new LastwordError('INVALID_WHERE', 'A filter must be an object of column conditions, e.g. { done: false }')
  }
  const conditions: Condition[] = []
  for (const name of Object.keys(where)) {
    assertSafeKey(name, 'filter')
    const column = getColumn(table, name)
    if (column.type === 'json') {
      throw new LastwordError('INVALID_WHERE', `Column "${name}" holds JSON and cannot be filtered on`, { column: name })
    }
    const spec = (where as Record<string, unknown>)[name]
    if (spec === null) {
      conditions.push({ column: name, op: 'null' })
    } else if (isPlainOps(spec)) {
      const keys = Object.keys(spec)
      if (keys.length === 0) {
        throw new LastwordError('INVALID_WHERE', `The condition on "${name}" is empty; remove the column to match everything`, { column: name })
      }
      for (const op of keys) {
        assertSafeKey(op, `condition on "${name}"`)
        if (!OPS_IN_OBJECT.has(op)) {
          throw new LastwordError('INVALID_WHERE', `Unknown operator ${JSON.stringify(op.slice(0, 40))} on "${name}"; use eq, in, gt, gte, lt, lte`, {
            column: name,
            op: op.slice(0, 40),
          })
        }
        const raw = (spec as Record<string, unknown>)[op]
        if (op === 'in') {
          if (!Array.isArray(raw)) throw new LastwordError('INVALID_WHERE', `"in" on "${name}" needs an array`, { column: name })
          if (raw.length > limits.maxInValues) {
            throw new LastwordError('TOO_LARGE', `"in" on "${name}" has more than ${limits.maxInValues} values`, { column: name })
          }
          const values = uniqueSorted(raw.map((v: unknown) => normalizeFilterValue(column, v, limits)))
          conditions.push({ column: name, op: 'in', values })
        } else {
          const value = normalizeFilterValue(column, raw, limits)
          conditions.push({ column: name, op: op as 'eq' | 'gt' | 'gte' | 'lt' | 'lte', value })
        }
      }
    } else {
      conditions.push({ column: name, op: 'eq', value: normalizeFilterValue(column, spec, limits) })
    }
  }
  if (conditions.length > limits.maxConditions) {
    throw new LastwordError('TOO_LARGE', `A filter may hold at most ${limits.maxConditions} conditions`)
  }
  return canonicalize(conditions)
}

function isPlainOps(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

function normalizeFilterValue(column: ColumnDescriptor, value: unknown, limits: WhereLimits): ScalarValue {
  if (value === undefined) {
    throw new LastwordError('INVALID_WHERE', `The value for "${column.name}" is undefined; use null to match nulls`, { column: column.name })
  }
  if (value === null) {
    throw new LastwordError('INVALID_WHERE', `null is only allowed as { ${column.name}: null }`, { column: column.name })
  }
  if (typeof value === 'number' && Number.isNaN(value)) {
    throw new LastwordError('INVALID_WHERE', `NaN is not a value for "${column.name}"`, { column: column.name })
  }
  const wrong = (expected: string) =>
    new LastwordError('INVALID_VALUE', `Filter on "${column.name}" needs ${expected}`, { column: column.name, expected: column.type })
  switch (column.type) {
    case 'text':
      if (typeof value !== 'string') throw wrong('a string')
      if (!isStorableText(value)) throw wrong('well-formed text (no lone surrogates, no NUL)')
      if (value.length > limits.maxValueLength) throw new LastwordError('TOO_LARGE', `Filter value on "${column.name}" is too long`)
      return value
    case 'integer':
      // Stored integers are safe integers; a bound beyond them says nothing more, and PostgreSQL could
      // not even read it as a bigint (1e21 prints in exponent notation).
      if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) {
        throw wrong('a number between -(2^53 - 1) and 2^53 - 1')
      }
      return value === 0 ? 0 : value // -0 and 0 are one value in SQL
    case 'real':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong('a finite number')
      return value === 0 ? 0 : value // -0 and 0 are one value in SQL
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong('a boolean')
      return value
    case 'timestamp': {
      const iso = normalizeTimestamp(value)
      if (iso === undefined) throw wrong('an ISO-8601 timestamp or a Date')
      return iso
    }
    case 'uuid': {
      // Canonical lowercase: compared by code point, as PostgreSQL orders uuids (by their bytes).
      const uuid = normalizeUuid(value)
      if (uuid === undefined) throw wrong('a UUID (8-4-4-4-12 hexadecimal digits)')
      return uuid
    }
    case 'json':
      throw wrong('a filterable column')
  }
}

/** Compares strings by Unicode code point (not JavaScript's UTF-16 order): SQLite BINARY, PostgreSQL "C". */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0 // native, and the common case when sorted lists are merged
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // Fast path: neither unit is a surrogate (D800–DFFF), so each is a whole code point.
    if ((x < 0xd800 || x > 0xdfff) && (y < 0xd800 || y > 0xdfff)) return x - y
    // A low surrogate right after a (shared) high one completes a pair, a code point above FFFF; the
    // other string then holds that high surrogate alone (D800–DBFF), which sorts below any pair.
    const prev = i > 0 ? a.charCodeAt(i - 1) : 0
    if (prev >= 0xd800 && prev <= 0xdbff) {
      const xl = x >= 0xdc00 && x <= 0xdfff
      const yl = y >= 0xdc00 && y <= 0xdfff
      if (xl || yl) return xl && yl ? x - y : xl ? 1 : -1
    }
    // Otherwise the code points start here; a lone surrogate counts as its own value (D800–DFFF),
    // below E000–FFFF, while a pair counts as the code point above FFFF it encodes.
    return (a.codePointAt(i) as number) - (b.codePointAt(i) as number)
  }
  return a.length - b.length
}

/**
 * Compares two scalar values as SQL would, or returns `undefined` when they are not comparable
 * (different types, or null): such a comparison never matches.
 */
export function compareValues(a: unknown, b: unknown): number | undefined {
  if (a === null || a === undefined || b === null || b === undefined) return undefined
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b)
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  return undefined
}

/** Whether a row value satisfies one condition, with SQL's null semantics. */
export function matchesCondition(value: unknown, condition: Condition): boolean {
  if (condition.op === 'null') return value === null || value === undefined
  if (condition.op === 'in') return condition.values.some((v) => compareValues(value, v) === 0)
  const c = compareValues(value, condition.value)
  if (c === undefined) return false
  switch (condition.op) {
    case 'eq':
      return c === 0
    case 'gt':
      return c > 0
    case 'gte':
      return c >= 0
    case 'lt':
      return c < 0
    case 'lte':
      return c <= 0
  }
}

/** Whether a row (its normalised values; timestamps as ISO strings) matches every condition of a scope. */
export function matches(row: Readonly<Record<string, unknown>>, scope: Scope): boolean {
  for (const condition of scope) {
    const value = Object.prototype.hasOwnProperty.call(row, condition.column) ? row[condition.column] : undefined
    if (!matchesCondition(value, condition)) return false
  }
  return true
}

/** AND of two scopes (the client's filter and what `authorize` allows), in canonical order. */
export function intersectScopes(a: Scope, b: Scope): Scope {
  return canonicalize([...a, ...b])
}

const OP_ORDER: Record<Operator, number> = { null: 0, eq: 1, in: 2, gt: 3, gte: 4, lt: 5, lte: 6 }

function typeRank(v: ScalarValue): number {
  return typeof v === 'boolean' ? 0 : typeof v === 'number' ? 1 : 2
}

function compareScalars(a: ScalarValue, b: ScalarValue): number {
  return typeRank(a) - typeRank(b) || (compareValues(a, b) ?? 0)
}

/** Text with no unit from the surrogates up: for it, JavaScript's native (UTF-16) order is code-point order. */
const BELOW_SURROGATES = /^[\u0000-\uD7FF]*$/

function uniqueSorted(values: ScalarValue[]): ScalarValue[] {
  // Validation sorts every `in` list it accepts; the native sort of plain text is the common, cheap case.
  const plainText = values.every((v) => typeof v === 'string' && BELOW_SURROGATES.test(v))
  const sorted = plainText ? [...values].sort() : [...values].sort(compareScalars)
  return sorted.filter((v, i) => i === 0 || compareScalars(sorted[i - 1] as ScalarValue, v) !== 0)
}

function conditionKey(c: Condition): string {
  return JSON.stringify(c.op === 'null' ? [c.column, c.op] : c.op === 'in' ? [c.column, c.op, c.values] : [c.column, c.op, c.value])
}

/** Sorts conditions canonically and drops exact duplicates, so equal filters have equal keys. */
function canonicalize(conditions: Condition[]): Scope {
  const sorted = [...conditions].sort(
    (x, y) =>
      compareCodePoints(x.column, y.column) ||
      OP_ORDER[x.op] - OP_ORDER[y.op] ||
      compareCodePoints(conditionKey(x), conditionKey(y)),
  )
  return sorted.filter((c, i) => i === 0 || conditionKey(sorted[i - 1] as Condition) !== conditionKey(c))
}

/** A canonical string for a scope of a table: equal filters, however written, have equal keys. */
export function scopeKey(table: string, scope: Scope): string {
  return JSON.stringify([table, scope.map((c) => (c.op === 'null' ? [c.column, c.op] : c.op === 'in' ? [c.column, c.op, c.values] : [c.column, c.op, c.value]))])
}

/**
 * Whether some row could match both scopes. Sound: it never answers `false` when a row could match
 * both (a property test holds it against {@link matches}); it may answer `true` for scopes that are
 * in fact disjoint over integers (it does not reason about discreteness), which only costs parallelism.
 * Near-linear in the scopes' size (attack V6): `in` lists are intersected by merging sorted lists, and
 * ranges are reduced to their tightest bounds first, so no value is ever compared with every other.
 */
export function scopesOverlap(a: Scope, b: Scope): boolean {
  const byColumn = new Map<string, Condition[]>()
  for (const scope of [a, b]) {
    for (const c of scope) {
      const list = byColumn.get(c.column)
      if (list === undefined) byColumn.set(c.column, [c])
      else list.push(c)
    }
  }
  for (const conditions of byColumn.values()) {
    if (!isSatisfiable(conditions)) return false
  }
  return true
}

type RangeCondition = Extract<Condition, { value: ScalarValue }>
type Bound = { value: ScalarValue; open: boolean }

/**
 * Whether some single value satisfies every condition (all on one column). Costs a merge of the
 * (sorted) `in` lists plus one pass over the conditions: O(n log n) at worst for unsorted lists, O(n)
 * for the sorted ones {@link validateWhere} makes, each comparison as long as the values compared.
 */
export function isSatisfiable(conditions: readonly Condition[]): boolean {
  let needsNull = false
  // The finite set of values equalities and `in` lists allow, if any: sorted, without repeats.
  let candidates: readonly ScalarValue[] | undefined
  const ranges: RangeCondition[] = []
  for (const c of conditions) {
    if (c.op === 'null') needsNull = true
    else if (c.op === 'eq' || c.op === 'in') {
      const values = c.op === 'in' ? sortedUnique(c.values) : [c.value]
      candidates = candidates === undefined ? values : intersectSorted(candidates, values)
    } else ranges.push(c)
  }
  if (needsNull) return candidates === undefined && ranges.length === 0
  // A range on booleans alone: the domain is finite, check it exactly.
  if (candidates === undefined && ranges.length > 0 && typeof (ranges[0] as RangeCondition).value === 'boolean') candidates = [false, true]
  // The tightest lower and upper bounds; bounds of different types leave no value that meets both.
  let lower: Bound | undefined
  let upper: Bound | undefined
  for (const c of ranges) {
    if (c.op === 'gt' || c.op === 'gte') {
      const open = c.op === 'gt'
      const cmp = lower === undefined ? 1 : compareValues(c.value, lower.value)
      if (cmp === undefined) return false
      if (cmp > 0 || (cmp === 0 && open)) lower = { value: c.value, open }
    } else {
      const open = c.op === 'lt'
      const cmp = upper === undefined ? -1 : compareValues(c.value, upper.value)
      if (cmp === undefined) return false
      if (cmp < 0 || (cmp === 0 && open)) upper = { value: c.value, open }
    }
  }
  if (candidates !== undefined) return candidates.some((v) => withinBounds(v, lower, upper))
  if (lower === undefined || upper === undefined) return true
  const cmp = compareValues(lower.value, upper.value)
  if (cmp === undefined) return false
  return cmp < 0 || (cmp === 0 && !lower.open && !upper.open)
}

function withinBounds(v: ScalarValue, lower: Bound | undefined, upper: Bound | undefined): boolean {
  if (lower !== undefined) {
    const c = compareValues(v, lower.value)
    if (c === undefined || c < 0 || (c === 0 && lower.open)) return false
  }
  if (upper !== undefined) {
    const c = compareValues(v, upper.value)
    if (c === undefined || c > 0 || (c === 0 && upper.open)) return false
  }
  return true
}

/** The values sorted without repeats: as they are when already so (every validated scope), else a sorted copy. */
function sortedUnique(values: readonly ScalarValue[]): readonly ScalarValue[] {
  for (let i = 1; i < values.length; i++) {
    if (compareScalars(values[i - 1] as ScalarValue, values[i] as ScalarValue) >= 0) return uniqueSorted([...values])
  }
  return values
}

/** The values two sorted, repeat-free lists share, by one merge (values of different types never equal). */
function intersectSorted(a: readonly ScalarValue[], b: readonly ScalarValue[]): ScalarValue[] {
  const out: ScalarValue[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const c = compareScalars(a[i] as ScalarValue, b[j] as ScalarValue)
    if (c === 0) {
      out.push(a[i] as ScalarValue)
      i++
      j++
    } else if (c < 0) i++
    else j++
  }
  return out
}
