/**
 * Core's replica rules applied to the store, inside the caller's transaction: an incoming server state
 * (A1–A4), a removal by eviction or purge (E1–E4), and the removals remembered while syncs run (E6).
 * The decisions are core's; this module only reads the local record and writes back what core returns.
 */
import { decideEviction, decideIncoming, matches, rememberRemoval, versionOf, type IncomingDecision, type RecordState, type Scope, type Stamp } from '@lastword/core'
import type { StoreTransaction, StoredRecord } from '../store/types.js'

/**
 * Records removed (evicted, purged) while syncs run, by table and uid: the version each was removed at.
 * A page or event that read the server earlier must not bring back an older state (SPEC.md E6).
 */
export interface RemovalMemory {
  /** The version the record was removed at during the running syncs, if it was. */
  removedAt(table: string, uid: string): Stamp | undefined
  /** Remembers a removal: at the eviction's version, or the removed copy's own for a purge (`null`). */
  remember(table: string, uid: string, evictedAt: Stamp | null, removed: StoredRecord): void
  /** Forgets every removal: called when no sync runs, since every answer read before one has arrived. */
  clear(): void
}

/** Creates an empty removal memory. */
export function createRemovalMemory(): RemovalMemory {
  const byTable = new Map<string, Map<string, Stamp>>()
  return {
    removedAt: (table, uid) => byTable.get(table)?.get(uid),
    remember(table, uid, evictedAt, removed) {
      let map = byTable.get(table)
      if (map === undefined) byTable.set(table, (map = new Map()))
      map.set(uid, rememberRemoval(map.get(uid), evictedAt, removed))
    },
    clear: () => byTable.clear(),
  }
}

/**
 * Applies a server state to the local record as core's `decideIncoming` says (a write made during a sync
 * survives: trap 5). `knownAt`: the point of the server's history the state was read at (R12).
 */
export async function applyIncoming(
  tx: StoreTransaction,
  table: string,
  incoming: RecordState,
  removals: RemovalMemory,
  knownAt: string | null | undefined,
): Promise<IncomingDecision<StoredRecord>['kind']> {
  const local = await tx.getRecord(table, incoming.uid)
  const decision = decideIncoming(local, incoming, removals.removedAt(table, incoming.uid))
  if (decision.write !== null) await tx.putRecord(withKnownAt({ ...decision.write, table }, knownAt, local))
  return decision.kind
}

/**
 * An acknowledged record as it is stored: with the point of the server's history the page or event that
 * acknowledged it was read at, or the one it had (SPEC.md R12: the evidence of a purge).
 */
export function withKnownAt(record: StoredRecord, knownAt: string | null | undefined, local: StoredRecord | undefined): StoredRecord {
  const at = knownAt ?? local?.knownAt
  return record.acknowledged && at !== undefined ? { ...record, knownAt: at } : record
}

/** Removes a record erased on request, dirty or not; remembered for E6. Returns whether one was held. */
export async function removeErased(tx: StoreTransaction, table: string, uid: string, removals: RemovalMemory): Promise<boolean> {
  const local = await tx.getRecord(table, uid)
  if (local === undefined) return false
  await tx.deleteRecord(table, uid)
  removals.remember(table, uid, null, local)
  return true
}

/**
 * Removes a record the server says left a scope (`evictedAt`, the version it found outside the scope) or
 * no longer exists (`null`: purged), as core's `decideEviction` rules (E1–E4); for E4 the record stays if
 * another scope this client keeps (`otherScopes`, computed on first use) matches its row. A removal is
 * remembered for E6. Returns whether the record was removed.
 */
export async function removeUnlessHeld(
  tx: StoreTransaction,
  table: string,
  uid: string,
  evictedAt: Stamp | null,
  otherScopes: () => Promise<readonly Scope[]>,
  removals: RemovalMemory,
): Promise<boolean> {
  const local = await tx.getRecord(table, uid)
  if (local === undefined) return false
  const decision = decideEviction({ version: versionOf(local), deleted: local.deleted_at !== null, dirty: local.dirty, acknowledged: local.acknowledged }, evictedAt)
  if (decision === 'keep') return false
  if (decision === 'other-scopes') {
    const row = local.row
    if (row !== null && local.deleted_at === null && (await otherScopes()).some((scope) => matches(row, scope))) return false
  }
  await tx.deleteRecord(table, uid)
  removals.remember(table, uid, evictedAt, local)
  return true
}

/** A computation run once, on first use (the other scopes of a table are only needed for E4). */
export function lazily<T>(compute: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null
  return () => (value ??= compute())
}
