/**
 * Core's replica rules applied to the store, inside the caller's transaction: an incoming server state
 * (A1–A4), a removal by eviction or purge (E1–E4), and the removals remembered while syncs run (E6).
 * The decisions are core's; this module only reads the local record and writes back what core returns.
 */
import { decideEviction, decideIncoming, fieldDigest, matches, rememberRemoval, versionOf, type IncomingDecision, type RecordState, type Scope, type Stamp } from '@lastword/core'
import type { StoreTransaction, StoredRecord } from '../store/types.js'

/** What the replica rules read and write: a store transaction, or a {@link RecordBatch} over one. */
export type RecordAccess = Pick<StoreTransaction, 'getRecord' | 'putRecord' | 'deleteRecord'>

/**
 * The records of one table a page touches, read in one pass (`getRecords`) before anything is decided,
 * and its writes, kept here and issued together by {@link RecordBatch.flush} (`putRecords`,
 * `deleteRecords`) in the same transaction. Reads see the batch's own writes, as a transaction's do.
 */
export interface RecordBatch extends RecordAccess {
  /** Issues the writes (the last state of each record) to the transaction. */
  flush(): Promise<void>
  /** The state of each record read or written, after the batch's writes (`undefined`: not stored). */
  states(): ReadonlyMap<string, StoredRecord | undefined>
}

/** Reads `uids` of `table` in one pass and returns the batch over them (other uids are read one by one). */
export async function loadBatch(tx: StoreTransaction, table: string, uids: Iterable<string>): Promise<RecordBatch> {
  const wanted = [...new Set(uids)]
  const read = wanted.length === 0 ? [] : await tx.getRecords(table, wanted)
  const known = new Map<string, StoredRecord | undefined>()
  wanted.forEach((uid, i) => known.set(uid, read[i]))
  /** Writes by uid, `null` for a deletion; a record written twice keeps its last state. */
  const writes = new Map<string, StoredRecord | null>()
  const own = (t: string): void => {
    if (t !== table) throw new Error(`A record batch of "${table}" was given a record of "${t}"`)
  }
  return {
    async getRecord(t, uid) {
      own(t)
      if (!known.has(uid)) known.set(uid, await tx.getRecord(table, uid))
      const record = known.get(uid)
      return record === undefined ? undefined : { ...record }
    },
    async putRecord(record) {
      own(record.table)
      known.set(record.uid, record)
      writes.set(record.uid, record)
    },
    async deleteRecord(t, uid) {
      own(t)
      known.set(uid, undefined)
      writes.set(uid, null)
    },
    async flush() {
      const puts: StoredRecord[] = []
      const deletes: string[] = []
      for (const [uid, record] of writes) {
        if (record === null) deletes.push(uid)
        else puts.push(record)
      }
      writes.clear()
      if (deletes.length > 0) await tx.deleteRecords(table, deletes)
      if (puts.length > 0) await tx.putRecords(puts)
    },
    states: () => known,
  }
}

/**
 * Records removed (evicted, purged) while syncs run, by table and uid: the version each was removed at.
 * A page or event that read the server earlier must not bring back an older state (SPEC.md E6).
 */
export interface RemovalMemory {
  /** The version the record was removed at during the running syncs (or kept dirty against, E1), if it was. */
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
  tx: RecordAccess,
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
export async function removeErased(tx: RecordAccess, table: string, uid: string, removals: RemovalMemory): Promise<boolean> {
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
 * remembered for E6, and so is an eviction E1 kept against a dirty copy (P10). Returns whether the record
 * was removed.
 */
export async function removeUnlessHeld(
  tx: RecordAccess,
  table: string,
  uid: string,
  evictedAt: Stamp | null,
  otherScopes: () => Promise<readonly Scope[]>,
  removals: RemovalMemory,
  evictedDigest?: string,
): Promise<boolean> {
  const local = await tx.getRecord(table, uid)
  if (local === undefined) return false
  // A field-merge copy's digest: its version alone does not name its state (E4).
  const digest = local.fields !== undefined && local.deleted_at === null ? fieldDigest(local.fields) : undefined
  const decision = decideEviction({ version: versionOf(local), deleted: local.deleted_at !== null, dirty: local.dirty, acknowledged: local.acknowledged, ...(digest === undefined ? {} : { digest }) }, evictedAt, evictedDigest)
  if (decision === 'keep') {
    // E1 kept a dirty copy: its push may have been applied before the eviction's version was written,
    // and its answer come after this page; remembered, so that answer removes the copy (P10, B29).
    if (local.dirty && evictedAt !== null) removals.remember(table, uid, evictedAt, local)
    return false
  }
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
