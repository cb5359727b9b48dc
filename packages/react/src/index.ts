/**
 * @lastword/react — React bindings of @lastword/client: a provider, live queries, the sync status and
 * table handles as hooks, safe in concurrent rendering (`useSyncExternalStore`). The devtools panel is
 * at `@lastword/react/devtools`.
 */
export { LastwordProvider, useLastword } from './context.js'
export type { LastwordProviderProps } from './context.js'
export { useLiveQuery, createLiveQueryStore } from './live-query.js'
export type { LiveQueryResult, LiveQueryStore, LiveSource } from './live-query.js'
export { useSyncStatus, syncStatusStore, readSyncStatus, STATUS_EVENTS } from './sync-status.js'
export type { SyncStatus, SyncStatusStore } from './sync-status.js'
export { useTable } from './use-table.js'
