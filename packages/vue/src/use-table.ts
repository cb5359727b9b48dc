/** `useTable`: a table handle of the provided client. */
import { markRaw } from 'vue'
import type { SyncClient, TableHandle } from './client-types.js'
import { useLastword } from './context.js'

/**
 * The handle of table `name` on the provided client (or on `client`), marked raw so Vue never wraps it
 * in a proxy. Pass the row type: `useTable<Todo>('todos')` (and the table's key when it is not `uid`:
 * `useTable<Todo, 'id'>('todos')`); `useLiveQuery` reads the rows' type from
 * whatever handle it is given.
 */
export function useTable<Row extends object = Record<string, unknown>, Key extends string = 'uid'>(name: string, client?: SyncClient): TableHandle<Row, never, Key> {
  return markRaw(useLastword(client).table<Row, Key>(name))
}
