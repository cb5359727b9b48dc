/**
 * `useSyncStatus`: where a client stands — its status, how many records wait to be pushed, when it
 * last synced, clock problems, the last error, its tab role — as refs, read from the client's getters
 * and events, and released when the calling scope is disposed.
 *
 * The fields are built by @lastword/client's `readSyncStatus`, from the events in its `STATUS_EVENTS`
 * (shared with @lastword/react).
 */
import { onScopeDispose, shallowReactive, toRefs, type ToRefs } from 'vue'
import { readSyncStatus, STATUS_EVENTS, type SyncClient, type SyncStatus, type SyncStatusEvent } from './client-types.js'
import { useLastword } from './context.js'

/**
 * The sync status of the provided client (or of `client`) as refs.
 *
 * @example
 * const { status, pending, lastSyncAt } = useSyncStatus()
 */
export function useSyncStatus(client?: SyncClient): ToRefs<Readonly<SyncStatus>> {
  const chosen = useLastword(client)
  const state = shallowReactive(readSyncStatus(chosen, null))
  const update = (event?: SyncStatusEvent, payload?: unknown): void => {
    const next = readSyncStatus(chosen, state, event, payload)
    for (const key of Object.keys(next) as (keyof SyncStatus)[]) {
      if (!Object.is(state[key], next[key])) (state as Record<keyof SyncStatus, unknown>)[key] = next[key]
    }
  }
  const offs = STATUS_EVENTS.map((event) => chosen.on(event, (payload) => update(event, payload)))
  let disposed = false
  // The `pending` event tells changes only: count once now.
  chosen.pendingCount().then(
    (count) => {
      if (!disposed && state.pending === null) update('pending-count', count)
    },
    () => undefined,
  )
  onScopeDispose(() => {
    disposed = true
    for (const off of offs) off()
  })
  return toRefs(state)
}
