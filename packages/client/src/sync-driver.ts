/**
 * The sync driver's entry point for the client root: the implementation is split across `sync/`
 * (driver.ts is the facade). Kept so that `client.ts` and `index.ts` import from one stable path.
 */
import type { RealtimeEvent } from '@lastword/core'

export { createSyncDriver } from './sync/driver.js'
export type { DriverDeps, DriverSettings, ScopeQuery, SyncDriver, SyncProgress, SyncReport } from './sync/driver.js'
export type { RetryOptions } from './runtime.js'

/**
 * Hooks for tests. Internal: not part of the supported API, may change without notice. The driver no
 * longer reads them; the client root applies `dropRealtime` to incoming events until tests drop events
 * with a transport wrapper instead.
 */
export interface TestHooks {
  /** Return `true` to drop a realtime event (as if socket.io lost it). */
  dropRealtime?: (event: RealtimeEvent) => boolean
}
