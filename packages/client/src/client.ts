/**
 * The client's composition root: a local copy of the scopes the app uses, readable and writable with no
 * connection, and reconciled with the server when there is one. It builds the parts and wires them —
 * each job lives in its own module (ARCHITECTURE.md, the client's module map):
 * `connection/` the connection state machine, `tables/` table handles and descriptors, `live/` live
 * queries, `tabs/` coordination between tabs, `sync/` the syncs themselves.
 */
import {
  LastwordError,
  assertSafeKey,
  assertTableDescriptor,
  toLastwordError,
  type RowValues,
  type SyncSchema,
  type TableDescriptor,
} from '@lastword/core'
import type { ClientEvents, ClientStatus, SyncClient, SyncClientOptions, TableHandle } from './client-api.js'
import type { ClockEvent } from './sync/types.js'
import { createClientClock, type ClientClock } from './clock.js'
import { createConnection } from './connection/connection.js'
import { takeHello } from './connection/hello.js'
import { deriveStatus } from './connection/machine.js'
import { buildHandshake, driverSettings, openStore } from './client-setup.js'
import { createEmitter } from './emitter.js'
import { createInstanceIds } from './ids.js'
import { createInspector } from './inspect.js'
import { createLiveQueries } from './live/live-queries.js'
import { createPendingCount } from './live/pending-count.js'
import { DEFAULT_RETRY, createDefaultRuntime, type RetryOptions, type Runtime } from './runtime.js'
import type { LocalStore, StoredRecord } from './store/types.js'
import { createSyncDriver, type SyncDriver } from './sync/driver.js'
import { createDescriptorRegistry } from './tables/descriptor-registry.js'
import { createTableHandle } from './tables/table-handle.js'
import { runTransaction } from './tables/transaction.js'
import { createTabCoordinator } from './tabs/coordinator.js'
import type { TabMessage } from './tabs/messages.js'
import { createTabSession } from './tabs/tab-session.js'
import { createSocketTransport, type Transport } from './transport.js'
import { createLog, logError } from './status/logger.js'
import { createSyncStatus } from './status/sync-status.js'
import { createRejectedEdits } from './edits/rejected-edits.js'
import { editsFromReport } from './edits/edit-events.js'
import { createStorageStatus } from './storage/storage-status.js'

export type { ClientEvents, ClientStatus, SyncClient, SyncClientOptions, TableHandle } from './client-api.js'

/**
 * Creates a sync client. Typed by the app's schema given as a type (a type-only import: no Drizzle
 * reaches the browser), with the descriptors as data so that it can write before ever connecting.
 *
 * @example
 * import type { tables } from '../server/sync-tables' // the object passed to createSyncServer
 * import descriptors from './lastword-tables.json' // written by describeTables (@lastword/server)
 *
 * const client = createSyncClient<typeof tables>({ name: 'app', url: 'https://api.example.com', tables: descriptors })
 * const todos = client.table('todos') // 'todoz' does not compile
 * const uid = await todos.create({ title: 'milk', done: false })
 * const stop = todos.subscribe({ done: false }, (rows) => render(rows), { orderBy: 'title' })
 * client.on('sync', (report) => console.log(report.table, report.pushed, report.pulled))
 * await todos.update(uid, { done: true })
 */
export function createSyncClient<S extends SyncSchema | undefined = undefined>(options: SyncClientOptions): SyncClient<S> {
  if (typeof options.name !== 'string' || options.name.length === 0) {
    throw new LastwordError('BAD_REQUEST', 'createSyncClient needs a `name` (one local database per name)')
  }
  const { name } = options
  const appClock = options.clock
  const runtime: Runtime = options.runtime ?? createDefaultRuntime(appClock === undefined ? undefined : () => appClock.now())
  const ids = createInstanceIds(runtime)
  const { node, clientId } = ids
  const ownsStore = typeof options.store !== 'object'
  const store: LocalStore = openStore(options, runtime, { replaced: () => replicaLost(), connectionLost: () => checkReplica() })
  const retry: Required<RetryOptions> = { ...DEFAULT_RETRY, ...options.retry }
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const emitter = createEmitter<ClientEvents>()
  const transport: Transport | null =
    options.transport ??
    (options.url !== undefined || options.socket !== undefined
      ? createSocketTransport({ url: options.url, socket: options.socket, reconnectionDelay: retry.baseMs, reconnectionDelayMax: retry.maxMs })
      : null)
  const tabOptions = options.tabs === false ? {} : (options.tabs ?? {})

  let status: ClientStatus = 'offline'
  let clockRefused: ClockEvent | null = null
  let lastError: LastwordError | null = null
  let closed = false
  let driver: SyncDriver | null = null

  const log = createLog(options.logger)
  const syncStatus = createSyncStatus((state) => emitter.emit('synced', state))
  const storage = createStorageStatus((event) => emitter.emit('storage', event))
  const report = (error: LastwordError): void => {
    lastError = error
    logError(log, error)
    emitter.emit('error', error)
  }
  const assertOpen = (): void => {
    if (closed) throw new LastwordError('CLOSED', `The client "${name}" is closed; create a new one`)
  }

  const registry = createDescriptorRegistry({
    appTables: options.tables?.map((t) => assertTableDescriptor(t as TableDescriptor)),
    store,
    report,
    onMigrated(migrations) {
      // Records changed (and clean ones of a table with new columns left, to come back in full): live
      // queries and other tabs re-read them.
      const tables = migrations.map((m) => m.table)
      dataChanged(tables)
      postChanged(tables, true)
      emitter.emit('schema', { kind: 'migrated', tables: migrations })
    },
  })
  const pending = createPendingCount({ store, isClosed: () => closed, onChange: (count) => emitter.emit('pending', count) })
  const live = createLiveQueries({ store, runtime, registry, driver: () => driver, report, onScopesChanged: () => tabs.postScopes() })
  const tabs = createTabSession({
    coordinator: createTabCoordinator({
      ...tabOptions,
      name,
      tab: clientId,
      store,
      runtime,
      // A private in-memory store has no other tab to coordinate with.
      enabled: options.tabs !== false && options.store !== 'memory',
    }),
    node: clientId,
    runtime,
    heartbeatMs: tabOptions.heartbeatMs ?? 2_000,
    requestTimeoutMs,
    registry,
    live,
    driver: () => driver,
    status: () => status,
    isClosed: () => closed,
    onDataChanged: (tables, uids) => dataChanged(tables, uids),
    onStatusChanged: () => updateStatus(),
    onReport(syncReport) {
      emitter.emit('sync', syncReport)
      void syncStatus.noteSynced(store)
      void editsFromReport(syncReport, store).then((events) => events.forEach((e) => emitter.emit('edit', e)), () => undefined)
    },
    reloadTables,
    onOwnerChange(owner) {
      connection.dispatch({ type: 'owner-changed', owner })
    },
  })
  const connection = createConnection({
    transport,
    runtime,
    retry,
    autoConnect: options.autoConnect !== false,
    handshake: () => buildHandshake(options, ids.handshakeId(), report),
    onHello(raw, epoch) {
      void takeHello(raw, epoch, {
        connection,
        clock: ready,
        registry,
        report,
        onTablesStored: () => tabs.post({ type: 'tables', from: clientId }),
        beforeReady: () => live.activatePending(),
      })
    },
    onChanges: (event) => driver?.onRealtime(event),
    noteError: (error) => ids.noteRefusal((lastError = error)),
    report,
    setDriverConnected: (connected) => driver?.setConnected(connected),
    onChange: () => updateStatus(),
  })

  /** The connection was closed under the store: reopen now, so a lost replica is found (and told) at once. */
  function checkReplica(): void {
    if (!closed) void store.transaction('readonly', (tx) => tx.getMeta('clock')).catch(() => undefined)
  }

  /** The local database vanished under this client: tell the app, re-read everything, resync from scratch. */
  function replicaLost(): void {
    if (closed) return
    log.warn('the local database was deleted or replaced while the client ran; resyncing from scratch')
    storage.noteLost(runtime.now())
    syncStatus.reset()
    dataChanged([...handles.keys()])
    void ready.then((clock) => store.transaction('readwrite', (tx) => clock.persist(tx))).catch(() => undefined)
    // Runs begun on the lost database fail and retry (sync/replica-guard.ts); the rest start now.
    if (tabs.isOwner && driver !== null) void driver.syncAll().catch(() => undefined)
  }

  function updateStatus(): void {
    const next = deriveStatus(connection.state, { owner: tabs.isOwner, ownerStatus: tabs.ownerStatus, syncing: driver?.busy() === true })
    if (next === status) return
    status = next
    log.info(`status ${next}`)
    emitter.emit('status', next)
    if (tabs.isOwner) tabs.post({ type: 'status', from: clientId, status: next })
  }

  /** Local data changed (here or in another tab): live queries, the pending count. */
  function dataChanged(tables: Iterable<string>, uids?: Iterable<string>, states?: ReadonlyMap<string, StoredRecord | undefined>): void {
    live.changed(tables, uids, states)
    pending.refresh()
  }

  function postChanged(tables: string[], dirty: boolean, uids?: readonly string[]): void {
    const message: Extract<TabMessage, { type: 'changed' }> = { type: 'changed', from: clientId, tables, dirty }
    if (uids !== undefined) message.uids = [...uids]
    tabs.post(message)
  }

  /** Reads the descriptors another tab stored (a follower never receives a hello itself). */
  async function reloadTables(): Promise<void> {
    if (closed) return
    if (await registry.reload()) live.activatePending()
  }

  const ready: Promise<ClientClock> = (async () => {
    const meta = await store.transaction('readonly', async (tx) => ({
      clock: await tx.getMeta('clock'),
      offset: await tx.getMeta('offset'),
      tables: await tx.getMeta('tables'),
    }))
    registry.restore(meta.tables)
    await syncStatus.restore(store)
    const clock = createClientClock({ node, clock: runtime, last: meta.clock ?? null, offset: meta.offset })
    driver = createSyncDriver({
      store,
      clock,
      transport: transport ?? { open() {}, close() {}, request: () => Promise.reject(new LastwordError('TRANSIENT', 'No transport')) },
      descriptor: (table) => registry.get(table),
      settings: driverSettings(options, retry, requestTimeoutMs),
      runtime,
      onReport(syncReport) {
        log.debug('sync completed', { table: syncReport.table, mode: syncReport.mode, pushed: syncReport.pushed, pulled: syncReport.pulled })
        emitter.emit('sync', syncReport)
        void syncStatus.noteSynced(store)
        tabs.post({ type: 'report', from: clientId, report: syncReport as unknown as Record<string, unknown> })
      },
      onProgress: (progress) => emitter.emit('progress', progress),
      onError: report,
      onClock(event) {
        clockRefused = event
        log.warn('the server refused this device clock; records re-stamped', { skewMs: event.skewMs })
        emitter.emit('clock', event)
      },
      onSchemaOutdated: (table, current) => emitter.emit('schema', { kind: 'outdated', table, current }),
      // `uids` (the records written, when known) makes live queries patch rather than re-read.
      onChanged(tables: string[], uids?: readonly string[], states?: ReadonlyMap<string, StoredRecord | undefined>) {
        dataChanged(tables, uids, states)
        postChanged(tables, false, uids)
      },
      onActivity: updateStatus,
      onEdit: (event) => emitter.emit('edit', event),
    })
    return clock
  })()
  ready.catch((error: unknown) => report(toLastwordError(error)))

  void ready.then(
    () => {
      if (closed) return
      void storage.requestPersistence(options.persistStorage === false || store.kind !== 'indexeddb' ? null : options.storageManager)
      connection.dispatch({ type: 'started' })
      tabs.start()
      live.activatePending()
      pending.refresh()
    },
    () => undefined,
  )

  const deps = {
    store,
    runtime,
    registry,
    live,
    clock: () => ready,
    assertOpen,
    reloadTables,
    // A parent's delete and the children it carried to (PD4), or a transaction's writes, are one change to every reader.
    afterWrite(tables: string[], uids: string[]) {
      dataChanged(tables, uids)
      postChanged(tables, true, uids)
      if (tabs.isOwner) driver?.afterWrite()
    },
    report,
  }
  const handles = new Map<string, TableHandle<object>>()
  const inspector = createInspector({
    name,
    clientId,
    store,
    runtime,
    clock: () => ready,
    driver: () => driver,
    status: () => status,
    isOwner: () => tabs.isOwner,
    clockRefused: () => clockRefused,
    descriptor: (table) => registry.get(table),
  })
  emitter.on('error', inspector.noteError)
  emitter.on('sync', inspector.noteSync)
  const whenOpen = async <T>(fn: () => Promise<T>): Promise<T> => {
    assertOpen()
    await ready
    return fn()
  }
  const rejectedEdits = createRejectedEdits({
    store,
    tables: () => registry.names(),
    afterRetry: (tables, uids) => deps.afterWrite(tables, uids),
    afterDiscard(table, uid) {
      dataChanged([table], [uid])
      postChanged([table], false, [uid])
      if (tabs.isOwner && driver !== null) void driver.syncAll().catch(() => undefined)
    },
  })

  async function shutdown(): Promise<void> {
    connection.dispatch({ type: 'close-requested' })
    closed = true
    updateStatus()
    driver?.stop()
    live.close()
    await tabs.close()
    emitter.clear()
  }

  const client: SyncClient = {
    name,
    clientId,
    get status() {
      return status
    },
    get lastError() {
      return lastError
    },
    get clockRefused() {
      return clockRefused
    },
    get hasSynced() {
      return syncStatus.state.hasSynced
    },
    get lastSyncedAt() {
      return syncStatus.state.lastSyncedAt
    },
    get storage() {
      return storage.state
    },
    get isOwner() {
      return tabs.isOwner
    },
    store,
    table<Row extends object = RowValues, Key extends string = 'uid'>(table: string): TableHandle<Row, never, Key> {
      assertSafeKey(table, 'table name')
      let handle = handles.get(table)
      if (handle === undefined) handles.set(table, (handle = createTableHandle<object>(table, deps)))
      return handle as unknown as TableHandle<Row, never, Key>
    },
    async sync() {
      assertOpen()
      await ready
      if (!tabs.isOwner) return tabs.requestSync()
      if (driver === null) return
      await driver.syncAll()
      await live.settle()
    },
    transaction: (fn) => runTransaction({ ...deps, maxWrites: driverSettings(options, retry, requestTimeoutMs).maxPushPerRequest }, fn as never) as never,
    rejected: (table) => whenOpen(() => rejectedEdits.list(table)),
    retry: (table, uid) => whenOpen(() => rejectedEdits.retry(table, uid)),
    discard: (table, uid) => whenOpen(() => rejectedEdits.discard(table, uid)),
    pendingCount: () => whenOpen(() => store.transaction('readonly', (tx) => tx.countDirty())),
    on: (event, listener) => emitter.on(event, listener),
    async inspect() {
      assertOpen()
      return inspector.inspect()
    },
    disconnect() {
      connection.dispatch({ type: 'disconnect-requested' })
    },
    connect() {
      assertOpen()
      connection.dispatch({ type: 'connect-requested' })
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
      tabs.post({ type: 'cleared', from: clientId })
      await shutdown()
      await store.clear()
      if (ownsStore) await store.close()
    },
  }
  return client as SyncClient<S>
}
