/**
 * Local edits the server refused (SPEC.md P7): kept on their records (`rejected`, no longer dirty) until
 * the app decides. `list` finds them (a scan of the records of every table this replica syncs, or of one);
 * `retry` makes one dirty again, as it was (same stamps: the conflict rule judges it as the write it
 * was), to be pushed; `discard` drops it — a record the server never acknowledged is removed, any other
 * is removed and the table's scopes reconcile in full on their next sync, which brings the server's
 * version back (until then the record is absent locally).
 */
import { LastwordError, type WireError } from '@lastword/core'
import type { LocalStore, StoredRecord } from '../store/types.js'

/** One refused local edit. */
export interface RejectedEdit {
  table: string
  uid: string
  /** The server's refusal: its typed code and message. */
  error: WireError
  /** The record as kept locally (the refused edit). */
  record: StoredRecord
}

export interface RejectedEditsDeps {
  store: LocalStore
  /** The records are dirty again: tell live queries and other tabs, and push them. */
  afterRetry(tables: string[], uids: string[]): void
  /** The tables this replica knows (a unit's records may be of a table no scope syncs). */
  tables(): string[]
  /** The record was dropped: tell live queries and other tabs, and sync. */
  afterDiscard(table: string, uid: string): void
}

export interface RejectedEdits {
  list(table?: string): Promise<RejectedEdit[]>
  retry(table: string, uid: string): Promise<void>
  discard(table: string, uid: string): Promise<void>
}

const notRejected = (): LastwordError => new LastwordError('NOT_FOUND', 'No refused local edit with that table and uid')

/** The refused records of unit `unit` in `tables` (kept, not dirty). */
async function refusedOfUnit(tx: Parameters<Parameters<LocalStore['transaction']>[1]>[0], unit: string, tables: readonly string[]): Promise<StoredRecord[]> {
  const out: StoredRecord[] = []
  for (const t of tables) out.push(...(await tx.scanRecords(t, { filter: (r) => r.unit === unit && r.rejected !== undefined && !r.dirty })))
  return out
}

export function createRejectedEdits(deps: RejectedEditsDeps): RejectedEdits {
  const { store } = deps
  /** The refused record, or `NOT_FOUND` (nothing written). */
  const refused = async (tx: Parameters<Parameters<LocalStore['transaction']>[1]>[0], table: string, uid: string): Promise<StoredRecord & { rejected: WireError }> => {
    if (typeof table !== 'string' || typeof uid !== 'string') throw notRejected()
    const record = await tx.getRecord(table, uid)
    if (record?.rejected === undefined || record.dirty) throw notRejected()
    return record as StoredRecord & { rejected: WireError }
  }
  return {
    async list(table) {
      return store.transaction('readonly', async (tx) => {
        // Every table this replica syncs or knows: a record is pushed whatever scopes exist (SPEC.md section 12).
        const tables = table !== undefined ? [table] : [...new Set([...(await tx.listScopes()).map((s) => s.table), ...deps.tables()])].sort()
        const out: RejectedEdit[] = []
        for (const t of tables) {
          for (const record of await tx.scanRecords(t, { filter: (r) => r.rejected !== undefined && !r.dirty })) {
            out.push({ table: t, uid: record.uid, error: record.rejected as WireError, record })
          }
        }
        return out
      })
    },
    async retry(table, uid) {
      const again = await store.transaction('readwrite', async (tx) => {
        const record = await refused(tx, table, uid)
        // U3: a record of a transaction's unit retries the unit — its other refused records with it.
        const unit = record.unit === undefined ? [] : await refusedOfUnit(tx, record.unit, [...new Set([table, ...(await tx.listScopes()).map((s) => s.table), ...deps.tables()])])
        const records = [record, ...unit.filter((r) => r.table !== table || r.uid !== uid)]
        for (const { rejected: _dropped, ...rest } of records) await tx.putRecord({ ...rest, dirty: true })
        return records
      })
      deps.afterRetry([...new Set(again.map((r) => r.table))], again.map((r) => r.uid))
    },
    async discard(table, uid) {
      await store.transaction('readwrite', async (tx) => {
        const record = await refused(tx, table, uid)
        await tx.deleteRecord(table, uid)
        if (!record.acknowledged) return
        // The server's version is not held locally: a full reconciliation of the table's scopes lists
        // what this replica holds, and the server sends the records it lacks (this one among them).
        for (const scope of await tx.listScopes(table)) {
          if (scope.checkpoint !== null || scope.fullCursor !== null) await tx.putScope({ ...scope, checkpoint: null, fullCursor: null })
        }
      })
      deps.afterDiscard(table, uid)
    },
  }
}
