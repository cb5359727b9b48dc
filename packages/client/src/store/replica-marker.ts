/**
 * The replica marker: a meta entry (`replica`) written when the IndexedDB database is created (or
 * first opened by a version that writes it), holding a random id. The store reads it on every open and
 * reopen: another id — or none — under a store that knew one means the database was deleted, evicted or
 * replaced while this client ran (the browser's storage cleared, another program deleting it). The
 * store then says so (`onReplaced`), and `replica` changes, so work begun on the old database is not
 * finished on the new one (sync/replica-guard.ts).
 */
import { request, transactionDone } from './idb-requests.js'

/** The meta key of the marker. */
export const REPLICA_MARKER_KEY = 'replica'

interface Marker {
  id: string
}

/** Reads the marker, writing one with `newId()` when there is none; resolves its id. */
export async function readOrCreateMarker(db: IDBDatabase, newId: () => string): Promise<string> {
  const tx = db.transaction('meta', 'readwrite', { durability: 'strict' })
  const done = transactionDone(tx)
  done.catch(() => undefined) // awaited below; a failed request rejects first
  const meta = tx.objectStore('meta')
  const found = (await request(meta.get(REPLICA_MARKER_KEY))) as Marker | undefined
  let id = found?.id
  if (typeof id !== 'string') {
    id = newId()
    await request(meta.put({ id } satisfies Marker, REPLICA_MARKER_KEY))
  }
  await done
  return id
}

/** A marker id from the platform's randomness (the client passes one from its runtime instead). */
export function defaultMarkerId(): string {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
