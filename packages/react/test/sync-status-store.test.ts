/** The status store behind useSyncStatus: every event re-reads the client, and an unchanged status keeps its snapshot. */
import type { ClientEvents, ClockEvent, LastwordError, SyncClient, SyncReport } from '@lastword/client'
import { LastwordError as ErrorClass } from '@lastword/client'
import { describe, expect, it } from 'vitest'
import { syncStatusStore } from '../src/index.js'

/** A client reduced to what the status reads, whose events the test emits. */
function fakeClient() {
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const state = {
    status: 'online' as SyncClient['status'],
    lastError: null as LastwordError | null,
    clockRefused: null as ClockEvent | null,
    isOwner: true,
    hasSynced: false,
    lastSyncedAt: null as number | null,
    storage: { persistence: 'unavailable', lostAt: null } as SyncClient['storage'],
  }
  const client = {
    get hasSynced() {
      return state.hasSynced
    },
    get lastSyncedAt() {
      return state.lastSyncedAt
    },
    get storage() {
      return state.storage
    },
    get status() {
      return state.status
    },
    get lastError() {
      return state.lastError
    },
    get clockRefused() {
      return state.clockRefused
    },
    get isOwner() {
      return state.isOwner
    },
    pendingCount: () => Promise.resolve(3),
    on(event: string, listener: (payload: unknown) => void) {
      if (!listeners.has(event)) listeners.set(event, new Set())
      listeners.get(event)!.add(listener)
      return () => listeners.get(event)!.delete(listener)
    },
  }
  const emit = <E extends keyof ClientEvents>(event: E, payload: ClientEvents[E]) => {
    for (const listener of listeners.get(event as string) ?? []) listener(payload)
  }
  return { client: client as unknown as SyncClient, state, emit, listeners }
}

const report: SyncReport = { table: 'todos', scopeKey: 'k', mode: 'incremental', pushed: 1, pulled: 0, superseded: [], rejected: [], restamped: [], evicted: [], purged: [], outdated: [], durationMs: 1 }

describe('syncStatusStore', () => {
  it('follows sync, clock and error events, and keeps one snapshot while nothing changes', async () => {
    const { client, state, emit } = fakeClient()
    const store = syncStatusStore(client)
    expect(syncStatusStore(client)).toBe(store) // one per client
    let notified = 0
    const off = store.subscribe(() => notified++)
    await Promise.resolve()
    expect(store.getSnapshot()).toMatchObject({ status: 'online', connected: true, pending: 3, lastSync: null, lastSyncAt: null, clock: null, error: null })

    emit('sync', report)
    expect(store.getSnapshot().lastSync).toBe(report)
    expect(store.getSnapshot().lastSyncAt).toEqual(expect.any(Number))

    const refusal: ClockEvent = { kind: 'refused', skewMs: 90_000, at: 1, offsetMs: -90_000 }
    state.clockRefused = refusal
    emit('clock', refusal)
    expect(store.getSnapshot().clock).toBe(refusal)

    const error = new ErrorClass('FORBIDDEN', 'no')
    state.lastError = error
    emit('error', error)
    expect(store.getSnapshot().error).toBe(error)

    const before = store.getSnapshot()
    const count = notified
    emit('status', 'online') // nothing changed
    expect(store.getSnapshot()).toBe(before)
    expect(notified).toBe(count)

    state.status = 'offline'
    emit('status', 'offline')
    expect(store.getSnapshot()).toMatchObject({ status: 'offline', connected: false })
    expect(notified).toBe(count + 1)

    // Synced (in any tab) and the storage's state: read from the client on their events.
    state.hasSynced = true
    state.lastSyncedAt = 1_700_000_000_000
    emit('synced', { hasSynced: true, lastSyncedAt: 1_700_000_000_000 })
    expect(store.getSnapshot()).toMatchObject({ hasSynced: true, lastSyncedAt: 1_700_000_000_000 })
    state.storage = { persistence: 'best-effort', lostAt: 5 } as SyncClient['storage']
    emit('storage', { kind: 'lost', at: 5 } as unknown as ClientEvents['storage'])
    expect(store.getSnapshot()).toMatchObject({ persistence: 'best-effort', storageLostAt: 5 })
    off()
  })
})
