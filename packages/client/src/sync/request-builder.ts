/**
 * Builds one `lw:sync` request of a scope, in one read-only transaction: its checkpoint (or the stored
 * full-reconciliation cursor and the next page of metadata entries) and, on a run's first request, the
 * dirty records it pushes — marked as pushes in progress in the same synchronous step as the check.
 */
import { schemaVersionOf, versionOf, type SyncRequest } from '@lastword/core'
import type { StoredRecord } from '../store/types.js'
import type { SyncContext } from './context.js'
import { entryDigest, inScope, toWireRecord } from './records.js'
import type { ScopeEntry } from './scope-registry.js'

/** A request and what it pushed. */
export interface BuiltRequest {
  request: SyncRequest
  /** Pushed records by uid, as they were when sent. */
  pushed: Map<string, StoredRecord>
  /** More dirty records were eligible than one request carries (or were held back until a full reconciliation ends). */
  more: boolean
  /** The table's \`reconcileEpoch\` when the request was built (context.ts). */
  epoch: number
}

/**
 * Builds the next request of `entry`'s run (`first`: the run's first request, the only one that pushes;
 * `pushOnly`: it skips the pull, `pull: false`, when the scope has a checkpoint). The caller releases `pushed` from the pushes in progress once the answer is applied or lost.
 */
export async function buildRequest(ctx: SyncContext, entry: ScopeEntry, first: boolean, pushOnly = false): Promise<BuiltRequest> {
  const { store, settings } = ctx.deps
  const epoch = ctx.state.reconcileEpoch.get(entry.table) ?? 0
  const held = ctx.registry.heldOf(entry.table)
  // Any held scope (or the push-only scope of a table with none) pushes the dirty records no held scope
  // matches (moved out of every scope, or a bare tombstone): without it they would never leave this
  // client. Any, not one chosen: a push lost with one scope's request is retried by that scope's next
  // attempt, whichever scopes are held by then (the pushes in progress keep one version from going twice at once).
  const pushesUncovered = entry.pushOnly || entry.holders.size > 0
  const table = ctx.deps.descriptor(entry.table)
  /** Records this request took (released if the store runs the callback again). */
  let taken: StoredRecord[] = []
  const release = (): void => {
    ctx.pushes.release(taken)
    taken = []
  }
  return store
    .transaction('readonly', async (tx) => {
      release()
      const stored = await tx.getScope(entry.key)
      const checkpoint = stored?.checkpoint ?? null
      const pushed = new Map<string, StoredRecord>()
      let more = false
      let withheld = false
      // Pushed by units (pusher.ts): a scope's requests only pull.
      if (first && settings.pushBy === 'scope') {
        // P8: while the server says this schema version is outdated, the table's writes wait (dirty) for the upgrade.
        const outdated = ctx.state.outdated.get(entry.table)
        const waiting = outdated !== undefined && table !== undefined && schemaVersionOf(table) <= outdated
        const eligible = (await tx.dirtyRecords(entry.table)).filter((r) => {
          if (waiting || ctx.pushes.has(r)) return false
          if (!(inScope(r, entry.scope) || (pushesUncovered && !held.some((e) => inScope(r, e.scope))))) return false
          // Without a checkpoint (full reconciliation) the server may have purged a record it once
          // acknowledged: an edit of it would come back as a create. Such a record waits until the
          // reconciliation has said whether it still exists; offline creates go at once.
          if (checkpoint === null && r.acknowledged) {
            withheld = true
            return false
          }
          return true
        })
        more = eligible.length > settings.maxPushPerRequest
        taken = eligible.slice(0, settings.maxPushPerRequest)
        // Taken in the same synchronous step as the check: a concurrent run of an overlapping scope
        // sees them in progress and leaves them out (no record version is pushed twice at once).
        ctx.pushes.take(taken)
        for (const r of taken) pushed.set(r.uid, r)
      }
      const request: SyncRequest = {
        table: entry.table,
        where: entry.where as Record<string, unknown>,
        checkpoint,
        push: [...pushed.values()].map((r) => toWireRecord(r, table)),
      }
      // The schema version the pushed rows are written under (SPEC.md section 11): columns they leave out keep their stored values.
      if (pushed.size > 0 && table?.schemaVersion !== undefined) request.schemaVersion = table.schemaVersion
      if (checkpoint === null) {
        const cursor = stored?.fullCursor ?? null
        const max = settings.maxEntriesPerRequest
        // The scope's live records, and every tombstone of the table: a tombstone matches no filter (its
        // row is gone), yet the server must hear of it — after a restore it may be the only trace of a
        // delete the restored database lost, newer than the live row it holds (B17).
        const records = await tx.scanRecords(entry.table, { after: cursor?.after ?? null, limit: max + 1, filter: (r) => r.deleted_at !== null || inScope(r, entry.scope) })
        request.full = {
          cursor,
          entries: records
            .slice(0, max)
            .map((r) => {
              const entry: [string, string, boolean, boolean, string | null] = [r.uid, versionOf(r), r.deleted_at !== null, r.acknowledged, r.acknowledged ? (r.knownAt ?? null) : null]
              const digest = entryDigest(r, table)
              return digest === undefined ? entry : ([...entry, digest] as [string, string, boolean, boolean, string | null, string])
            }),
          complete: records.length <= max,
        }
      }
      // Push only (local writes): the server applies the push and keeps the checkpoint; without one the
      // request reconciles as usual.
      else if (pushOnly) request.pull = false
      // Records taken from realtime past the checkpoint: the server must know that point too (B16).
      if (checkpoint !== null && stored?.seen !== undefined) request.seen = stored.seen
      if (entry.holders.size > 0) request.subscription = entry.subscriptionId
      if (settings.pageSize !== undefined) request.pageSize = settings.pageSize
      return { request, pushed, more: more || withheld, epoch }
    })
    .catch((error: unknown) => {
      release()
      throw error
    })
}
