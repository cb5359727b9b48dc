/**
 * One tab's part in coordination: routes each validated message to the owner or the follower side
 * (whichever this tab is now), follows ownership changes, and runs the heartbeat (followers re-announce
 * their scopes, the owner drops tabs gone silent).
 */
import type { LiveQueries } from '../live/live-queries.js'
import type { CancelTimer, Runtime } from '../runtime.js'
import type { SyncDriver, SyncReport } from '../sync/driver.js'
import type { DescriptorRegistry } from '../tables/descriptor-registry.js'
import type { TabCoordinator } from './coordinator.js'
import { createFollowerSide } from './follower-side.js'
import type { TabMessage, TabStatus } from './messages.js'
import { createOwnerSide } from './owner-side.js'

/** Options of {@link createTabSession}. */
export interface TabSessionOptions {
  coordinator: TabCoordinator
  node: string
  runtime: Runtime
  heartbeatMs: number
  requestTimeoutMs: number
  registry: DescriptorRegistry
  live: LiveQueries
  driver(): SyncDriver | null
  /** This tab's own status. */
  status(): TabStatus
  isClosed(): boolean
  /** Data changed in another tab (`uids` when known); `dirty`: by a local write there. */
  onDataChanged(tables: string[], uids: string[] | undefined): void
  /** The owner's status (as seen by a follower) may have changed. */
  onStatusChanged(): void
  /** A sync report of the owner, for a follower's app. */
  onReport(report: SyncReport): void
  /** Another tab stored new descriptors. */
  reloadTables(): Promise<void>
  /** This tab became, or stopped being, the owner. */
  onOwnerChange(owner: boolean): void
}

/** One tab's coordination, after {@link TabSession.start}. */
export interface TabSession {
  readonly isOwner: boolean
  /** The owner's status as a follower last heard it. */
  readonly ownerStatus: TabStatus
  /** Starts listening, competing for ownership and the heartbeat. */
  start(): void
  /** Tells a follower's scopes to the owner (nothing for the owner). */
  postScopes(): void
  /** A follower's `sync()`: asks the owner. */
  requestSync(): Promise<void>
  post(message: TabMessage): void
  close(): Promise<void>
}

/** Creates the session of one tab. */
export function createTabSession(options: TabSessionOptions): TabSession {
  const { coordinator, node, runtime } = options
  const owner = createOwnerSide(options)
  const follower = createFollowerSide({ coordinator, node, runtime, requestTimeoutMs: options.requestTimeoutMs, scopes: () => options.live.scopes() })
  let stopHeartbeat: CancelTimer | null = null

  function postScopes(): void {
    if (options.isClosed() || coordinator.isOwner) return
    follower.postScopes()
  }

  function onOwnerChange(isOwner: boolean): void {
    if (isOwner) coordinator.post({ type: 'owner', from: node })
    else {
      owner.dropAll()
      postScopes()
    }
    options.onOwnerChange(isOwner)
  }

  function onMessage(message: TabMessage): void {
    const isOwner = coordinator.isOwner
    switch (message.type) {
      case 'changed':
        options.onDataChanged(message.tables, message.uids)
        if (isOwner && message.dirty) options.driver()?.afterWrite()
        return
      case 'scopes':
        if (isOwner) owner.setScopes(message.from, message.scopes)
        return
      case 'status':
        if (!isOwner) {
          follower.ownerStatus = message.status
          options.onStatusChanged()
        }
        return
      case 'report':
        if (!isOwner) options.onReport(message.report as unknown as SyncReport)
        return
      case 'sync':
        if (isOwner) owner.relaySync(message.id)
        return
      case 'synced':
        follower.onSynced(message)
        return
      case 'owner':
        if (!isOwner) {
          postScopes()
          follower.ownerStatus = 'offline'
          options.onStatusChanged()
        }
        return
      case 'cleared':
        options.onDataChanged(options.live.tables(), undefined)
        return
      case 'tables':
        void options.reloadTables()
        return
      case 'released':
        return // the coordinator takes over by itself
    }
  }

  function onHeartbeat(): void {
    if (options.isClosed()) return
    if (coordinator.isOwner) owner.expire()
    else postScopes()
  }

  return {
    get isOwner() {
      return coordinator.isOwner
    },
    get ownerStatus() {
      return follower.ownerStatus
    },
    start() {
      coordinator.onMessage(onMessage)
      coordinator.start(onOwnerChange)
      stopHeartbeat = runtime.setRepeating(onHeartbeat, options.heartbeatMs)
      if (!coordinator.isOwner) postScopes()
    },
    postScopes,
    requestSync: () => follower.requestSync(),
    post: (message) => coordinator.post(message),
    async close() {
      stopHeartbeat?.()
      follower.close()
      await coordinator.close()
    },
  }
}
