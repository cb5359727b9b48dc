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
  /**
   * Pushed records of `table` went unanswered (the request failed, or the page carried no outcome for
   * them): route the table's dirty records to the scopes that carry them now. The scope that sent them
   * may no longer be their carrier (another held scope matches them since), so retrying it alone could
   * leave them dirty with nothing left to push them (I9).
   */
  reroute(table: string): void
  /**
   * P9 after `lw:push`: the scopes of `table` were reset to reconcile in full (a dropped child the server
   * knew): sync each held one, so the server's state of the child comes back.
   */
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
