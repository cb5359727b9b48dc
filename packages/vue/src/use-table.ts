/** `useTable`: a table handle of the provided client. */
import { markRaw } from 'vue'
import type { SyncClient, TableHandle } from './client-types.js'
import { useLastword } from './context.js'

/**
 * The handle of table `name` on the provided client (or on `client`), marked raw so Vue never wraps it
 * in a proxy. Pass the row type: `useTable<Todo>('todos')`; `useLiveQuery` reads the rows' type from
 * whatever handle it is given.
 */
export function useTable<Row extends object = Record<string, unknown>>(name: string, client?: SyncClient): TableHandle<Row> {
  return markRaw(useLastword(client).table<Row>(name))
}
