/**
 * @lastword/vue — Vue 3 composables over @lastword/client: provide a client, live queries and the sync
 * status as refs, table handles; subscriptions end when the calling scope is disposed.
 */
export { provideLastword, useLastword, LASTWORD_CLIENT } from './context.js'
export { useLiveQuery } from './live-query.js'
export type { LiveQueryRefs, LiveSource } from './live-query.js'
export { useSyncStatus } from './sync-status.js'
export { readSyncStatus, STATUS_EVENTS } from './client-types.js'
export type { SyncStatus } from './client-types.js'
export { useTable } from './use-table.js'
