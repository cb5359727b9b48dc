/** `useTable`: a table handle of the provider's client. */
import type { SyncClient, TableHandle } from '@lastword/client'
import { useMemo } from 'react'
import { useLastword } from './context.js'

/**
 * The handle of table `name` on the provider's client (or on `client`): the same object on every
 * render (the client keeps one handle per table). Pass the row type: `useTable<Todo>('todos')`, and the
 * table's key when it is not `uid`: `useTable<Todo, 'id'>('todos')` (rows carry the uid as `row.id`).
 * `useLiveQuery` reads the rows' type from whatever handle it is given, so a handle the app typed
 * another way (from its schema) works the same.
 */
export function useTable<Row extends object = Record<string, unknown>, Key extends string = 'uid'>(name: string, client?: SyncClient): TableHandle<Row, never, Key> {
  const chosen = useLastword(client)
  return useMemo(() => chosen.table<Row, Key>(name), [chosen, name])
}
