/**
 * `useLiveQuery`: the rows of a scope of a table, live. It calls the table handle's `subscribe`, so
 * while a component shows them the scope is kept synced (and live on the server), exactly as
 * `table.subscribe` does; unmounting unsubscribes. Read through `useSyncExternalStore` from a store whose
 * snapshot object changes only when the rows or the state do (no tearing in concurrent rendering).
 */
import { argsKey, toLastwordError, type LastwordError, type QueryOptions, type Where } from './client-types.js'
import { useMemo, useSyncExternalStore } from 'react'

/**
 * What `useLiveQuery` needs of a table: its `subscribe`. A `TableHandle<Row>` is one, and the rows',
 * filter's and options' types are read from it, so a handle typed from the app's schema checks the
 * query's column names and values too.
 */
export interface LiveSource<R, W = Where, O = QueryOptions> {
  readonly name: string
  subscribe(where: W, callback: (rows: R[]) => void, options?: O): () => void
}

/** The state of a live query. */
export interface LiveQueryResult<R> {
  /** The matching rows (empty while loading). */
  rows: R[]
  /** No result yet: the first local read has not answered (or the table's descriptor is not known yet). */
  loading: boolean
  /** Why the query could not start (a bad filter, a closed client), or `null`. */
  error: LastwordError | null
}

/** A live query's state with its subscribers: the external store React reads. */
export interface LiveQueryStore<R> {
  subscribe(listener: () => void): () => void
  getSnapshot(): LiveQueryResult<R>
}

const IDLE: LiveQueryResult<never> = Object.freeze({ rows: Object.freeze([]) as unknown as never[], loading: false, error: null })
const LOADING: LiveQueryResult<never> = Object.freeze({ rows: Object.freeze([]) as unknown as never[], loading: true, error: null })

/**
 * Creates the store of one query: the table's subscription is made with the first listener and
 * stopped with the last (React's own subscribe and unsubscribe, so unmounting stops it).
 */
export function createLiveQueryStore<R, W, O>(table: LiveSource<R, W, O> | null | undefined, where: W, options: O): LiveQueryStore<R> {
  let snapshot: LiveQueryResult<R> = table == null ? IDLE : LOADING
  const listeners = new Set<() => void>()
  let stop: (() => void) | null = null
  const set = (next: LiveQueryResult<R>): void => {
    snapshot = next
    for (const listener of [...listeners]) listener()
  }
  return {
    subscribe(listener) {
      listeners.add(listener)
      if (listeners.size === 1 && table != null && snapshot.error === null) {
        let active = true
        try {
          const unsubscribe = table.subscribe(
            where,
            (rows) => {
              if (active) set({ rows, loading: false, error: null })
            },
            options,
          )
          stop = () => {
            active = false
            unsubscribe()
          }
        } catch (error) {
          active = false
          set({ rows: [], loading: false, error: toLastwordError(error) })
        }
      }
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && stop !== null) {
          const unsubscribe = stop
          stop = null
          unsubscribe()
        }
      }
    },
    getSnapshot: () => snapshot,
  }
}

/**
 * The rows of `table` matching `where` (core's filter language), sorted and limited by `options`,
 * kept current after every local or remote change. Re-subscribes when the table or the arguments
 * change by value; `table` `null` or `undefined` subscribes to nothing (a query not ready yet).
 *
 * @example
 * const todos = useTable<Todo>('todos')
 * const { rows, loading, error } = useLiveQuery(todos, { done: false }, { orderBy: 'title' })
 */
export function useLiveQuery<R, W = Where, O = QueryOptions>(
  table: LiveSource<R, W, O> | null | undefined,
  where: NoInfer<W> = {} as NoInfer<W>,
  options: NoInfer<O> = {} as NoInfer<O>,
): LiveQueryResult<R> {
  const key = argsKey([where, options])
  // `where` and `options` are read through `key`: a new literal with equal content keeps the store.
  const store = useMemo(() => createLiveQueryStore(table, where, options), [table, key])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}
