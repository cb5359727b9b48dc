/**
 * Local queries: what `findMany` and live queries return. Matching is core's (`validateWhere`,
 * `matches`), ordering core's `compareValues` (SQL's comparison), so the client and the server agree on
 * what a filter selects.
 */
import {
  LastwordError,
  compareValues,
  getColumn,
  matches,
  scopeKey,
  validateWhere,
  versionOf,
  type RowValues,
  type Scope,
  type TableDescriptor,
  type Where,
  type WhereOps,
  type WhereValue,
} from '@lastword/core'
import type { StoredRecord } from './store/types.js'

/** A sort key: a column, ascending unless `direction: 'desc'`. */
export type OrderBy = string | { column: string; direction?: 'asc' | 'desc' }

/** Options of `findMany` and `subscribe`. */
export interface QueryOptions {
  /** Sort keys, most significant first; ties are broken by uid (UUIDv7: creation order). Nulls sort last. */
  orderBy?: OrderBy | readonly OrderBy[]
  /** At most this many rows. */
  limit?: number
}

/** A row as the app reads it: its columns and its uid. */
export type ReadRow<Row> = Row & { uid: string }

/** A validated query. */
export interface CompiledQuery {
  table: string
  scope: Scope
  /** core's `scopeKey`: equal filters, however written, share one scope. */
  key: string
  /** The filter in wire form (dates as ISO strings). */
  where: Where
  order: { column: string; desc: boolean }[]
  limit: number | undefined
}

/**
 * Validates a filter and query options against a table. Throws `LastwordError` (`UNKNOWN_COLUMN`,
 * `INVALID_WHERE`, `INVALID_VALUE`…) — a filter is never silently widened.
 */
export function compileQuery(table: TableDescriptor, where: Where = {}, options: QueryOptions = {}): CompiledQuery {
  const scope = validateWhere(where, table)
  const keys = options.orderBy === undefined ? [] : Array.isArray(options.orderBy) ? options.orderBy : [options.orderBy as OrderBy]
  const order = keys.map((key: OrderBy) => {
    const spec = typeof key === 'string' ? { column: key, direction: 'asc' as const } : key
    const column = getColumn(table, spec.column)
    if (column.type === 'json') {
      throw new LastwordError('INVALID_WHERE', `Column "${column.name}" holds JSON and cannot be sorted on`, { column: column.name })
    }
    if (spec.direction !== undefined && spec.direction !== 'asc' && spec.direction !== 'desc') {
      throw new LastwordError('INVALID_WHERE', `orderBy direction must be 'asc' or 'desc'`, { column: column.name })
    }
    return { column: column.name, desc: spec.direction === 'desc' }
  })
  const { limit } = options
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new LastwordError('INVALID_WHERE', `limit must be a non-negative integer, got ${String(limit)}`)
  }
  return { table: table.name, scope, key: scopeKey(table.name, scope), where: toWireWhere(where), order, limit }
}

/** Whether a stored record is readable: not a tombstone. */
export function isLive(record: StoredRecord): record is StoredRecord & { row: RowValues } {
  return record.deleted_at === null && record.row !== null
}

/** The rows of `records` a query selects, sorted and limited. */
export function runQuery<Row>(query: CompiledQuery, records: readonly StoredRecord[]): ReadRow<Row>[] {
  const selected = records.filter((r) => isLive(r) && matches(r.row as RowValues, query.scope))
  if (query.order.length > 0) {
    selected.sort((a, b) => {
      for (const { column, desc } of query.order) {
        const c = compareNullsLast((a.row as RowValues)[column], (b.row as RowValues)[column])
        if (c !== 0) return desc ? -c : c
      }
      return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0
    })
  }
  const limited = query.limit === undefined ? selected : selected.slice(0, query.limit)
  return limited.map((r) => toReadRow<Row>(r))
}

/** A stored record as the app reads it (a fresh object). */
export function toReadRow<Row>(record: StoredRecord): ReadRow<Row> {
  return { ...(record.row as RowValues), uid: record.uid } as ReadRow<Row>
}

/** A cheap identity of a result: equal strings mean the callback has nothing new to show. */
export function resultSignature(records: readonly StoredRecord[], rows: readonly { uid: string }[]): string {
  const versions = new Map(records.map((r) => [r.uid, versionOf(r)]))
  return rows.map((r) => `${r.uid}@${versions.get(r.uid) ?? ''}`).join(',')
}

function compareNullsLast(a: unknown, b: unknown): number {
  const aNull = a === null || a === undefined
  const bNull = b === null || b === undefined
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? 1 : -1
  return compareValues(a, b) ?? 0
}

/** A filter in wire form: `Date` values become ISO strings (the server validates the rest again). */
function toWireWhere(where: Where): Where {
  const wire = (value: WhereValue): WhereValue => (value instanceof Date ? value.toISOString() : value)
  const out: Record<string, WhereValue | null | WhereOps> = {}
  for (const [column, spec] of Object.entries(where)) {
    if (spec === null || typeof spec !== 'object' || spec instanceof Date) {
      out[column] = spec === null ? null : wire(spec)
      continue
    }
    const ops: Record<string, unknown> = {}
    for (const [op, value] of Object.entries(spec)) {
      ops[op] = Array.isArray(value) ? value.map((v: WhereValue) => wire(v)) : wire(value as WhereValue)
    }
    out[column] = ops as WhereOps
  }
  return out
}
