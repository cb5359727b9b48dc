/**
 * A follower tab's side of tab coordination: it announces its live scopes to the owner, mirrors the
 * owner's status, and asks the owner to sync — its `sync()` settles with the owner's outcome, the
 * owner's error code included.
 */
import { LastwordError } from '@lastword/core'
import { randomSubscriptionId } from '../ids.js'
import type { CancelTimer, Runtime } from '../runtime.js'
import type { TabCoordinator } from './coordinator.js'
import type { TabMessage, TabScope, TabStatus } from './messages.js'

/** Options of {@link createFollowerSide}. */
export interface FollowerSideOptions {
  coordinator: TabCoordinator
  /** This tab's id. */
  node: string
  runtime: Runtime
  /** How long a `sync()` waits for the owner's answer, ms. */
  requestTimeoutMs: number
  /** This tab's live scopes. */
  scopes(): TabScope[]
}

/** What a follower does towards the owner. */
export interface FollowerSide {
  /** The owner's status, as last told (`offline` until told, and when a new owner takes over). */
  ownerStatus: TabStatus
  /** Tells the owner this tab's live scopes. */
  postScopes(): void
  /** Asks the owner to sync every scope; settles with its outcome, or `TRANSIENT` if it does not answer in time. */
  requestSync(): Promise<void>
  /** The owner answered a sync request. */
  onSynced(message: Extract<TabMessage, { type: 'synced' }>): void
  /** Rejects every waiting `sync()` with `CLOSED`. */
  close(): void
}

/** Creates the follower side. */
export function createFollowerSide(options: FollowerSideOptions): FollowerSide {
  const { coordinator, node, runtime } = options
  const waiters = new Map<string, { settle: (error: LastwordError | null) => void }>()

  return {
    ownerStatus: 'offline',
    postScopes() {
      coordinator.post({ type: 'scopes', from: node, scopes: options.scopes() })
    },
    requestSync() {
      const id = randomSubscriptionId(runtime)
      return new Promise<void>((resolve, reject) => {
        const cancel: CancelTimer = runtime.setTimer(() => {
          waiters.delete(id)
          reject(new LastwordError('TRANSIENT', 'The tab that syncs for this database did not answer'))
        }, options.requestTimeoutMs)
        waiters.set(id, {
          settle(error) {
            cancel()
            if (error === null) resolve()
            else reject(error)
          },
        })
        coordinator.post({ type: 'sync', from: node, id })
      })
    },
    onSynced(message) {
      const waiter = waiters.get(message.id)
      if (waiter === undefined) return
      waiters.delete(message.id)
      // The owner's code, not a blanket TRANSIENT: a follower's caller decides on it as the owner's would.
      waiter.settle(message.error === null ? null : new LastwordError(message.error.code, message.error.message))
    },
    close() {
      for (const waiter of waiters.values()) waiter.settle(new LastwordError('CLOSED', 'The client is closed'))
      waiters.clear()
    },
  }
}
