/**
 * Storage the browser keeps: whether the replica's storage is persistent (`navigator.storage.persist()`,
 * asked once the store is open; without it the browser may evict the origin's data under storage
 * pressure), and whether the replica was lost while the client ran (the IndexedDB database deleted,
 * evicted or replaced: store/replica-marker.ts). Both are in `client.storage` and the `storage` event.
 */

/**
 * `pending`: not asked yet; `persisted`: the browser will not evict it without the user; `best-effort`:
 * refused (the browser may evict it under storage pressure); `unavailable`: no StorageManager here, asking
 * turned off (`persistStorage: false`), or a store that is not IndexedDB.
 */
export type StoragePersistence = 'pending' | 'persisted' | 'best-effort' | 'unavailable'

/** `client.storage`. */
export interface StorageState {
  persistence: StoragePersistence
  /** When the replica was last found lost under the running client (its clock, ms), or `null`: never. */
  lostAt: number | null
}

/** The `storage` event. */
export type StorageEvent =
  | { kind: 'persistence'; persistence: StoragePersistence }
  /**
   * The local database was deleted, evicted or replaced while the client ran: what it held is gone
   * (writes not yet pushed included); the client resyncs every scope from scratch on the new one.
   */
  | { kind: 'lost'; at: number }

/** What the client uses of `navigator.storage` (tests pass their own). */
export interface StorageManagerLike {
  persist?(): Promise<boolean>
  persisted?(): Promise<boolean>
}

export interface StorageStatus {
  readonly state: StorageState
  /**
   * Asks for persistent storage (once): `persisted()` first, then `persist()`. `undefined`: the
   * environment's StorageManager; `null`: none (`unavailable`). Never throws.
   */
  requestPersistence(manager: StorageManagerLike | null | undefined): Promise<void>
  /** The replica was found lost at `at`. */
  noteLost(at: number): void
}

export function createStorageStatus(emit: (event: StorageEvent) => void): StorageStatus {
  const state: StorageState = { persistence: 'pending', lostAt: null }
  const settle = (persistence: StoragePersistence): void => {
    state.persistence = persistence
    emit({ kind: 'persistence', persistence })
  }
  return {
    get state() {
      return { ...state }
    },
    async requestPersistence(manager) {
      if (state.persistence !== 'pending') return
      if (manager === undefined) manager = defaultStorageManager()
      if (manager === null || manager === undefined || typeof manager.persist !== 'function') return settle('unavailable')
      try {
        if (typeof manager.persisted === 'function' && (await manager.persisted())) return settle('persisted')
        settle((await manager.persist()) ? 'persisted' : 'best-effort')
      } catch {
        settle('best-effort')
      }
    },
    noteLost(at) {
      state.lostAt = at
      emit({ kind: 'lost', at })
    },
  }
}

/** The environment's StorageManager, if any. */
export function defaultStorageManager(): StorageManagerLike | undefined {
  return (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage
}
