/** Reaching an IndexedDB store's raw connection, for fault-injection tests that force-close it. */
import { LastwordError } from '@lastword/core'
import { rawConnectionOf } from '../store/idb-store.js'
import type { LocalStore } from '../store/types.js'

/**
 * The current raw `IDBDatabase` of a store made by `createIdbStore` (opened if needed). Closing it, or
 * firing `close` on it, is what Safari or DevTools do to a background tab; the store reopens.
 */
export function idbConnection(store: LocalStore): Promise<IDBDatabase> {
  const connection = rawConnectionOf(store)
  if (connection === undefined) throw new LastwordError('BAD_REQUEST', 'idbConnection needs a store made by createIdbStore')
  return connection()
}
