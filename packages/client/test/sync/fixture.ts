/**
 * A sync context for unit tests of `src/sync/`: a memory store, a manual runtime (time moves only with
 * `runtime.advance`), the client clock on that runtime, and a server scripted by the test.
 */
import { scopeKey, validateWhere, type Reply, type SyncPage, type SyncRequest, type Where } from '@lastword/core'
import { createClientClock } from '../../src/clock.js'
import type { StoredRecord } from '../../src/store/types.js'
import { createMemoryStore } from '../../src/store/memory-store.js'
import type { SyncContext } from '../../src/sync/context.js'
import { createPushesInProgress } from '../../src/sync/pushes-in-progress.js'
import { createRemovalMemory } from '../../src/sync/replica-store.js'
import { createScopeRegistry } from '../../src/sync/scope-registry.js'
import type { ClockEvent, DriverDeps, ScopeQuery, SyncReport } from '../../src/sync/types.js'
import { createManualRuntime, type ManualRuntime } from '../../src/testing/index.js'
import type { Transport } from '../../src/transport.js'
import { page, stamp, todosTable } from '../helpers.js'

export { page, stamp, todosTable }

export type Handler = (request: SyncRequest, index: number) => Reply<SyncPage> | Promise<Reply<SyncPage>>

/** Everything a sync unit test drives or inspects. */
export interface Harness {
  runtime: ManualRuntime
  deps: DriverDeps
  ctx: SyncContext
  requests: SyncRequest[]
  unsubscribes: string[]
  reports: SyncReport[]
  errors: string[]
  changed: string[][]
  clockEvents: ClockEvent[]
  /** Tables whose unanswered pushes a run asked to route again (`ctx.reroute`; the driver wires the router). */
  rerouted: string[]
  handler: Handler
}

/** A harness; the server answers every request with `handler` (default: every push applied, nothing pulled). */
export function createHarness(handler: Handler = (request) => page(request), settings: Partial<DriverDeps['settings']> = {}): Harness {
  const runtime = createManualRuntime()
  const store = createMemoryStore()
  const clock = createClientClock({ node: '00000000000000aa', clock: { now: () => runtime.now() } })
  const h = { runtime, requests: [], unsubscribes: [], reports: [], errors: [], changed: [], clockEvents: [], rerouted: [], handler } as unknown as Harness
  const transport: Transport = {
    open() {},
    close() {},
    async request(event, payload) {
      if (event === 'lw:unsubscribe') {
        h.unsubscribes.push((payload as { subscription: string }).subscription)
        return { ok: true, data: null } as never
      }
      const request = structuredClone(payload as SyncRequest)
      h.requests.push(request)
      return (await h.handler(request, h.requests.length - 1)) as never
    },
  }
  h.deps = {
    store,
    clock,
    transport,
    descriptor: (table) => (table === 'todos' ? todosTable : undefined),
    settings: {
      retry: { baseMs: 100, maxMs: 1_000, factor: 2, jitter: 0 },
      requestTimeoutMs: 30_000,
      pageSize: undefined,
      maxPushPerRequest: 1_000,
      maxEntriesPerRequest: 5_000,
      ...settings,
    },
    runtime,
    onReport: (r) => h.reports.push(r),
    onProgress: () => undefined,
    onClock: (e) => h.clockEvents.push(e),
    onError: (e) => h.errors.push(e.code),
    onChanged: (tables) => h.changed.push(tables),
    onActivity: () => undefined,
  }
  h.ctx = {
    deps: h.deps,
    state: { connected: true, stopped: false, outdated: new Map(), reconcileEpoch: new Map() },
    registry: createScopeRegistry(h.deps),
    pushes: createPushesInProgress(),
    removals: createRemovalMemory(),
    reroute: (table) => h.rerouted.push(table),
    resync: () => undefined,
  }
  return h
}

/** A scope of the todos table. */
export function query(where: Where): ScopeQuery {
  const scope = validateWhere(where, todosTable)
  return { table: 'todos', key: scopeKey('todos', scope), scope, where }
}

/** A todos record (clean and acknowledged unless told). */
export function todo(uid: string, ms: number, extra: Partial<StoredRecord> = {}): StoredRecord {
  const s = stamp(ms) as StoredRecord['updated_at']
  return { table: 'todos', uid, row: { title: uid, done: false }, created_at: s, updated_at: s, deleted_at: null, dirty: false, acknowledged: true, ...extra }
}

/** Stores records. */
export async function put(h: Harness, ...records: StoredRecord[]): Promise<void> {
  await h.deps.store.transaction('readwrite', async (tx) => {
    for (const r of records) await tx.putRecord(r)
  })
}

/** Reads a record. */
export function get(h: Harness, uid: string): Promise<StoredRecord | undefined> {
  return h.deps.store.transaction('readonly', (tx) => tx.getRecord('todos', uid))
}

/**
 * Lets every promise chain started so far run to its end. The memory store and the scripted server use
 * no timers, so one macrotask turn drains them; time itself does not move (that is `runtime.advance`).
 */
export async function drain(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** A promise and its resolver, for answers a test releases by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
