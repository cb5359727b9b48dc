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
  fieldDigest,
  keyOf,
  type RowValues,
  type Scope,
  type Stamp,
  type TableDescriptor,
  type TypedOrderBy,
  type UntypedRow,
  type Where,
  type WhereOps,
  type WhereValue,
} from '@lastword/core'
import type { StoredRecord } from './store/types.js'

/** A sort key: a column (of `Row`'s filterable columns when typed), ascending unless `direction: 'desc'`. */
export type OrderBy<Row = UntypedRow, Key extends string = 'uid'> = TypedOrderBy<Row, Key>

/** Options of `findMany` and `subscribe`. */
export interface QueryOptions<Row = UntypedRow, Key extends string = 'uid'> {
  /** Sort keys (not the table's key), most significant first; ties are broken by uid (UUIDv7: creation order). Nulls sort last. */
  orderBy?: OrderBy<Row, Key> | readonly OrderBy<Row, Key>[]
  /** At most this many rows. */
  limit?: number
}

/** A row as the app reads it: its columns (timestamps as ISO strings) and its uid (core's type). */
export type { ReadRow } from '@lastword/core'
import type { ReadRow } from '@lastword/core'

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
  /** The name rows carry the uid under: the table's key (core's `keyOf`: `uid`, or the app's primary key). */
  rowKey: string
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
  return { table: table.name, scope, key: scopeKey(table.name, scope), where: toWireWhere(where), order, limit, rowKey: keyOf(table) }
}

/** Whether a stored record is readable: not a tombstone. */
export function isLive(record: StoredRecord): record is StoredRecord & { row: RowValues } {
  return record.deleted_at === null && record.row !== null
}

/** Whether a stored record is in a query's result (before the limit): live, and matched by core's `matches`. */
export function isSelected(query: CompiledQuery, record: StoredRecord): boolean {
  return isLive(record) && matches(record.row as RowValues, query.scope)
}

/** The rows of `records` a query selects, sorted and limited. */
export function runQuery<Row>(query: CompiledQuery, records: readonly StoredRecord[]): ReadRow<Row>[] {
  const selected = records.filter((r) => isSelected(query, r))
  // Without `orderBy` the order is the stores' scan order: uid order.
  if (query.order.length > 0) selected.sort(compareByOrder(query.order))
  const limited = query.limit === undefined ? selected : selected.slice(0, query.limit)
  return limited.map((r) => toReadRow<Row>(r, query.rowKey))
}

/** A stored record as the app reads it (a fresh object), its uid under `key` (the table's key). */
export function toReadRow<Row>(record: StoredRecord, key: string): ReadRow<Row> {
  return readRow<Row>(record.row as RowValues, record.uid, key)
}

/**
 * `{ ...row, [key]: uid }`, by `Object.assign`: V8 spreads the dictionary-mode objects that structured
 * clone (IndexedDB, the memory store) yields about ten times slower, which dominated a large live
 * result. Column names and the key are safe keys (core's `assertSafeKey`, `assertTableDescriptor`), so
 * assigning and defining agree.
 */
function readRow<Row>(row: RowValues, uid: string, key: string): ReadRow<Row> {
  const out = Object.assign({}, row) as Record<string, unknown>
  out[key] = uid
  return out as ReadRow<Row>
}

/** What applying changes did to a live result's rows. `reread`: it cannot tell without a full read. */
export type LivePatch = 'unchanged' | 'changed' | 'reread'

/**
 * The result of a live query, kept between changes so that a change costs what changed, not a read of
 * the table. It holds the selected records in query order: all of them, or with a `limit`
 * the first `limit` plus some slack, so that a few leaving the result do not force a re-read. Its
 * rows are always those {@link runQuery} returns over the same state of the table.
 */
export interface LiveResult {
  /** Fills the result from a read of the whole table (or of at least every selected record). */
  reset(records: readonly StoredRecord[]): void
  /**
   * Applies the current state of changed records (`undefined`: no longer stored). Only valid after a
   * {@link LiveResult.reset}; returns `reread` (and stops applying) when the limit needs records it does
   * not hold.
   */
  patch(changes: readonly { uid: string; record: StoredRecord | undefined }[]): LivePatch
  /** Whether the rows differ from those last returned by {@link LiveResult.take} (always, before the first). */
  differs(): boolean
  /** The rows (fresh objects), remembered as the ones shown. */
  take<Row>(): ReadRow<Row>[]
}

/** Changes beyond which a live result is patched in one merge rather than record by record. */
const BULK_PATCH = 32

/** Records kept beyond a live query's limit, at most: a limit of 10 keeps 20, of 1,000 keeps 1,100. */
const LIVE_SLACK = 100

interface LiveEntry {
  uid: string
  /** What identifies the row's content: its version (and on a field-merge table its column stamps' digest). */
  version: string
  row: RowValues
}

/**
 * A record's content revision: its version — the same version is the same row — and, on a field-merge
 * table, the digest of its column stamps, since a column written older than the version changes the row
 * without changing the version (core's SPEC.md section 3a, F3).
 */
function revisionOf(record: StoredRecord): string {
  return record.fields === undefined ? versionOf(record) : `${versionOf(record)}.${fieldDigest(record.fields)}`
}

/** Creates the {@link LiveResult} of a query, empty until its first `reset`. */
export function createLiveResult(query: CompiledQuery): LiveResult {
  const { limit } = query
  const capacity = limit === undefined ? Infinity : limit + Math.min(limit, LIVE_SLACK)
  const compare = compareByOrder(query.order)
  let entries: LiveEntry[] = []
  const byUid = new Map<string, LiveEntry>()
  /** Selected records exist beyond `entries` (only with a limit): `entries` are the first of them. */
  let truncated = false
  /** The entries of the rows last taken, or `null` before the first. */
  let shown: LiveEntry[] | null = null

  const toEntry = (record: StoredRecord): LiveEntry => ({ uid: record.uid, version: revisionOf(record), row: record.row as RowValues })
  const visible = (): number => (limit === undefined ? entries.length : Math.min(limit, entries.length))
  /** The index of the first entry not before `entry` (the order is total: uids break ties). */
  const locate = (entry: LiveEntry): number => {
    let lo = 0
    let hi = entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compare(entries[mid] as LiveEntry, entry) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Many changes at once (a sync page): the entries that left or moved are dropped in one pass and the
   * new ones merged in sorted, so a page costs the result's size once rather than once per record.
   */
  const bulkPatch = (changes: readonly { uid: string; record: StoredRecord | undefined }[]): LivePatch => {
    const gone = new Set<string>()
    const added = new Map<string, LiveEntry>()
    for (const { uid, record } of changes) {
      const now = record !== undefined && isSelected(query, record) ? record : undefined
      const old = byUid.get(uid)
      added.delete(uid)
      // The same version is the same row: a change of metadata only (an acknowledgement).
      if (old !== undefined && now !== undefined && old.version === revisionOf(now)) {
        gone.delete(uid)
        continue
      }
      if (old !== undefined) gone.add(uid)
      if (now !== undefined) added.set(uid, toEntry(now))
    }
    if (gone.size === 0 && added.size === 0) return 'unchanged'
    const kept = gone.size === 0 ? entries : entries.filter((entry) => !gone.has(entry.uid))
    for (const uid of gone) byUid.delete(uid)
    const incoming = [...added.values()].sort(compare)
    const last = kept[kept.length - 1]
    const merged: LiveEntry[] = []
    let i = 0
    for (const entry of incoming) {
      // After the last record held, with more selected beyond it: its place is unknown, and not held.
      if (truncated && (last === undefined || compare(entry, last) > 0)) break
      while (i < kept.length && compare(kept[i] as LiveEntry, entry) < 0) merged.push(kept[i++] as LiveEntry)
      merged.push(entry)
      byUid.set(entry.uid, entry)
    }
    while (i < kept.length) merged.push(kept[i++] as LiveEntry)
    if (merged.length > capacity) {
      for (const entry of merged.splice(capacity)) byUid.delete(entry.uid)
      truncated = true
    }
    entries = merged
    // The limit reaches past what is held, and more records are selected: only a read can tell which.
    if (truncated && limit !== undefined && entries.length < limit) return 'reread'
    return 'changed'
  }

  return {
    reset(records) {
      const selected = records.filter((r) => isSelected(query, r)).map(toEntry)
      selected.sort(compare)
      truncated = selected.length > capacity
      entries = truncated ? selected.slice(0, capacity) : selected
      byUid.clear()
      for (const entry of entries) byUid.set(entry.uid, entry)
    },
    patch(changes) {
      if (changes.length > BULK_PATCH) return bulkPatch(changes)
      let touched = false
      for (const { uid, record } of changes) {
        const old = byUid.get(uid)
        const now = record !== undefined && isSelected(query, record) ? record : undefined
        // The same version is the same row: a change of metadata only (an acknowledgement).
        if (old !== undefined && now !== undefined && old.version === revisionOf(now)) continue
        if (old !== undefined) {
          const at = locate(old)
          entries.splice(at, 1)
          byUid.delete(uid)
          if (limit === undefined || at < limit) touched = true
        }
        if (now === undefined) continue
        const entry = toEntry(now)
        const at = locate(entry)
        // After the last record held, with more selected beyond it: its place is unknown, and not shown.
        if (truncated && at >= entries.length) continue
        entries.splice(at, 0, entry)
        byUid.set(uid, entry)
        if (limit === undefined || at < limit) touched = true
        if (entries.length > capacity) {
          byUid.delete((entries.pop() as LiveEntry).uid)
          truncated = true
        }
      }
      // The limit reaches past what is held, and more records are selected: only a read can tell which.
      if (truncated && limit !== undefined && entries.length < limit) return 'reread'
      return touched ? 'changed' : 'unchanged'
    },
    differs() {
      const n = visible()
      if (shown === null || shown.length !== n) return true
      for (let i = 0; i < n; i++) {
        const a = entries[i] as LiveEntry
        const b = shown[i] as LiveEntry
        if (a !== b && (a.uid !== b.uid || a.version !== b.version)) return true
      }
      return false
    },
    take<Row>() {
      const n = visible()
      shown = entries.slice(0, n)
      return shown.map((entry) => readRow<Row>(entry.row, entry.uid, query.rowKey))
    },
  }
}

/** Query order over rows: the sort keys (nulls last), then uid. */
function compareByOrder(order: CompiledQuery['order']): (a: { uid: string; row: RowValues | null }, b: { uid: string; row: RowValues | null }) => number {
  return (a, b) => {
    for (const { column, desc } of order) {
      const c = compareNullsLast((a.row as RowValues)[column], (b.row as RowValues)[column])
      if (c !== 0) return desc ? -c : c
    }
    return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0
  }
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
