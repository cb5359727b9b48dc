/**
 * @lastword/vue — Vue 3 composables over @lastword/client: provide a client, live queries and the sync
 * status as refs, table handles; subscriptions end when the calling scope is disposed.
 */
export { provideLastword, useLastword, LASTWORD_CLIENT } from './context.js'
export { useLiveQuery } from './live-query.js'
export type { LiveQueryRefs, LiveSource } from './live-query.js'
export { useSyncStatus, readSyncStatus, STATUS_EVENTS } from './sync-status.js'
export type { SyncStatus } from './sync-status.js'
export { useTable } from './use-table.js'
