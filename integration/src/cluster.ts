/**
 * A simulated deployment: the real server (engine on a real Drizzle database) and 2–10 real clients on
 * fake-indexeddb, connected by the fault network, all on virtual time. Operations record the history;
 * `heal()` checks liveness (I9) and `check()` the safety invariants (I1–I4, I7).
 */
import 'fake-indexeddb/auto'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { versionOf, type TableDescriptor } from '@lastword/core'
import { createSyncClient, type SyncClient, type TableHandle, type TabOptions } from '@lastword/client'
import { idbConnection } from '@lastword/client/testing'
import type { Authorize, Principal } from '@lastword/server'
import type { EngineOptions } from '@lastword/server/testing'
import {
  readServerState,
  type ClientState,
  type Violation,
} from './checkers.js'
import { checkCluster, healCluster, type CheckOptions } from './cluster-check.js'
import { Monitor } from './monitor.js'
import type { TestDatabase } from './databases.js'
import { PERFECT, createFaultNetwork, type FaultNetwork, type FaultTransport, type LinkFaults } from './fault-network.js'
import { History } from './history.js'
import { createRng, seedGlobalRandomness, type Rng } from './random.js'
import { LISTS, SCOPES } from './schema.js'
import { CONSOLE_ERRORS, createInMemoryServer, type InMemoryServer, type KitOptions } from './server-kit.js'
import { installVirtualTime, type VirtualTime } from './virtual-time.js'

export interface ItemRow {
  list: string
  title: string
  done: boolean
  n: number | null
}

export interface SimClient {
  /** The client's name on the network (its link). */
  readonly name: string
  /** Its IndexedDB database name (two tabs share one). */
  readonly dbName: string
  readonly indexedDB: IDBFactory
  readonly client: SyncClient
  readonly items: TableHandle<ItemRow>
  readonly transport: FaultTransport
  readonly skewMs: number
  seq: number
  /** Scope index (into SCOPES) → the live query's unsubscribe. */
  readonly subscriptions: Map<number, () => void>
  /** Taken offline through the API (`client.disconnect()`). */
  offline: boolean
  closed: boolean
}

export interface ClusterOptions {
  label: string
  seed: number
  openDatabase: () => Promise<TestDatabase>
  faults?: LinkFaults
  authorize?: Authorize
  hooks?: EngineOptions<Principal>['hooks']
  /** Client settings (virtual ms). */
  client?: { requestTimeoutMs?: number; retryMaxMs?: number; pageSize?: number }
  /** How `items` merges concurrent writes (row T25: `'field'`, checked per field by field-checkers.ts). */
  merge?: 'row' | 'field'
  /** The server's change feed (row T24: other writers reach the sockets) and the virtual epoch to start at. */
  server?: Pick<KitOptions, 'feed' | 'onFeedDelivery'>
  startAt?: number
}

export const COLUMNS = ['list', 'title', 'done', 'n'] as const

export class Cluster {
  readonly clients: SimClient[] = []
  readonly history: History
  readonly monitor: Monitor
  private restoreRandom: () => void
  private closed = false

  private constructor(
    readonly options: ClusterOptions,
    readonly vt: VirtualTime,
    readonly rng: Rng,
    readonly database: TestDatabase,
    private current: InMemoryServer,
    readonly network: FaultNetwork,
    restoreRandom: () => void,
  ) {
    this.history = new History(() => vt.now())
    this.monitor = new Monitor(network.events)
    this.restoreRandom = restoreRandom
  }

  /** The server the network serves now (a restart replaces it). */
  get server(): InMemoryServer {
    return this.current
  }

  /**
   * Stops the server, runs `whileDown` on its database at rest (a restore, an operator's step), and starts
   * a new server on it; every connection breaks and the clients reconnect to the new one.
   */
  async restartServer(whileDown: (database: TestDatabase) => Promise<void> = async () => undefined): Promise<void> {
    await this.vt.await(this.current.close(), 60_000, 'server.close()')
    await this.vt.await(whileDown(this.database), 60_000, 'the server\'s downtime')
    this.current = await this.vt.await(Cluster.serverFor(this.options, this.database, this.vt), 60_000, 'the server\'s start')
    this.network.setServer(this.current)
  }

  private static serverFor(options: ClusterOptions, database: TestDatabase, vt: VirtualTime): Promise<InMemoryServer> {
    return createInMemoryServer({
      database,
      now: () => vt.now(),
      logger: CONSOLE_ERRORS,
      ...(options.authorize === undefined ? {} : { authorize: options.authorize }),
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
      ...(options.merge === 'field' ? { tables: { items: { table: database.items, merge: 'field' as const } } } : {}),
      ...options.server,
    })
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const rng = createRng(options.seed)
    const database = await options.openDatabase()
    const vt = installVirtualTime(options.startAt)
    const restoreRandom = seedGlobalRandomness(rng.fork())
    try {
      const server = await Cluster.serverFor(options, database, vt)
      const network = createFaultNetwork({ server, rng: rng.fork(), faults: options.faults ?? PERFECT, now: () => vt.now() })
      return new Cluster(options, vt, rng, database, server, network, restoreRandom)
    } catch (error) {
      restoreRandom()
      vt.uninstall()
      await database.close()
      throw error
    }
  }

  get descriptor(): TableDescriptor {
    const d = this.server.engine.tables.find((t) => t.name === 'items')
    if (d === undefined) throw new Error('no items table')
    return d
  }

  /**
   * A new client with its own IndexedDB (or `indexedDB` and `dbName` of another: a second tab, or the
   * same browser profile reopened); `skewMs` offsets its clock from the server's.
   */
  addClient(options: { skewMs?: number; name?: string; dbName?: string; indexedDB?: IDBFactory; tabs?: TabOptions | false; pageSize?: number } = {}): SimClient {
    const name = options.name ?? `c${this.clients.length}`
    const dbName = options.dbName ?? name
    const indexedDB = options.indexedDB ?? new IDBFactory()
    const skewMs = options.skewMs ?? 0
    const transport = this.network.transport(name)
    const settings = this.options.client ?? {}
    const pageSize = options.pageSize ?? settings.pageSize
    const client = createSyncClient({
      name: dbName,
      transport,
      indexedDB,
      IDBKeyRange,
      tables: [...this.server.engine.tables],
      tabs: options.tabs ?? false,
      clock: { now: () => this.vt.now() + skewMs },
      retry: { baseMs: 100, maxMs: settings.retryMaxMs ?? 2_000, jitter: 0.5 },
      requestTimeoutMs: settings.requestTimeoutMs ?? 5_000,
      ...(pageSize === undefined ? {} : { pageSize }),
    })
    const sim: SimClient = { name, dbName, indexedDB, client, items: client.table<ItemRow>('items'), transport, skewMs, seq: 0, subscriptions: new Map(), offline: false, closed: false }
    this.clients.push(sim)
    return sim
  }

  private nextValue(c: SimClient): string {
    c.seq++
    return `${c.name}:${c.seq}`
  }

  /** The stamp a completed local write left (its record's version), if the record still shows it. */
  private async stampOf(c: SimClient, uid: string, value: string | null): Promise<string | undefined> {
    const r = await c.items.record(uid)
    if (r === null) return undefined
    if (value === null ? r.deleted_at !== null : r.deleted_at === null && r.row?.['title'] === value) return versionOf(r)
    return undefined
  }

  async create(c: SimClient, row: Partial<ItemRow> = {}): Promise<string | null> {
    const value = this.nextValue(c)
    const inv = this.history.invoke(c.name, 'create', { value })
    try {
      const uid = await c.items.create({
        list: row.list ?? this.rng.pick(LISTS),
        title: value,
        done: row.done ?? this.rng.chance(0.5),
        n: row.n !== undefined ? row.n : this.rng.chance(0.2) ? null : this.rng.int(10),
      })
      const stamp = await this.stampOf(c, uid, value)
      inv.ok({ uid, ...(stamp === undefined ? {} : { stamp }) })
      return uid
    } catch (error) {
      inv.fail(error)
      return null
    }
  }

  /** Updates a uid (default: a random live one the client holds): new title, maybe a new list/done/n. */
  async update(c: SimClient, uid?: string, patch?: Partial<ItemRow>): Promise<void> {
    const target = uid ?? (await this.pickLocal(c))
    if (target === null) return
    const value = this.nextValue(c)
    const inv = this.history.invoke(c.name, 'update', { uid: target, value })
    const p: Partial<ItemRow> = patch ?? {}
    if (patch === undefined) {
      if (this.rng.chance(0.4)) p.list = this.rng.pick(LISTS)
      if (this.rng.chance(0.3)) p.done = this.rng.chance(0.5)
      if (this.rng.chance(0.3)) p.n = this.rng.chance(0.2) ? null : this.rng.int(10)
    }
    try {
      await c.items.update(target, { ...p, title: value })
      const stamp = await this.stampOf(c, target, value)
      inv.ok(stamp === undefined ? {} : { stamp })
    } catch (error) {
      inv.fail(error)
    }
  }

  async remove(c: SimClient, uid?: string): Promise<void> {
    const target = uid ?? (await this.pickLocal(c))
    if (target === null) return
    const inv = this.history.invoke(c.name, 'delete', { uid: target })
    try {
      await c.items.delete(target)
      const stamp = await this.stampOf(c, target, null)
      inv.ok(stamp === undefined ? {} : { stamp })
    } catch (error) {
      inv.fail(error)
    }
  }

  private async pickLocal(c: SimClient): Promise<string | null> {
    const rows = await c.items.findMany({})
    if (rows.length === 0) return null
    return this.rng.pick(rows).uid
  }

  async sync(c: SimClient): Promise<boolean> {
    const inv = this.history.invoke(c.name, 'sync')
    try {
      await c.client.sync()
      inv.ok()
      return true
    } catch (error) {
      inv.fail(error)
      return false
    }
  }

  subscribe(c: SimClient, scope: number): void {
    if (c.subscriptions.has(scope)) return
    const inv = this.history.invoke(c.name, 'subscribe', { value: String(scope) })
    c.subscriptions.set(scope, c.items.subscribe(SCOPES[scope] as Record<string, never>, () => undefined))
    inv.ok()
  }

  unsubscribe(c: SimClient, scope: number): void {
    const stop = c.subscriptions.get(scope)
    if (stop === undefined) return
    const inv = this.history.invoke(c.name, 'unsubscribe', { value: String(scope) })
    stop()
    c.subscriptions.delete(scope)
    inv.ok()
  }

  goOffline(c: SimClient): void {
    if (c.offline) return
    this.history.invoke(c.name, 'offline').ok()
    c.offline = true
    c.client.disconnect()
  }

  goOnline(c: SimClient): void {
    if (!c.offline) return
    this.history.invoke(c.name, 'online').ok()
    c.offline = false
    c.client.connect()
  }

  async clientState(c: SimClient): Promise<ClientState> {
    return c.client.store.transaction('readonly', async (tx) => ({ records: await tx.scanRecords('items'), scopes: await tx.listScopes('items') }))
  }

  /** Samples every store into the monitor (I4, I7). */
  async sample(): Promise<void> {
    const at = this.vt.now()
    for (const c of this.clients) if (!c.closed) this.monitor.observeClient(c.name, await this.clientState(c), at)
    const server = await readServerState((q, p) => this.database.raw(q, p), 'items')
    // The server's sample is dated when its read is done: what it holds was committed by then (the
    // monitor dates tombstones by it against a purge's cutoff).
    this.monitor.observeServer(server, this.vt.now())
  }

  /**
   * Heals every fault and brings every client online; then (I9) every dirty queue must drain within
   * `boundMs` of virtual time, with no 11 s stretch without progress; then each client syncs once more
   * (the final read).
   */
  async heal(boundMs = 60_000): Promise<Violation[]> {
    return healCluster(this, boundMs)
  }

  /**
   * I1 (every kept scope of every client), I2 (acknowledged and local writes; nothing created vanished;
   * no stamp stored beyond the drift bound), I3, I5 (one logged change per accepted version), no record
   * left refused, and what the monitor flagged. `purged`: the server purged tombstones during the run.
   */
  async check(options: CheckOptions = {}): Promise<Violation[]> {
    return checkCluster(this, options)
  }

  /**
   * Kills a client the hard way (a tab crash): its link breaks, its IndexedDB connection is closed under
   * it (aborting the transactions in flight), and it is dropped. Its database stays for {@link reopen}.
   */
  async crash(c: SimClient): Promise<void> {
    this.network.partition(c.name)
    try {
      const db = await idbConnection(c.client.store)
      db.close()
    } catch {
      // Not open: nothing in flight.
    }
    c.closed = true
    await this.vt.await(c.client.close().catch(() => undefined), 60_000, `${c.name}.close()`)
  }

  /** A new client instance on a crashed client's database (the tab reopened); it keeps its scopes. */
  reopen(c: SimClient): SimClient {
    this.network.heal(c.name)
    const next = this.addClient({ name: c.name, dbName: c.dbName, indexedDB: c.indexedDB, skewMs: c.skewMs })
    // addClient appended it: replace the crashed one in place.
    this.clients.pop()
    this.clients[this.clients.indexOf(c)] = next
    next.seq = c.seq
    for (const scope of c.subscriptions.keys()) this.subscribe(next, scope)
    return next
  }

  /** Everything known about one uid: the server's state, the client's record, and its wire history. */
  async explain(c: SimClient, uid: string, server: Awaited<ReturnType<typeof readServerState>>): Promise<string> {
    const record = await c.items.record(uid)
    const wire = this.network.events
      .filter(
        (e) =>
          (e.type === 'push' && e.records.some((r) => r.uid === uid)) ||
          (e.type !== 'push' && 'record' in e && e.record.uid === uid) ||
          ((e.type === 'realtime' || e.type === 'page') && e.client === c.name && (e.rows.includes(uid) || e.tombstones.includes(uid) || e.evict.includes(uid))) ||
          (process.env['LW_EXPLAIN_REQUESTS'] === '1' && (e.type === 'request' || e.type === 'page') && e.client === c.name) ||
          (e.type === 'connect' && e.client === c.name) ||
          (e.type === 'disconnect' && e.client === c.name),
      )
      .map((e) => {
        if (e.type === 'push') {
          const r = e.records.find((x) => x.uid === uid)
          return `t${e.at % 1_000_000} ${e.client} push#${e.request} ${r?.version}${r?.deleted === true ? ' (delete)' : ` ${JSON.stringify(r?.row)}`}`
        }
        if (e.type === 'outcome') return `t${e.at % 1_000_000} ${e.client} #${e.request} ${e.status}${e.code === undefined ? '' : ` ${e.code}`}`
        if (e.type === 'acked') return `t${e.at % 1_000_000} ${e.client} #${e.request} acked`
        if (e.type === 'page') return `t${e.at % 1_000_000} ${e.client} page #${e.request} ${e.mode}: ${e.evict.includes(uid) ? 'evict' : e.tombstones.includes(uid) ? `tombstone ${e.versions[uid] ?? ''}` : `row ${e.versions[uid] ?? ''}`} → ${e.checkpoint ?? 'no checkpoint'}`
        if (e.type === 'request') return `t${e.at % 1_000_000} ${e.client} request #${e.request} ${e.where} ${e.full ? `full after ${e.cursor ?? '∅'}` : (e.checkpoint ?? '∅')}`
        if (e.type === 'connect') return `t${e.at % 1_000_000} ${e.client} connected`
        if (e.type === 'disconnect') return `t${e.at % 1_000_000} ${e.client} disconnected (${e.reason})`
        if (e.type === 'realtime') return `t${e.at % 1_000_000} ${e.client} realtime rev ${e.rev}: ${e.evict.includes(uid) ? 'evict' : e.tombstones.includes(uid) ? `tombstone ${e.versions[uid] ?? ''}` : `row ${e.versions[uid] ?? ''}`}`
        return ''
      })
    const history = this.history.entries.filter((e) => e.uid === uid && e.type !== 'invoke').map((e) => `t${e.at % 1_000_000} ${e.process} ${e.f} ${e.type}${e.value === undefined ? '' : ` ${e.value}`}${e.stamp === undefined ? '' : `@${e.stamp}`}`)
    const meta = server.meta.get(uid)
    const log = await this.database.raw(`SELECT rev, before FROM lastword_changes WHERE tbl = 'items' AND uid = ${this.database.dialect === 'sqlite' ? '?' : '$1'} ORDER BY rev`, [uid])
    history.push(`changes: ${log.map((l) => `rev ${String(l['rev'])} before ${typeof l['before'] === 'string' ? ((JSON.parse(l['before']) as { list?: string }).list ?? '?') : 'none'}`).join(', ')}`)
    return `explain ${uid} for ${c.name}: server ${meta === undefined ? 'none' : `${meta.version}${meta.deleted ? ' deleted' : ''} ${JSON.stringify(server.rows.get(uid) ?? null)}`}; client ${record === null ? 'none' : `${versionOf(record)} dirty=${record.dirty} ack=${record.acknowledged}${record.deleted_at === null ? '' : ' deleted'} ${JSON.stringify(record.row)}`}\n    history: ${history.join(' | ')}\n    wire: ${wire.join(' | ')}`
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      for (const c of this.clients) {
        if (c.closed) continue
        c.closed = true
        await this.vt.await(c.client.close(), 60_000, `${c.name}.close()`).catch(() => undefined)
      }
      await this.vt.await(this.server.close(), 60_000, 'server.close()').catch(() => undefined)
    } finally {
      this.restoreRandom()
      this.vt.uninstall()
      await this.database.close()
    }
  }
}
