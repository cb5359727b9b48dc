/**
 * Applies one sync page in ONE store transaction with its checkpoint (or full-reconciliation cursor), so
 * an interrupted sync resumes from what it stored (invariant I10). Rows and tombstones (A1–A4),
 * evictions and purges (E1–E4, E6) are decided by core; this module reads and writes: every record the
 * page names is read in one pass, decided in memory, and written together. A scope's requests push
 * nothing (pusher.ts), so a page's `outcomes` name no record of this client's and are not read.
 */
import { assertStamp, type SyncPage, type SyncRequest } from '@lastword/core'
import type { StoredRecord, StoredScope } from '../store/types.js'
import type { SyncContext } from './context.js'
import { greatestVersion, readRecords } from './records.js'
import { applyIncoming, lazily, loadBatch, removeErased, removeUnlessHeld } from './replica-store.js'
import type { ScopeEntry } from './scope-registry.js'

/** What one page did, for the run's report. */
export interface PageResult {
  evicted: string[]
  purged: string[]
  /** Every record the page named, as stored once it was applied (`undefined`: not stored): live queries patch from these. */
  states: ReadonlyMap<string, StoredRecord | undefined>
}

/** Applies `page`, the answer to `request`, for `entry`. */
export async function applyPage(ctx: SyncContext, entry: ScopeEntry, request: SyncRequest, page: SyncPage, epoch = ctx.state.reconcileEpoch.get(entry.table) ?? 0): Promise<PageResult> {
  const { store, clock } = ctx.deps
  const { table } = entry
  // Everything that is not a store request happens before the transaction opens (it would commit).
  const incoming = readRecords(page.columns, page.rows as unknown[][], page.tombstones)
  const top = greatestVersion(incoming)
  if (top !== null) clock.receive(top)
  const finished = !page.hasMore && page.mode !== 'resync'

  const named = [...incoming.map((r) => r.uid), ...page.evict.map(([uid]) => uid), ...page.purged, ...page.erased, ...page.push]

  return store.transaction('readwrite', async (tx) => {
    // Built afresh on each attempt: the store may run this again on a reopened connection.
    const batch = await loadBatch(tx, table, named)
    const result: PageResult = { evicted: [], purged: [], states: batch.states() }
    for (const record of incoming) await applyIncoming(batch, table, record, ctx.removals, page.knownAt)
    // Erased on request: gone for good, dirty or not (reported with the purged).
    for (const uid of page.erased) if (await removeErased(batch, table, uid, ctx.removals)) result.purged.push(uid)
    const others = lazily(() => ctx.registry.otherScopes(tx, table, entry.key))
    for (const [uid, version, digest] of page.evict) {
      if (await removeUnlessHeld(batch, table, uid, assertStamp(version), others, ctx.removals, digest)) result.evicted.push(uid)
    }
    for (const uid of page.purged) if (await removeUnlessHeld(batch, table, uid, null, others, ctx.removals)) result.purged.push(uid)
    // Records the server asks for (a full reconciliation's plan): dirty again, the pusher sends them.
    for (const uid of page.push) {
      const local = await batch.getRecord(table, uid)
      // A record the server refused is the app's to retry or discard (P7; a record of a refused unit
      // pushed alone would land half the unit, U1): a reconciliation that lacks it does not push it (B26).
      if (local !== undefined && !local.dirty && local.rejected === undefined) await batch.putRecord({ ...local, dirty: true })
    }
    // The page's records, the scope's checkpoint and the clock: one transaction (I10).
    await batch.flush()
    const scope: StoredScope = (await tx.getScope(entry.key)) ?? { key: entry.key, table, where: entry.where, checkpoint: null, fullCursor: null, syncedAt: null }
    // What realtime (or an `lw:push` answer, push-apply.ts) brought past the checkpoint: settled once a
    // pull that sent it was answered (the server found it in its history; the new checkpoint is past it),
    // or by a full reconciliation (its entries carry each record's point); not by a pull that sent an older one.
    const settled = page.mode !== 'incremental' || (page.checkpoint !== null && scope.seen === request.seen)
    if (scope.seen !== undefined && settled) delete scope.seen
    // Set to reconcile in full while this page was awaited (P9 dropped a child, push-apply.ts; a refused
    // edit discarded): it stays so, and the next run (requested by whoever reset it) reconciles. A first
    // page of a full reconciliation shows no reset in the scope: the table's epoch tells it (B25: its
    // entries listed the dropped child, so the server sent nothing of it back).
    const epochMoved = (ctx.state.reconcileEpoch.get(table) ?? 0) !== epoch
    const reset = epochMoved || ((request.checkpoint !== null || (request.full?.cursor ?? null) !== null) && scope.checkpoint === null && scope.fullCursor === null)
    if (page.mode === 'resync' || reset) {
      scope.checkpoint = null
      scope.fullCursor = null
    } else if (page.checkpoint !== null) {
      scope.checkpoint = page.checkpoint
      scope.fullCursor = null
    } else {
      scope.fullCursor = page.cursor
    }
    if (finished) scope.syncedAt = clock.now()
    await tx.putScope(scope)
    await clock.persist(tx)
    return result
  })
}
