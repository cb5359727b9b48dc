/**
 * `useLiveQuery`: the rows of a scope of a table as refs, live. It calls the table handle's
 * `subscribe`, so while the calling scope (a component, an `effectScope`) lives the scope of the query is
 * kept synced, exactly as `table.subscribe` does; disposing the scope unsubscribes. The table and the
 * arguments may be refs or getters: a change of their values (compared by value, not identity)
 * re-subscribes.
 */
import { computed, shallowRef, toRaw, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue'
import { argsKey, toLastwordError, type LastwordError, type QueryOptions, type Where } from './client-types.js'

/** What `useLiveQuery` needs of a table: its `subscribe` (a `TableHandle<Row>` is one; the rows', filter's and options' types are read from it). */
export interface LiveSource<R, W = Where, O = QueryOptions> {
  readonly name: string
  subscribe(where: W, callback: (rows: R[]) => void, options?: O): () => void
}

/** The refs of a live query. */
export interface LiveQueryRefs<R> {
  /** The matching rows (empty while loading). A new array on every change: never mutate it. */
  rows: Readonly<Ref<R[]>>
  /** No result yet for the current arguments. */
  loading: Readonly<Ref<boolean>>
  /** Why the query could not start (a bad filter, a closed client), or `null`. */
  error: Readonly<Ref<LastwordError | null>>
}

/**
 * The rows of `table` matching `where` (core's filter language), sorted and limited by `options`, as
 * refs kept current after every local or remote change. `table` `null` subscribes to nothing.
 *
 * @example
 * const todos = useTable<Todo>('todos')
 * const done = ref(false)
 * const { rows, loading, error } = useLiveQuery(todos, () => ({ done: done.value }), { orderBy: 'title' })
 */
export function useLiveQuery<R, W = Where, O = QueryOptions>(
  table: MaybeRefOrGetter<LiveSource<R, W, O> | null | undefined>,
  where: MaybeRefOrGetter<NoInfer<W>> = {} as NoInfer<W>,
  options: MaybeRefOrGetter<NoInfer<O>> = {} as NoInfer<O>,
): LiveQueryRefs<R> {
  const rows = shallowRef<R[]>([])
  const loading = shallowRef(false)
  const error = shallowRef<LastwordError | null>(null)
  const key = computed(() => argsKey([toValue(where), toValue(options)]))
  const source = computed(() => {
    const value = toValue(table)
    return value == null ? null : toRaw(value)
  })

  watch(
    [source, key],
    ([current], _previous, onCleanup) => {
      rows.value = []
      error.value = null
      loading.value = current !== null
      if (current === null) return
      let active = true
      try {
        const stop = current.subscribe(
          toRaw(toValue(where)),
          (next) => {
            if (!active) return
            rows.value = next
            loading.value = false
          },
          toRaw(toValue(options)),
        )
        onCleanup(() => {
          active = false
          stop()
        })
      } catch (thrown) {
        loading.value = false
        error.value = toLastwordError(thrown)
      }
    },
    { immediate: true },
  )

  return { rows, loading, error }
}
