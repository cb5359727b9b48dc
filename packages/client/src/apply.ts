/**
 * How data from the server lands in the local store. Every decision is core's: `isNewer` decides
 * whether an incoming state replaces the local one, so a local write newer than what arrives stays (and
 * stays dirty: trap 5), and an older state never overwrites a newer one (I6).
 */
import {
  LastwordError,
  assertMetaOrder,
  assertSafeKey,
  assertStamp,
  assertUid,
  compareStamps,
  decideEviction,
  isNewer,
  matches,
  versionOf,
  type RecordState,
  type RowValues,
  type Scope,
  type Stamp,
  type TableDescriptor,
  type WireRecord,
} from '@lastword/core'
import type { StoreTransaction, StoredRecord } from './store/types.js'

/**
 * Reads the rows (`[uid, created_at, updated_at, ...values]`) and tombstones of a page or realtime
 * event into record states, checking uids, stamps and column names. Throws `BAD_REQUEST`/`INVALID_*`:
 * a malformed page is refused whole, before anything is stored.
 */
export function readRecords(columns: readonly string[], rows: readonly unknown[][], tombstones: readonly (readonly string[])[]): RecordState[] {
  for (const column of columns) assertSafeKey(column, 'page columns')
  const out: RecordState[] = []
  for (const values of rows) {
    if (values.length !== columns.length + 3) {
      throw new LastwordError('BAD_REQUEST', `A row has ${values.length} values; ${columns.length + 3} expected (uid, two stamps, the columns)`)
    }
    const [uid, created, updated] = values
    const meta = { uid: assertUid(uid), created_at: assertStamp(created), updated_at: assertStamp(updated), deleted_at: null }
    assertMetaOrder(meta)
    const row: RowValues = {}
    columns.forEach((column, i) => {
      row[column] = values[i + 3] ?? null
    })
    out.push({ ...meta, row })
  }
  for (const [uid, created, updated, deleted] of tombstones) {
    const meta = { uid: assertUid(uid), created_at: assertStamp(created), updated_at: assertStamp(updated), deleted_at: assertStamp(deleted) }
    assertMetaOrder(meta)
    out.push({ ...meta, row: null })
  }
  return out
}

/** A wire record (a push winner) as a record state. */
export function fromWireRecord(record: WireRecord): RecordState {
  const meta = {
    uid: assertUid(record.uid),
    created_at: assertStamp(record.created_at),
    updated_at: assertStamp(record.updated_at),
    deleted_at: record.deleted_at === null ? null : assertStamp(record.deleted_at),
  }
  assertMetaOrder(meta)
  if (record.row !== null) for (const key of Object.keys(record.row)) assertSafeKey(key, 'winner row')
  return { ...meta, row: meta.deleted_at === null ? record.row : null }
}

/** The greatest version among record states, to advance the clock past once. */
export function latestVersion(records: readonly RecordState[]): Stamp | null {
  let top: Stamp | null = null
  for (const r of records) {
    const v = versionOf(r)
    if (top === null || compareStamps(v, top) > 0) top = v
  }
  return top
}

/** What applying one incoming state did. */
export type ApplyResult = 'applied' | 'same' | 'kept'

/**
 * Applies a server state if it is newer than the local one (core's rule). The same version is the same
 * write seen twice: the server has it, so the local copy is acknowledged and no longer dirty.
 */
export async function applyIncoming(tx: StoreTransaction, table: string, incoming: RecordState, removed?: ReadonlyMap<string, Stamp>): Promise<ApplyResult> {
  const local = await tx.getRecord(table, incoming.uid)
  // A record this client removed (evicted, purged) at a newer version: an older state is stale news
  // from a pull or event that read the server before that version (SPEC.md E6); the scope it came with
  // pulls past it next time.
  const gone = local === undefined ? removed?.get(incoming.uid) : undefined
  if (gone !== undefined && compareStamps(versionOf(incoming), gone) < 0) return 'kept'
  if (isNewer(incoming, local)) {
    await tx.putRecord({
      table,
      uid: incoming.uid,
      row: incoming.deleted_at === null ? incoming.row : null,
      created_at: incoming.created_at,
      updated_at: incoming.updated_at,
      deleted_at: incoming.deleted_at,
      dirty: false,
      acknowledged: true,
    })
    return 'applied'
  }
  if (local !== undefined && versionOf(local) === versionOf(incoming)) {
    if (local.dirty || !local.acknowledged) await tx.putRecord({ ...local, dirty: false, acknowledged: true })
    return 'same'
  }
  return 'kept'
}

/**
 * Removes a record the server says left a scope (`evict`, with the version it found outside the scope)
 * or no longer exists (`purged`, `version` null), as core's `decideEviction` rules (SPEC.md E1–E4): a
 * dirty copy stays (it is pushed and the server decides) unless purged; a stale copy goes; a newer one
 * stays (the eviction is late); the same version stays only if another scope this client keeps
 * (`otherScopes`) matches its row. Returns the record removed, if it was.
 */
export async function removeUnlessHeld(
  tx: StoreTransaction,
  table: string,
  uid: string,
  version: Stamp | null,
  otherScopes: () => Promise<readonly Scope[]>,
): Promise<StoredRecord | null> {
  const local = await tx.getRecord(table, uid)
  const held =
    local === undefined
      ? undefined
      : { version: versionOf(local), deleted: local.deleted_at !== null, dirty: local.dirty, acknowledged: local.acknowledged }
  const decision = decideEviction(held, version)
  if (decision === 'keep' || local === undefined) return null
  if (decision === 'other-scopes') {
    const row = local.row
    if (row !== null && local.deleted_at === null && (await otherScopes()).some((scope) => matches(row, scope))) return null
  }
  await tx.deleteRecord(table, uid)
  return local
}

/**
 * Re-stamps a dirty record after a drift refusal: its version becomes a fresh stamp from `next`, and no
 * earlier stamp may stay above it (`created_at <= updated_at`, and a tombstone's `deleted_at` strictly
 * after `updated_at` — so a tombstone whose update stamp would be clipped takes two fresh stamps).
 */
export function restamp(record: StoredRecord, next: () => Stamp): StoredRecord {
  const stamp = next()
  const atMost = (s: Stamp): Stamp => (compareStamps(s, stamp) > 0 ? stamp : s)
  if (record.deleted_at !== null) {
    if (compareStamps(record.updated_at, stamp) < 0) return { ...record, created_at: atMost(record.created_at), deleted_at: stamp }
    const deleted = next()
    return { ...record, created_at: atMost(record.created_at), updated_at: stamp, deleted_at: deleted }
  }
  return { ...record, created_at: atMost(record.created_at), updated_at: stamp }
}

/**
 * A dirty record as it is pushed: stamps and the full row of writable columns (server-owned columns are
 * the server's), or `null` for a delete.
 */
export function toWireRecord(record: StoredRecord, table: TableDescriptor | undefined): WireRecord {
  let row: Record<string, unknown> | null = null
  if (record.deleted_at === null && record.row !== null) {
    row = {}
    const columns = table === undefined ? Object.keys(record.row) : table.columns.filter((c) => c.writable).map((c) => c.name)
    for (const name of columns) row[name] = record.row[name] ?? null
  }
  const wire: WireRecord = { uid: record.uid, created_at: record.created_at, updated_at: record.updated_at, deleted_at: record.deleted_at, row }
  // R10: the server, not knowing an acknowledged uid any more, refuses the write (PURGED) instead of creating it.
  if (record.acknowledged) wire.acknowledged = true
  return wire
}

/** Whether a record belongs to a scope locally: its row (for a tombstone, its last image) matches. */
export function inScope(record: StoredRecord, scope: Scope): boolean {
  return record.row !== null && matches(record.row, scope)
}
