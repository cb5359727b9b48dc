/**
 * The replica marker: a meta entry (`replica`) written when the IndexedDB database is created (or
 * first opened by a version that writes it), holding a random id. The store reads it on every open and
 * reopen: another id — or none — under a store that knew one means the database was deleted, evicted or
 * replaced while this client ran (the browser's storage cleared, another program deleting it). The
 * store then says so (`onReplaced`), and `replica` changes, so work begun on the old database is not
 * finished on the new one (sync/replica-guard.ts).
 */
import type { IDBPDatabase } from 'idb'

/** The meta key of the marker. */
export const REPLICA_MARKER_KEY = 'replica'

interface Marker {
  id: string
}

/** Reads the marker, writing one with `newId()` when there is none; resolves its id. */
export async function readOrCreateMarker(db: IDBPDatabase<unknown>, newId: () => string): Promise<string> {
  const tx = db.transaction('meta' as never, 'readwrite', { durability: 'strict' })
  const meta = tx.objectStore('meta' as never)
  const found = (await meta.get(REPLICA_MARKER_KEY as never)) as Marker | undefined
  let id = found?.id
  if (typeof id !== 'string') {
    id = newId()
    await meta.put!({ id } satisfies Marker as never, REPLICA_MARKER_KEY as never)
  }
  await tx.done
  return id
}

/** A marker id from the platform's randomness (the client passes one from its runtime instead). */
export function defaultMarkerId(): string {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
