/**
 * Builds one `lw:sync` request of a scope, in one read-only transaction: its checkpoint, or the stored
 * full-reconciliation cursor and the next page of metadata entries. A scope's requests only pull: dirty
 * records go through `lw:push` (pusher.ts), so `push` is always empty.
 */
import { versionOf, type SyncRequest } from '@lastword/core'
import type { SyncContext } from './context.js'
import { entryDigest, inScope } from './records.js'
import type { ScopeEntry } from './scope-registry.js'

/** Builds the next request of `entry`'s run. */
export async function buildRequest(ctx: SyncContext, entry: ScopeEntry): Promise<SyncRequest> {
  const { store, settings } = ctx.deps
  const table = ctx.deps.descriptor(entry.table)
  return store.transaction('readonly', async (tx) => {
    const stored = await tx.getScope(entry.key)
    const checkpoint = stored?.checkpoint ?? null
    const request: SyncRequest = { table: entry.table, where: entry.where as Record<string, unknown>, checkpoint, push: [] }
    if (checkpoint === null) {
      const cursor = stored?.fullCursor ?? null
      const max = settings.maxEntriesPerRequest
      // The scope's live records, and every tombstone of the table: a tombstone matches no filter (its
      // row is gone), yet the server must hear of it — after a restore it may be the only trace of a
      // delete the restored database lost, newer than the live row it holds (B17).
      const records = await tx.scanRecords(entry.table, { after: cursor?.after ?? null, limit: max + 1, filter: (r) => r.deleted_at !== null || inScope(r, entry.scope) })
      request.full = {
        cursor,
        entries: records.slice(0, max).map((r) => {
          const entry: [string, string, boolean, boolean, string | null] = [r.uid, versionOf(r), r.deleted_at !== null, r.acknowledged, r.acknowledged ? (r.knownAt ?? null) : null]
          const digest = entryDigest(r, table)
          return digest === undefined ? entry : ([...entry, digest] as [string, string, boolean, boolean, string | null, string])
        }),
        complete: records.length <= max,
      }
    }
    // Records taken from realtime past the checkpoint: the server must know that point too (B16).
    if (checkpoint !== null && stored?.seen !== undefined) request.seen = stored.seen
    if (entry.holders.size > 0) request.subscription = entry.subscriptionId
    if (settings.pageSize !== undefined) request.pageSize = settings.pageSize
    return request
  })
}
