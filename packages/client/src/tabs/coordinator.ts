/**
 * Tab coordination: one sync owner per database name, so that tabs sharing one IndexedDB database never
 * push the same records twice (docs/test-matrix.md, row D05). Web Locks (`navigator.locks`) where present; else a
 * lease record in the shared store, taken and renewed inside a store transaction (atomic across tabs).
 * A BroadcastChannel named `lastword:<name>` carries "changed" pings and the non-owners' scopes.
 */
import type { Runtime } from '../runtime.js'
import type { LocalStore } from '../store/types.js'
import { parseTabMessage, type TabMessage } from './messages.js'

/** The parts of the Web Locks API used here. */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown>
}

/** A BroadcastChannel-like constructor. */
export type BroadcastChannelFactory = new (name: string) => {
  postMessage(message: unknown): void
  close(): void
  onmessage: ((event: MessageEvent) => void) | null
}

/** Options of tab coordination. */
export interface TabOptions {
  /** Web Locks; defaults to `navigator.locks` when present. `null` forces the lease fallback. */
  locks?: LockManagerLike | null
  /** The BroadcastChannel constructor; defaults to the global one. `null`: no cross-tab messages. */
  BroadcastChannel?: BroadcastChannelFactory | null
  /** How long a lease holds without renewal (fallback only), ms. Default 5,000. */
  leaseMs?: number
  /** How often non-owners re-announce their scopes to the owner, ms. Default 2,000. */
  heartbeatMs?: number
}

/** One tab's view of the coordination. */
export interface TabCoordinator {
  readonly isOwner: boolean
  /** Starts competing for ownership; `onOwnerChange` is called on every change. */
  start(onOwnerChange: (owner: boolean) => void): void
  post(message: TabMessage): void
  onMessage(listener: (message: TabMessage) => void): void
  close(): Promise<void>
}

/** Options of {@link createTabCoordinator}. */
export interface TabCoordinatorOptions extends TabOptions {
  /** The client name: the lock is `lastword:<name>:owner`, the channel `lastword:<name>`. */
  name: string
  /** This tab's id (its node id). */
  tab: string
  store: LocalStore
  /** Whether to coordinate at all; `false` makes this tab the owner, with no channel. */
  enabled: boolean
  /** The lease's clock and renewal timer. */
  runtime: Runtime
}

/** Creates the coordinator of one tab. */
export function createTabCoordinator(options: TabCoordinatorOptions): TabCoordinator {
  const { name, tab, store, runtime } = options
  const leaseMs = options.leaseMs ?? 5_000
  const listeners = new Set<(message: TabMessage) => void>()
  let owner = false
  let closed = false
  let onChange: (owner: boolean) => void = () => undefined
  let stopRenewing: (() => void) | null = null
  let releaseLock: (() => void) | null = null
  const abort = new AbortController()

  const locks: LockManagerLike | null =
    options.locks !== undefined ? options.locks : ((globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks ?? null)
  /** Whether ownership is a lease in the store (no Web Locks), once started. */
  let leasing = false

  const Channel = options.enabled ? (options.BroadcastChannel === undefined ? globalThis.BroadcastChannel : options.BroadcastChannel) : null
  const channel = Channel != null ? new Channel(`lastword:${name}`) : null
  ;(channel as { unref?: () => void } | null)?.unref?.()
  if (channel !== null) {
    channel.onmessage = (event: MessageEvent) => {
      const message = parseTabMessage(event.data)
      if (closed || message === null || message.from === tab) return
      // The owner let go: take over now rather than at the next renewal tick.
      if (message.type === 'released' && !owner && leasing) void tryLease()
      for (const listener of listeners) listener(message)
    }
  }

  const setOwner = (value: boolean): void => {
    if (closed || value === owner) return
    owner = value
    onChange(value)
  }

  /** Takes or renews the lease if it is free, expired or ours; atomic in one store transaction. */
  async function tryLease(): Promise<void> {
    if (closed) return
    try {
      const won = await store.transaction('readwrite', async (tx) => {
        const lease = await tx.getMeta('owner')
        const now = runtime.now()
        if (lease !== undefined && lease.tab !== tab && lease.expiresAt > now) return false
        await tx.putMeta('owner', { tab, expiresAt: now + leaseMs })
        return true
      })
      setOwner(won)
    } catch {
      // Cannot renew: step down rather than risk two owners.
      setOwner(false)
    }
  }

  return {
    get isOwner() {
      return owner
    },
    start(listener) {
      onChange = listener
      if (!options.enabled) {
        setOwner(true)
        return
      }
      if (locks !== null) {
        void locks
          .request(`lastword:${name}:owner`, { signal: abort.signal }, () => {
            if (closed) return Promise.resolve()
            setOwner(true)
            return new Promise<void>((resolve) => {
              releaseLock = resolve
            })
          })
          .catch(() => undefined)
        return
      }
      leasing = true
      void tryLease()
      stopRenewing = runtime.setRepeating(() => void tryLease(), Math.max(50, Math.floor(leaseMs / 3)))
    },
    post(message) {
      if (closed || channel === null) return
      try {
        channel.postMessage(message)
      } catch {
        // A closed channel: nothing to tell.
      }
    },
    onMessage(listener) {
      listeners.add(listener)
    },
    async close() {
      if (closed) return
      const wasOwner = owner
      stopRenewing?.()
      abort.abort()
      releaseLock?.()
      if (wasOwner && leasing) {
        await store
          .transaction('readwrite', async (tx) => {
            const lease = await tx.getMeta('owner')
            if (lease?.tab === tab) await tx.deleteMeta('owner')
          })
          .catch(() => undefined)
      }
      if (wasOwner) channel?.postMessage({ type: 'released', from: tab } satisfies TabMessage)
      closed = true
      owner = false
      listeners.clear()
      channel?.close()
    },
  }
}
