/**
 * Whether this replica ever completed a sync, and when it last did (`hasSynced`, `lastSyncedAt`, the
 * `synced` event). Persisted without a record of its own: every stored scope keeps `syncedAt`, set in
 * the transaction that stores a sync's last page (page-apply.ts), so a reload takes the greatest.
 */
import type { LocalStore } from '../store/types.js'

/** The `synced` event and the client's sync state. */
export interface SyncedState {
  /** Whether a sync of any scope ever completed for this local database (any tab, any session). */
  hasSynced: boolean
  /** When one last completed (the client's server-corrected clock, ms), or `null`: never. */
  lastSyncedAt: number | null
}

export interface SyncStatus {
  readonly state: SyncedState
  /** Reads the stored scopes' `syncedAt` (on start). */
  restore(store: LocalStore): Promise<void>
  /** A sync completed (this tab's, or another tab's report): reads what it stored, then tells. */
  noteSynced(store: LocalStore): Promise<void>
  /** The local database was lost: nothing of it was synced any more (until the next sync completes). */
  reset(): void
}

export function createSyncStatus(onChange: (state: SyncedState) => void): SyncStatus {
  let lastSyncedAt: number | null = null
  async function restore(store: LocalStore): Promise<void> {
    const scopes = await store.transaction('readonly', (tx) => tx.listScopes())
    for (const scope of scopes) {
      if (scope.syncedAt !== null && (lastSyncedAt === null || scope.syncedAt > lastSyncedAt)) lastSyncedAt = scope.syncedAt
    }
  }
  const state = (): SyncedState => ({ hasSynced: lastSyncedAt !== null, lastSyncedAt })
  return {
    get state() {
      return state()
    },
    restore,
    async noteSynced(store) {
      try {
        await restore(store)
      } catch {
        return // closed meanwhile: nothing to tell
      }
      if (lastSyncedAt !== null) onChange(state())
    },
    reset() {
      lastSyncedAt = null
    },
  }
}
