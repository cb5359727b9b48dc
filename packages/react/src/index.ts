/**
 * @lastword/react — React bindings of @lastword/client: a provider, live queries, the sync status and
 * table handles as hooks, safe in concurrent rendering (`useSyncExternalStore`). The devtools panel is
 * at `@lastword/react/devtools`.
 */
export { LastwordProvider, useLastword } from './context.js'
export type { LastwordProviderProps } from './context.js'
export { useLiveQuery, createLiveQueryStore } from './live-query.js'
export type { LiveQueryResult, LiveQueryStore, LiveSource } from './live-query.js'
export { useSyncStatus, syncStatusStore } from './sync-status.js'
export { readSyncStatus, STATUS_EVENTS } from './client-types.js'
export type { SyncStatusStore } from './sync-status.js'
export type { SyncStatus } from './client-types.js'
export { useTable } from './use-table.js'
