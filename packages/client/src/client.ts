/**
 * The client: a local copy of the scopes the app uses, readable and writable with no connection, and
 * reconciled with the server when there is one (design.md, "What it is").
 */
import {
  LastwordError,
  PROTOCOL_VERSION,
  WIRE_BOUNDS,
  assertSafeKey,
  assertTableDescriptor,
  assertUid,
  getColumn,
  helloSchema,
  realtimeEventSchema,
  normalizeRow,
  toLastwordError,
  versionOf,
  type Handshake,
  type RowValues,
  type Stamp,
  type TableDescriptor,
  type Where,
} from '@lastword/core'
import type { Socket } from 'socket.io-client'
import { createClientClock, type Clock, type ClientClock } from './clock.js'
import { createEmitter } from './emitter.js'
import { createDefaultRuntime } from './runtime.js'
import { randomNodeId, randomSubscriptionId, uuidv7 } from './ids.js'
import { compileQuery, createLiveResult, isLive, isSelected, runQuery, toReadRow, type CompiledQuery, type LiveResult, type QueryOptions, type ReadRow } from './query.js'
import { createIdbStore } from './store/idb-store.js'
import { createMemoryStore } from './store/memory-store.js'
import type { LocalStore, StoredRecord } from './store/types.js'
import {
  createSyncDriver,
  type RetryOptions,
  type ScopeQuery,
  type SyncDriver,
  type SyncProgress,
  type SyncReport,
  type TestHooks,
} from './sync-driver.js'
import { createTabCoordinator, type TabMessage, type TabOptions } from './tabs.js'
import { createSocketTransport, type Transport, type TransportHandlers } from './transport.js'

/** Where the client stands: no connection, connecting, syncing, or connected and idle. */
export type ClientStatus = 'offline' | 'connecting' | 'syncing' | 'online'

/** Events of a client, by name. */
export interface ClientEvents {
  [event: string]: unknown
  status: ClientStatus
  /** One per completed sync of a scope. */
  sync: SyncReport
  error: LastwordError
  /** The number of dirty records (written locally, not yet acknowledged). */
  pending: number
  progress: SyncProgress
}

/** Options of {@link createSyncClient}. */
export interface SyncClientOptions {
  /** The local database: one IndexedDB database `lastword:<name>` per name, shared by the tabs using it. */
  name: string
  /**
   * The sync server's URL (socket.io, `transports: ['websocket']`), or the URLs of several server nodes
   * on one database: the client uses one and moves to the next when a connection fails or is lost.
   */
  url?: string | readonly string[]
  /** Or a socket.io socket made by the app (not yet connected); lastword sets its `auth`. */
  socket?: Socket
  /** Or any transport (a fault-injecting one in tests). Without `url`, `socket` or `transport` the client stays offline. */
  transport?: Transport
  /** Table descriptors; without them they come from the server's `lw:hello` and are kept locally. */
  tables?: TableDescriptor[]
  /** What the server's `authenticate` gets as `token`: a string, or a function asked on every connection. */
  auth?: { token?: string | (() => string | undefined | Promise<string | undefined>) }
  /** The physical clock (default `Date.now`); the learned server offset is added to it. */
  clock?: Clock
  /** `'indexeddb'` (default), `'memory'`, or a store instance (which the app owns and closes). */
  store?: 'indexeddb' | 'memory' | LocalStore
  /** The IndexedDB factory (default: the global `indexedDB`). */
  indexedDB?: IDBFactory
  /** The key-range constructor of that factory (default: the global `IDBKeyRange`). */
  IDBKeyRange?: typeof IDBKeyRange
  /** Delay between a local write and the sync that pushes it, ms. Default 50. */
  syncDebounceMs?: number
  /** Backoff of transient failures (and reconnections). */
  retry?: RetryOptions
  /** How long to wait for each server answer, ms. Default 30,000. */
  requestTimeoutMs?: number
  /** Rows per page asked of the server (it caps them). */
  pageSize?: number
  /** Records pushed per request; more go in follow-up requests. Default 1,000. */
  maxPushPerRequest?: number
  /** Tab coordination (one sync owner per name); `false` makes this client the owner, alone. */
  tabs?: TabOptions | false
  /** Connect on creation (default `true`); otherwise call `connect()`. */
  autoConnect?: boolean
  /** Internal, for tests only: may change without notice. */
  _testHooks?: TestHooks
}

/** A handle on one synced table. `Row` is the app's row type (a type-only import of its schema). */
export interface TableHandle<Row extends object> {
  readonly name: string
  /** Creates a record locally (a UUIDv7 uid unless `uid` is given) and returns its uid. */
  create(row: Partial<Row> & { uid?: string }): Promise<string>
  /** Merges `patch` into the record's row and re-stamps it. `NOT_FOUND` if absent or deleted. */
  update(uid: string, patch: Partial<Row>): Promise<void>
  /** Deletes the record (a tombstone, pushed like any write). `NOT_FOUND` if absent or deleted. */
  delete(uid: string): Promise<void>
  /** The live record with this uid, or `null`. */
  findUnique(uid: string): Promise<ReadRow<Row> | null>
  /** The live records matching `where` (core's matcher), sorted and limited. */
  findMany(where?: Where, options?: QueryOptions): Promise<ReadRow<Row>[]>
  /**
   * A live query: `callback` gets the matching rows now and after every local or remote change that
   * affects them. While at least one subscriber holds it, the scope is kept synced (and live on the
   * server). Returns the unsubscribe function.
   */
  subscribe(where: Where, callback: (rows: ReadRow<Row>[]) => void, options?: QueryOptions): () => void
  /** The stored record with its metadata (stamps, `dirty`, `acknowledged`, `rejected`), tombstones included. */
  record(uid: string): Promise<StoredRecord | null>
}

/** A sync client. */
export interface SyncClient {
  readonly name: string
  /** This client instance's node id (also its `clientId` on the wire). */
  readonly clientId: string
  readonly status: ClientStatus
  /** The last error reported through the `error` event, or `null`. */
  readonly lastError: LastwordError | null
  /** Whether this client is the sync owner among the tabs sharing its database. */
  readonly isOwner: boolean
  /** The local store. */
  readonly store: LocalStore
  table<Row extends object = RowValues>(name: string): TableHandle<Row>
  /** Syncs every subscribed scope now (in a non-owner tab: asks the owner). Rejects when offline. */
  sync(): Promise<void>
  /** How many records are dirty (written locally, not yet acknowledged). */
  pendingCount(): Promise<number>
  on<E extends keyof ClientEvents>(event: E, listener: (payload: ClientEvents[E]) => void): () => void
  /** Stops syncing on purpose (work offline) until {@link SyncClient.connect}. */
  disconnect(): void
  connect(): void
  /** Resolves once the local store is open and the clock restored. */
  ready(): Promise<void>
  close(): Promise<void>
  /** Wipes the local database (sign-out) and closes the client. */
  clear(): Promise<void>
}

interface LiveQuery {
  id: string
  table: string
  where: Where
  options: QueryOptions
  callback: (rows: ReadRow<never>[]) => void
  compiled: CompiledQuery | null
  /** Its rows, kept between changes; `null` until the first full read. */
  result: LiveResult | null
  /** Changed in ways not known record by record: needs a full read (coalesced, see `flushRefresh`). */
  stale: boolean
  /** Its last refresh failed: the next change of its table, whatever it is, re-reads it in full. */
  suspect: boolean
  acquired: boolean
  closed: boolean
}

/** The 'changed' message between tabs, with the uids written when the sender knows them. */
type ChangedMessage = Extract<TabMessage, { type: 'changed' }>

/** Changed uids of one table beyond which live queries read it in full rather than record by record. */
const MAX_PATCH_UIDS = 2_000

const DEFAULT_RETRY: Required<RetryOptions> = { baseMs: 250, maxMs: 30_000, factor: 2, jitter: 0.5 }

/**
 * Creates a sync client.
 *
 * @example
 * import type { InferSelectModel } from 'drizzle-orm'
 * import type { todos } from '../server/schema'
 * type Todo = InferSelectModel<typeof todos>
 *
 * const client = createSyncClient({ name: 'app', url: 'https://api.example.com', auth: { token: () => getToken() } })
 * const todos = client.table<Todo>('todos')
 * const uid = await todos.create({ title: 'milk', done: false })
 * const stop = todos.subscribe({ done: false }, (rows) => render(rows), { orderBy: 'title' })
 * client.on('sync', (report) => console.log(report.table, report.pushed, report.pulled))
 * await todos.update(uid, { done: true })
 */
export function createSyncClient(options: SyncClientOptions): SyncClient {
  if (typeof options.name !== 'string' || options.name.length === 0) {
    throw new LastwordError('BAD_REQUEST', 'createSyncClient needs a `name` (one local database per name)')
  }
  const { name } = options
  const node = randomNodeId()
  const ownsStore = typeof options.store !== 'object'
  const store: LocalStore =
    typeof options.store === 'object'
      ? options.store
      : options.store === 'memory'
        ? createMemoryStore()
        : createIdbStore({ name: `lastword:${name}`, indexedDB: options.indexedDB, IDBKeyRange: options.IDBKeyRange })
  const retry: Required<RetryOptions> = { ...DEFAULT_RETRY, ...options.retry }
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const appTables = options.tables?.map((t) => assertTableDescriptor(t))
  const tables = new Map<string, TableDescriptor>(appTables?.map((t) => [t.name, t]))
  const emitter = createEmitter<ClientEvents>()
  const transport: Transport | null =
    options.transport ??
    (options.url !== undefined || options.socket !== undefined
      ? createSocketTransport({ url: options.url, socket: options.socket, reconnectionDelay: retry.baseMs, reconnectionDelayMax: retry.maxMs })
      : null)
  const tabOptions = options.tabs === false ? {} : (options.tabs ?? {})
  const coordinator = createTabCoordinator({
    ...tabOptions,
    name,
    tab: node,
    store,
    // A private in-memory store has no other tab to coordinate with.
    enabled: options.tabs !== false && options.store !== 'memory',
  })
  const heartbeatMs = tabOptions.heartbeatMs ?? 2_000

  let status: ClientStatus = 'offline'
  let ownerStatus: ClientStatus = 'offline'
  let lastError: LastwordError | null = null
  let closed = false
  let manualOffline = options.autoConnect === false
  let transportOpen = false
  let connection = 0 // bumped on every connect and disconnect: a late `lw:hello` handler checks it
  /** The last connection attempt failed: `offline` until one succeeds (the transport keeps trying). */
  let connectFailed = false
  let helloed = false
  let reconnectAttempts = 0
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null
  let heartbeat: ReturnType<typeof setInterval> | null = null
  let driver: SyncDriver | null = null
  let pending = -1
  let pendingChain: Promise<void> = Promise.resolve()
  const live = new Set<LiveQuery>()
  const remoteTabs = new Map<string, { keys: Map<string, ScopeQuery>; seen: number }>()
  const syncWaiters = new Map<string, { resolve: () => void; reject: (error: LastwordError) => void }>()

  function report(error: LastwordError): void {
    lastError = error
    emitter.emit('error', error)
  }

  function assertOpen(): void {
    if (closed) throw new LastwordError('CLOSED', `The client "${name}" is closed; create a new one`)
  }

  function updateStatus(): void {
    const next: ClientStatus = closed
      ? 'offline'
      : !coordinator.isOwner
        ? ownerStatus
        : !transportOpen
          ? 'offline'
          : !helloed
            ? connectFailed
              ? 'offline'
              : 'connecting'
            : driver?.busy() === true
              ? 'syncing'
              : 'online'
    if (next === status) return
    status = next
    emitter.emit('status', next)
    if (coordinator.isOwner) coordinator.post({ type: 'status', from: node, status: next })
  }

  // ---- Connection ----------------------------------------------------------------------------

  const handlers: TransportHandlers = {
    async handshake(): Promise<Handshake> {
      const handshake: Handshake = { protocolVersion: PROTOCOL_VERSION, clientId: node }
      const token = options.auth?.token
      try {
        const value = typeof token === 'function' ? await token() : token
        if (value !== undefined) handshake.token = value
      } catch (error) {
        report(new LastwordError('UNAUTHENTICATED', 'The auth.token function failed; connecting without a token', undefined, { cause: error }))
      }
      return handshake
    },
    onConnect() {
      connection++
      connectFailed = false
      updateStatus()
    },
    onDisconnect(_reason, retrying) {
      connection++
      helloed = false
      driver?.setConnected(false)
      // A server that shut down (or dropped us) disconnects the socket itself: reconnect with backoff.
      if (!retrying) reconnectLater()
      updateStatus()
    },
    onConnectError(error, retrying) {
      lastError = error
      connectFailed = true
      updateStatus()
      if (error.code !== 'TRANSIENT') report(error)
      if (retrying) return
      if (error.code === 'PROTOCOL_MISMATCH') {
        closeTransport() // upgrading the app is the only fix
        updateStatus()
        return
      }
      reconnectLater()
    },
    onHello(raw) {
      void handleHello(raw, connection)
    },
    onChanges(event) {
      const dropRealtime = options._testHooks?.dropRealtime
      if (dropRealtime !== undefined) {
        const parsed = realtimeEventSchema.safeParse(event)
        if (parsed.success && dropRealtime(parsed.data)) return
      }
      driver?.onRealtime(event)
    },
  }

  async function handleHello(raw: unknown, at: number): Promise<void> {
    const parsed = helloSchema.safeParse(raw)
    if (!parsed.success) {
      report(new LastwordError('BAD_REQUEST', 'The server sent a malformed lw:hello'))
      return
    }
    const hello = parsed.data
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      report(new LastwordError('PROTOCOL_MISMATCH', `The server speaks lastword protocol ${hello.protocolVersion}, this client ${PROTOCOL_VERSION}; upgrade`))
      closeTransport()
      updateStatus()
      return
    }
    const c = await ready
    if (at !== connection || !transportOpen) return
    c.learn(hello.serverTime, c.local())
    if (appTables === undefined) {
      const received: TableDescriptor[] = []
      for (const table of hello.tables) {
        try {
          received.push(assertTableDescriptor(table))
        } catch (error) {
          report(toLastwordError(error))
        }
      }
      tables.clear()
      for (const table of received) tables.set(table.name, table)
      try {
        await store.transaction('readwrite', async (tx) => {
          await tx.putMeta('tables', received)
          await c.persist(tx)
        })
      } catch (error) {
        report(toLastwordError(error))
      }
      if (at !== connection || !transportOpen) return
      coordinator.post({ type: 'tables', from: node })
    }
    activatePending()
    helloed = true
    reconnectAttempts = 0
    driver?.setConnected(true)
    updateStatus()
  }

  /** Closes the transport and opens it again after a backoff delay (for what the transport does not retry itself). */
  function reconnectLater(): void {
    if (closed || manualOffline || !transportOpen) return
    closeTransport()
    const delay = Math.min(retry.maxMs, retry.baseMs * retry.factor ** reconnectAttempts++) * (1 - retry.jitter * Math.random())
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null
      openTransport()
      updateStatus()
    }, delay)
  }

  function openTransport(): void {
    if (transport === null || closed || manualOffline || transportOpen || !coordinator.isOwner || driver === null) return
    transportOpen = true
    transport.open(handlers)
    updateStatus()
  }

  function closeTransport(): void {
    if (reconnectTimer !== null) clearTimeout(reconnectTimer)
    reconnectTimer = null
    if (!transportOpen) return
    transportOpen = false
    connection++
    connectFailed = false
    helloed = false
    transport?.close()
    driver?.setConnected(false)
  }

  // ---- Startup ---------------------------------------------------------------------------------

  const ready: Promise<ClientClock> = (async () => {
    const meta = await store.transaction('readonly', async (tx) => ({
      clock: await tx.getMeta('clock'),
      offset: await tx.getMeta('offset'),
      tables: await tx.getMeta('tables'),
    }))
    if (appTables === undefined && meta.tables !== undefined) for (const t of meta.tables) tables.set(t.name, t)
    const clock = createClientClock({ node, clock: options.clock, last: meta.clock ?? null, offset: meta.offset })
    driver = createSyncDriver({
      store,
      clock,
      transport: transport ?? { open() {}, close() {}, request: () => Promise.reject(new LastwordError('TRANSIENT', 'No transport')) },
      descriptor: (table) => tables.get(table),
      settings: {
        debounceMs: options.syncDebounceMs ?? 50,
        retry,
        requestTimeoutMs,
        pageSize: options.pageSize,
        maxPushPerRequest: Math.min(options.maxPushPerRequest ?? 1_000, WIRE_BOUNDS.maxPushRecords),
        maxEntriesPerRequest: 5_000,
      },
      runtime: createDefaultRuntime(),
      onReport(syncReport) {
        emitter.emit('sync', syncReport)
        coordinator.post({ type: 'report', from: node, report: syncReport })
      },
      onProgress: (progress) => emitter.emit('progress', progress),
      onError: report,
      // `uids` (the records written, when known) makes live queries patch rather than re-read.
      onChanged(changed: string[], uids?: readonly string[]) {
        dataChanged(changed, uids)
        postChanged(changed, false, uids)
      },
      onActivity: updateStatus,
    })
    return clock
  })()
  ready.catch((error: unknown) => report(toLastwordError(error)))

  void ready.then(
    () => {
      if (closed) return
      coordinator.onMessage(onTabMessage)
      coordinator.start(onOwnerChange)
      heartbeat = setInterval(onHeartbeat, heartbeatMs)
      ;(heartbeat as { unref?: () => void }).unref?.()
      if (!coordinator.isOwner) postScopes()
      activatePending()
      refreshPending()
    },
    () => undefined,
  )

  // ---- Tabs --------------------------------------------------------------------------------------

  function onOwnerChange(owner: boolean): void {
    if (owner) {
      coordinator.post({ type: 'owner', from: node })
      openTransport()
    } else {
      closeTransport()
      for (const [tab] of remoteTabs) dropRemoteTab(tab)
      postScopes()
    }
    updateStatus()
  }

  function onTabMessage(message: TabMessage): void {
    const owner = coordinator.isOwner
    switch (message.type) {
      case 'changed':
        dataChanged(message.tables, uidsOf(message))
        if (owner && message.dirty) driver?.afterWrite(message.tables)
        break
      case 'scopes':
        if (owner) setRemoteScopes(message.from, message.scopes)
        break
      case 'status':
        if (!owner) {
          ownerStatus = message.status as ClientStatus
          updateStatus()
        }
        break
      case 'report':
        if (!owner) emitter.emit('sync', message.report as SyncReport)
        break
      case 'sync':
        if (owner && driver !== null) {
          driver.syncAll().then(
            () => coordinator.post({ type: 'synced', from: node, id: message.id, error: null }),
            (error: unknown) => {
              const lw = toLastwordError(error)
              coordinator.post({ type: 'synced', from: node, id: message.id, error: { code: lw.code, message: lw.message } })
            },
          )
        }
        break
      case 'synced': {
        const waiter = syncWaiters.get(message.id)
        if (waiter === undefined) break
        syncWaiters.delete(message.id)
        if (message.error === null) waiter.resolve()
        else waiter.reject(toLastwordError(new LastwordError('TRANSIENT', message.error.message)))
        break
      }
      case 'owner':
        if (!owner) {
          postScopes()
          ownerStatus = 'offline'
          updateStatus()
        }
        break
      case 'cleared':
        dataChanged([...new Set([...live].map((q) => q.table))])
        break
      case 'tables':
        void reloadTables()
        break
      case 'released':
        break
    }
  }

  function postScopes(): void {
    if (closed || coordinator.isOwner) return
    const scopes = [...live].flatMap((q) => (q.compiled === null || q.closed ? [] : [{ table: q.table, where: q.compiled.where as Record<string, unknown> }]))
    coordinator.post({ type: 'scopes', from: node, scopes })
  }

  function setRemoteScopes(tab: string, scopes: { table: string; where: Record<string, unknown> }[]): void {
    if (driver === null || !Array.isArray(scopes)) return
    const known = remoteTabs.get(tab)
    const next = new Map<string, ScopeQuery>()
    for (const { table, where } of scopes) {
      const descriptor = tables.get(table)
      if (descriptor === undefined) continue
      try {
        const q = compileQuery(descriptor, where as Where)
        next.set(q.key, { table: q.table, key: q.key, scope: q.scope, where: q.where })
      } catch {
        // Another tab's filter that this one cannot read (descriptors differ): its tab reports it.
      }
    }
    const holder = `tab:${tab}`
    for (const key of known?.keys.keys() ?? []) if (!next.has(key)) driver.release(key, holder)
    for (const [key, query] of next) if (known?.keys.has(key) !== true) driver.acquire(query, holder)
    remoteTabs.set(tab, { keys: next, seen: Date.now() })
    if (known === undefined) coordinator.post({ type: 'status', from: node, status })
  }

  function dropRemoteTab(tab: string): void {
    const known = remoteTabs.get(tab)
    remoteTabs.delete(tab)
    for (const key of known?.keys.keys() ?? []) driver?.release(key, `tab:${tab}`)
  }

  function onHeartbeat(): void {
    if (closed) return
    if (!coordinator.isOwner) {
      postScopes()
      return
    }
    const stale = Date.now() - heartbeatMs * 3
    for (const [tab, info] of remoteTabs) if (info.seen < stale) dropRemoteTab(tab)
  }

  // ---- Local changes, live queries, pending count ----------------------------------------------

  /**
   * Changes not yet shown to live queries, by table: the uids written, or `null` when they are not known
   * (sync pages, realtime, another tab's sync) and queries of the table must read it in full.
   */
  const changes = new Map<string, Set<string> | null>()
  let refreshing = false
  let refreshQueued = false
  /** Full reads of stale queries wait for this timer: a macrotask, and the throttle below. */
  let rereadTimer: ReturnType<typeof setTimeout> | null = null
  let rereadDue = false
  /** No full read of stale queries starts before this (ms): each is followed by a pause as long as it took. */
  let rereadAfter = 0

  /** Local data changed: `uids` are the records written in those tables, when known. */
  function dataChanged(changed: Iterable<string>, uids?: Iterable<string>): void {
    const known = uids === undefined ? null : [...uids]
    for (const table of changed) {
      const pending = changes.get(table)
      if (known === null || (known.length > MAX_PATCH_UIDS && pending === undefined)) changes.set(table, null)
      else if (pending === undefined) changes.set(table, new Set(known))
      else if (pending !== null) {
        for (const uid of known) pending.add(uid)
        if (pending.size > MAX_PATCH_UIDS) changes.set(table, null)
      }
    }
    scheduleRefresh()
    refreshPending()
  }

  function postChanged(changed: string[], dirty: boolean, uids?: readonly string[]): void {
    const message: ChangedMessage = { type: 'changed', from: node, tables: changed, dirty }
    if (uids !== undefined) message.uids = [...uids]
    coordinator.post(message)
  }

  /** The uids of another tab's 'changed' message, if it sent them (tabs running older code do not). */
  function uidsOf(message: ChangedMessage): string[] | undefined {
    const { uids } = message
    return Array.isArray(uids) && uids.every((u) => typeof u === 'string') ? uids : undefined
  }

  function scheduleRefresh(): void {
    if (refreshing || refreshQueued || closed) return
    refreshQueued = true
    queueMicrotask(() => void flushRefresh())
  }

  function liveOf(table?: string): LiveQuery[] {
    return [...live].filter((q) => (table === undefined || q.table === table) && q.compiled !== null && !q.closed)
  }

  /**
   * Brings live queries up to date. Known uids are read alone and patched into each query's result
   * (a write costs its records, not the table); a query sees no callback, and nothing is read for it
   * beyond those records, unless its rows changed. Changes of unknown records mark queries stale; a
   * stale query is read in full once its table's pending changes are folded in, at most once per
   * macrotask, and after a full read the next waits as long as it took: a paged sync faster than the
   * reads costs a read per pause, not one per page. First results are read at once.
   */
  async function flushRefresh(): Promise<void> {
    refreshQueued = false
    refreshing = true
    try {
      while (!closed) {
        if (changes.size > 0) {
          const [table, uids] = changes.entries().next().value as [string, Set<string> | null]
          changes.delete(table)
          await patchTable(table, uids)
          continue
        }
        const first = liveOf().filter((q) => q.result === null && !q.suspect)
        const stale = rereadDue ? liveOf().filter((q) => q.stale) : []
        if (first.length === 0 && stale.length === 0) break
        if (stale.length > 0) rereadDue = false
        const started = Date.now()
        for (const table of new Set([...first, ...stale].map((q) => q.table))) {
          await rereadTable(table, [...first, ...stale].filter((q) => q.table === table))
        }
        if (stale.length > 0) rereadAfter = Date.now() + (Date.now() - started)
      }
    } catch (error) {
      if (!closed) report(toLastwordError(error))
    } finally {
      refreshing = false
      const stale = liveOf().some((q) => q.stale)
      if (!stale) rereadDue = false
      if (closed) {
        // Nothing more will run.
      } else if (changes.size > 0 || liveOf().some((q) => q.result === null && !q.suspect) || rereadDue) scheduleRefresh()
      else if (stale && rereadTimer === null) {
        rereadTimer = setTimeout(
          () => {
            rereadTimer = null
            rereadDue = true
            scheduleRefresh()
          },
          Math.max(0, rereadAfter - Date.now()),
        )
      }
      if (!refreshQueued) for (const resolve of settleWaiters.splice(0)) resolve()
    }
  }

  const settleWaiters: (() => void)[] = []

  /**
   * Brings every live query up to date now, without waiting for the re-read throttle: `sync()` resolves
   * once the callbacks have seen what it pulled.
   */
  async function settleLive(): Promise<void> {
    if (closed) return
    if (rereadTimer !== null) clearTimeout(rereadTimer)
    rereadTimer = null
    rereadDue = true
    const settled = new Promise<void>((resolve) => settleWaiters.push(resolve))
    scheduleRefresh()
    await settled
  }

  /** Folds one table's pending change into its queries: patches for known uids, else marks them stale. */
  async function patchTable(table: string, uids: Set<string> | null): Promise<void> {
    const queries = liveOf(table)
    for (const q of queries) if (uids === null || q.suspect) q.stale = true
    // A query waiting for a full read (or its first) gets these changes from that read.
    const patchable = queries.filter((q) => q.result !== null && !q.stale)
    if (uids === null || uids.size === 0 || patchable.length === 0) return
    const wanted = [...uids]
    let records: (StoredRecord | undefined)[]
    try {
      records = await store.transaction('readonly', (tx) => Promise.all(wanted.map((uid) => tx.getRecord(table, uid))))
    } catch (error) {
      failed(patchable, error)
      return
    }
    const changed = wanted.map((uid, i) => ({ uid, record: records[i] }))
    for (const q of patchable) {
      if (q.closed || q.result === null || q.stale) continue
      const outcome = q.result.patch(changed)
      if (outcome === 'reread') q.stale = true
      else if (outcome === 'changed') deliver(q)
    }
  }

  /** Reads a table once for the queries that need it in full, and refreshes each. */
  async function rereadTable(table: string, queries: LiveQuery[]): Promise<void> {
    for (const q of queries) q.stale = false // changes from now on are folded in after this read
    // Only selected records are copied out of the store (the memory store filters before copying).
    const filter = (record: StoredRecord): boolean => queries.some((q) => q.compiled !== null && isSelected(q.compiled, record))
    let records: StoredRecord[]
    try {
      records = await store.transaction('readonly', (tx) => tx.scanRecords(table, { filter }))
    } catch (error) {
      failed(queries, error)
      return
    }
    for (const q of queries) {
      if (q.closed || q.compiled === null) continue
      const result = q.result ?? createLiveResult(q.compiled)
      result.reset(records)
      q.result = result
      q.suspect = false
      deliver(q)
    }
  }

  /** Calls a query's callback if its rows differ from those it last got. */
  function deliver(q: LiveQuery): void {
    if (q.closed || q.result === null || !q.result.differs()) return
    const rows = q.result.take<never>()
    try {
      q.callback(rows)
    } catch (error) {
      report(new LastwordError('INTERNAL', `A subscribe callback on "${q.table}" threw`, undefined, { cause: error }))
    }
  }

  /** A refresh failed: the rows shown stay until the next change of the table, which re-reads it. */
  function failed(queries: LiveQuery[], error: unknown): void {
    for (const q of queries) {
      q.stale = false
      q.suspect = true
    }
    if (!closed) report(toLastwordError(error))
  }

  let pendingQueued = false

  function refreshPending(): void {
    // One count waiting is enough: it runs after every change made before it starts.
    if (pendingQueued) return
    pendingQueued = true
    pendingChain = pendingChain
      .then(async () => {
        pendingQueued = false
        if (closed) return
        const count = await store.transaction('readonly', (tx) => tx.countDirty())
        if (count !== pending) {
          pending = count
          emitter.emit('pending', count)
        }
      })
      .catch(() => undefined)
  }

  function localChange(table: string, uid: string): void {
    dataChanged([table], [uid])
    postChanged([table], true, [uid])
    if (coordinator.isOwner) driver?.afterWrite([table])
  }

  function activate(q: LiveQuery): void {
    if (q.closed || q.acquired || driver === null) return
    if (q.compiled === null) {
      const descriptor = tables.get(q.table)
      if (descriptor === undefined) return // waits for the server's descriptors
      try {
        q.compiled = compileQuery(descriptor, q.where, q.options)
      } catch (error) {
        q.closed = true
        live.delete(q)
        report(toLastwordError(error))
        return
      }
    }
    const { compiled } = q
    q.acquired = true
    driver.acquire({ table: compiled.table, key: compiled.key, scope: compiled.scope, where: compiled.where }, q.id)
    scheduleRefresh() // its first result: a full read
    postScopes()
  }

  function activatePending(): void {
    for (const q of [...live]) activate(q)
  }

  /**
   * Reads the descriptors another tab stored (the owner takes them from the server's hello); a tab
   * that does not own the connection never receives a hello itself.
   */
  async function reloadTables(): Promise<void> {
    if (appTables !== undefined || closed) return
    try {
      const stored = await store.transaction('readonly', (tx) => tx.getMeta('tables'))
      if (stored === undefined) return
      tables.clear()
      for (const table of stored) tables.set(table.name, table)
      activatePending()
    } catch (error) {
      report(toLastwordError(error))
    }
  }

  /** The descriptor of a table, reloading the stored descriptors once if it is unknown. */
  async function loadDescriptor(table: string): Promise<TableDescriptor> {
    if (!tables.has(table)) await reloadTables()
    return descriptorOf(table)
  }

  // ---- Table handles ----------------------------------------------------------------------------

  function descriptorOf(table: string): TableDescriptor {
    const descriptor = tables.get(table)
    if (descriptor === undefined) {
      throw new LastwordError(
        'UNKNOWN_TABLE',
        tables.size === 0
          ? `Table "${table}" is not known yet: pass \`tables\` to createSyncClient, or connect to the server once`
          : `Table "${table}" is not synced; known: ${[...tables.keys()].join(', ')}`,
        { table },
      )
    }
    return descriptor
  }

  async function write(table: string, uid: string, make: (local: StoredRecord | undefined, stamp: () => Stamp) => StoredRecord): Promise<void> {
    assertOpen()
    const c = await ready
    assertOpen()
    try {
      await store.transaction('readwrite', async (tx) => {
        const local = await tx.getRecord(table, uid)
        // A write must win over the state it was made on, even if that state came from another tab
        // (its own writer) whose stamps this clock has not seen: advance past it first.
        if (local !== undefined) c.receive(versionOf(local))
        await tx.putRecord(make(local, () => c.next()))
        await c.persist(tx)
      })
    } catch (error) {
      const lw = toLastwordError(error)
      // Storage failures are the app's to know about even if the caller swallows the rejection (D01).
      if (lw.code === 'QUOTA_EXCEEDED' || lw.code === 'INTERNAL') report(lw)
      throw lw
    }
    localChange(table, uid)
  }

  function createHandle<Row extends object>(table: string): TableHandle<Row> {
    return {
      name: table,
      async create(input) {
        assertOpen()
        const c = await ready
        const descriptor = await loadDescriptor(table)
        const { uid: given, ...values } = (isPlainObject(input) ? input : {}) as Record<string, unknown>
        if (!isPlainObject(input)) throw new LastwordError('INVALID_VALUE', `A row of "${table}" must be an object`)
        const uid = given === undefined ? uuidv7(c.now()) : assertUid(given)
        const row = normalizeWrite(descriptor, values, null)
        await write(table, uid, (local, stamp) => {
          if (local !== undefined && local.deleted_at === null) {
            throw new LastwordError('INVALID_UID', `"${table}" already has a record "${uid}"; update it instead`, { uid })
          }
          const s = stamp()
          // Over a tombstone, a later create brings the record back (R5); the server knows the uid then.
          return { table, uid, row, created_at: s, updated_at: s, deleted_at: null, dirty: true, acknowledged: local?.acknowledged ?? false }
        })
        return uid
      },
      async update(uid, patch) {
        assertOpen()
        await ready
        const descriptor = await loadDescriptor(table)
        assertUid(uid)
        normalizeWrite(descriptor, patch as Record<string, unknown>, null, true) // bad input fails before any transaction
        await write(table, uid, (local, stamp) => {
          if (local === undefined || !isLive(local)) throw notFound(table, uid)
          const row = normalizeWrite(descriptor, patch as Record<string, unknown>, local.row)
          const { rejected: _cleared, ...rest } = local
          return { ...rest, row, updated_at: stamp(), dirty: true }
        })
      },
      async delete(uid) {
        assertOpen()
        await ready
        assertUid(uid)
        await write(table, uid, (local, stamp) => {
          if (local === undefined || !isLive(local)) throw notFound(table, uid)
          // The row stays as the tombstone's last image: scopes match the delete by it.
          const { rejected: _cleared, ...rest } = local
          return { ...rest, deleted_at: stamp(), dirty: true }
        })
      },
      async findUnique(uid) {
        assertOpen()
        await ready
        const record = await store.transaction('readonly', (tx) => tx.getRecord(table, uid))
        return record !== undefined && isLive(record) ? toReadRow<Row>(record) : null
      },
      async findMany(where = {}, queryOptions = {}) {
        assertOpen()
        await ready
        if (!tables.has(table)) await reloadTables()
        if (tables.size === 0) return [] // nothing can be stored before the descriptors are known
        const query = compileQuery(descriptorOf(table), where, queryOptions)
        const records = await store.transaction('readonly', (tx) => tx.scanRecords(table))
        return runQuery<Row>(query, records)
      },
      subscribe(where, callback, queryOptions = {}) {
        assertOpen()
        if (typeof callback !== 'function') throw new LastwordError('BAD_REQUEST', 'subscribe needs a callback')
        const q: LiveQuery = {
          id: `q:${randomSubscriptionId()}`,
          table,
          where,
          options: queryOptions,
          callback: callback as (rows: ReadRow<never>[]) => void,
          compiled: null,
          result: null,
          stale: false,
          suspect: false,
          acquired: false,
          closed: false,
        }
        const descriptor = tables.get(table)
        // With descriptors at hand a bad filter throws here; otherwise it is reported when they arrive.
        if (descriptor !== undefined) q.compiled = compileQuery(descriptor, where, queryOptions)
        live.add(q)
        activate(q)
        return () => {
          if (q.closed) return
          q.closed = true
          live.delete(q)
          if (q.acquired && q.compiled !== null) driver?.release(q.compiled.key, q.id)
          postScopes()
        }
      },
      async record(uid) {
        assertOpen()
        await ready
        return (await store.transaction('readonly', (tx) => tx.getRecord(table, uid))) ?? null
      },
    }
  }

  const handles = new Map<string, TableHandle<object>>()

  return {
    name,
    clientId: node,
    get status() {
      return status
    },
    get lastError() {
      return lastError
    },
    get isOwner() {
      return coordinator.isOwner
    },
    store,
    table<Row extends object = RowValues>(table: string): TableHandle<Row> {
      assertSafeKey(table, 'table name')
      let handle = handles.get(table)
      if (handle === undefined) handles.set(table, (handle = createHandle<object>(table)))
      return handle as unknown as TableHandle<Row>
    },
    async sync() {
      assertOpen()
      await ready
      if (coordinator.isOwner) {
        if (driver === null) return
        await driver.syncAll()
        await settleLive()
        return
      }
      const id = randomSubscriptionId()
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          syncWaiters.delete(id)
          reject(new LastwordError('TRANSIENT', 'The tab that syncs for this database did not answer'))
        }, requestTimeoutMs)
        syncWaiters.set(id, {
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
          reject: (error) => {
            clearTimeout(timer)
            reject(error)
          },
        })
        coordinator.post({ type: 'sync', from: node, id })
      })
    },
    async pendingCount() {
      assertOpen()
      await ready
      return store.transaction('readonly', (tx) => tx.countDirty())
    },
    on: (event, listener) => emitter.on(event, listener),
    disconnect() {
      manualOffline = true
      closeTransport()
      updateStatus()
    },
    connect() {
      assertOpen()
      manualOffline = false
      openTransport()
      updateStatus()
    },
    async ready() {
      await ready
    },
    async close() {
      if (closed) return
      await shutdown()
      if (ownsStore) await store.close()
    },
    async clear() {
      assertOpen()
      await ready.catch(() => undefined)
      coordinator.post({ type: 'cleared', from: node })
      await shutdown()
      await store.clear()
      if (ownsStore) await store.close()
    },
  }

  async function shutdown(): Promise<void> {
    closeTransport()
    closed = true
    updateStatus()
    if (heartbeat !== null) clearInterval(heartbeat)
    driver?.stop()
    if (rereadTimer !== null) clearTimeout(rereadTimer)
    rereadTimer = null
    for (const q of live) q.closed = true
    live.clear()
    for (const resolve of settleWaiters.splice(0)) resolve()
    for (const waiter of syncWaiters.values()) waiter.reject(new LastwordError('CLOSED', 'The client is closed'))
    syncWaiters.clear()
    await coordinator.close()
    emitter.clear()
  }
}

function notFound(table: string, uid: string): LastwordError {
  return new LastwordError('NOT_FOUND', `"${table}" has no record "${uid}" (or it was deleted)`, { table, uid })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Validates a local write (core's `normalizeRow`) and returns the full row. Only writable columns may be
 * written: server-owned ones (`writable: false`) are `READ_ONLY_COLUMN`, kept from `base` on update and
 * `null` until the server fills them on create. `keysOnly` checks the keys and values present, not the
 * missing ones (an update's patch).
 */
function normalizeWrite(table: TableDescriptor, input: Record<string, unknown>, base: RowValues | null, keysOnly = false): RowValues {
  if (!isPlainObject(input)) throw new LastwordError('INVALID_VALUE', `A row of "${table.name}" must be an object`)
  for (const key of Object.keys(input)) {
    assertSafeKey(key, `row of "${table.name}"`)
    const column = getColumn(table, key)
    if (!column.writable) {
      throw new LastwordError('READ_ONLY_COLUMN', `Column "${key}" of "${table.name}" is set by the server; leave it out`, { table: table.name, column: key })
    }
  }
  const writable: TableDescriptor = { name: table.name, columns: table.columns.filter((c) => c.writable) }
  if (keysOnly) {
    const present: TableDescriptor = { name: table.name, columns: writable.columns.filter((c) => Object.prototype.hasOwnProperty.call(input, c.name)) }
    return normalizeRow(present, input)
  }
  const merged: Record<string, unknown> = {}
  if (base !== null) for (const column of writable.columns) merged[column.name] = base[column.name] ?? null
  for (const key of Object.keys(input)) merged[key] = input[key]
  const normalized = normalizeRow(writable, merged, { missing: 'error' })
  const out: RowValues = {}
  for (const column of table.columns) out[column.name] = column.writable ? normalized[column.name] : (base?.[column.name] ?? null)
  return out
}
