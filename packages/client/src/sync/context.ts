/**
 * What the sync modules share: the client's dependencies, whether the driver is connected or stopped,
 * the scope registry, the pushes awaiting their outcome and the removals remembered for E6.
 */
import { LastwordError } from '@lastword/core'
import type { PushesInProgress } from './pushes-in-progress.js'
import type { RemovalMemory } from './replica-store.js'
import type { ScopeRegistry } from './scope-registry.js'
import type { DriverDeps } from './types.js'

/** The connection as the driver sees it. */
export interface DriverState {
  /** After `lw:hello`, until the connection is lost. */
  connected: boolean
  /** `stop()` was called: nothing starts any more. */
  stopped: boolean
  /** By table: the schema version whose pushes the server answered `SCHEMA_OUTDATED` (P8); they wait for a newer one. */
  outdated: Map<string, number>
  /**
   * By table: bumped each time an answer to \`lw:push\` dropped a child the server knew (P9), its scopes reset
   * to reconcile in full. A page answering a request built before the bump was read from the old
   * checkpoint, or planned from entries listing the dropped child: it keeps the reset (B25).
   */
  reconcileEpoch: Map<string, number>
}

/** The state shared by the modules of one driver. */
export interface SyncContext {
  deps: DriverDeps
  state: DriverState
  registry: ScopeRegistry
  pushes: PushesInProgress
  removals: RemovalMemory
  /** A page marked records of `table` dirty (the server asked for them): the pusher sends them. */
  reroute(table: string): void
  /** The scopes of `table` were set to reconcile in full (P9, PD5): sync the held ones now. */
  resync(table: string): void
}

/** The error a sync gets while there is no connection (retried when it is back). */
export function offlineError(): LastwordError {
  return new LastwordError('TRANSIENT', 'Offline: the sync resumes when the connection is back')
}

/** The error a sync gets once the client is closed. */
export function closedError(): LastwordError {
  return new LastwordError('CLOSED', 'The client is closed')
}
