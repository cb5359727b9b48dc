/**
 * Row T30's deployment: the real server (engine and transport, server-kit.ts) on a `lists`/`todos` pair
 * with a real foreign key (relational-schema.ts), and 2–4 real clients on fake-indexeddb over the fault
 * network, all on virtual time (as T01's cluster.ts). What the checks need is recorded on the way: every
 * `lw:push` as its units (atomic or not, each record's table and pushed row) with the answer's outcomes,
 * every `edit` event a client gave its app, every client transaction and whether a later local write took
 * one of its records out of it while it was still unacknowledged (SPEC.md U3), and every local refusal.
 */
import 'fake-indexeddb/auto'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import type { WireRecord } from '@lastword/core'
import { createSyncClient, type EditEvent, type SyncClient, type TableHandle } from '@lastword/client'
import { PERFECT, createFaultNetwork, type FaultNetwork, type FaultTransport } from './fault-network.js'
import { createRng, seedGlobalRandomness, type Rng } from './random.js'
import type { ListRow, RelationalDatabase, TodoRow } from './relational-schema.js'
import { CONSOLE_ERRORS, createInMemoryServer, type InMemoryServer } from './server-kit.js'
import { installVirtualTime, type VirtualTime } from './virtual-time.js'

/** The scopes a client may hold: both tables whole, and one on the child table only (`tag: 'x'`). */
export const REL_SCOPES: ReadonlyArray<{ table: 'lists' | 'todos'; where: Record<string, unknown> }> = [
  { table: 'lists', where: {} },
  { table: 'todos', where: {} },
  { table: 'todos', where: { tag: 'x' } },
]

export interface RelClient {
  readonly name: string
  readonly client: SyncClient
  readonly lists: TableHandle<ListRow>
  readonly todos: TableHandle<TodoRow>
  seq: number
  /** Scope index (into REL_SCOPES) → the live query's unsubscribe. */
  readonly subscriptions: Map<number, () => void>
  offline: boolean
  /** Every `edit` event the app was given. */
  readonly edits: EditEvent[]
}

/** One record of a pushed unit, with its answer. */
export interface PushedUnitRecord {
  table: string
  uid: string
  deleted: boolean
  row: Record<string, unknown> | null
  status?: 'applied' | 'superseded' | 'rejected'
  code?: string
  details?: Record<string, unknown>
}

export interface PushedUnit {
  client: string
  at: number
  atomic: boolean
  records: PushedUnitRecord[]
  answered: boolean
  /** Judged by the per-command checks (relational-checks.ts, `checkUnits`). */
  checked: boolean
}

/** A client transaction of creates: a new parent with children (either order), children of a held parent, or both (mixed). */
export interface TxRecord {
  client: string
  kind: 'new-parent' | 'children' | 'mixed'
  /** The parent whose deletion elsewhere refuses it: the held one (children, mixed), else the new one. */
  parent: string
  /** The list it creates, if any. */
  newList: string | null
  uids: string[]
  /** A later local write of one of its records (or its parent's delete) while one was still unacknowledged (U3). */
  split: boolean
}

export interface RelClusterOptions {
  label: string
  seed: number
  open: () => Promise<RelationalDatabase>
}

export class RelCluster {
  readonly clients: RelClient[] = []
  readonly units: PushedUnit[] = []
  readonly transactions: TxRecord[] = []
  /** Every parent uid a client created (acknowledged or not). */
  readonly parents = new Set<string>()
  readonly notes: string[] = []
  private closed = false

  private constructor(
    readonly options: RelClusterOptions,
    readonly rel: RelationalDatabase,
    readonly vt: VirtualTime,
    readonly rng: Rng,
    readonly server: InMemoryServer,
    readonly network: FaultNetwork,
    private readonly restoreRandom: () => void,
  ) {}

  static async start(options: RelClusterOptions): Promise<RelCluster> {
    const rng = createRng(options.seed)
    const rel = await options.open()
    // From the wall clock: the database's capture triggers stamp the cascades its foreign key runs (ON
    // DELETE) by the database's own clock, which virtual time must not be behind (or those stamps would
    // come from its future, and a client's clock that received one would be refused CLOCK_AHEAD).
    const vt = installVirtualTime(Date.now())
    const restoreRandom = seedGlobalRandomness(rng.fork())
    try {
      const server = await vt.await(createInMemoryServer({ database: rel.database, tables: rel.tables, now: () => vt.now(), logger: CONSOLE_ERRORS }), 60_000, 'server start')
      const network = createFaultNetwork({ server, rng: rng.fork(), faults: PERFECT, now: () => vt.now() })
      return new RelCluster(options, rel, vt, rng, server, network, restoreRandom)
    } catch (error) {
      restoreRandom()
      vt.uninstall()
      await rel.database.close()
      throw error
    }
  }

  /** Raw SQL on the server's database (a side connection on PostgreSQL). */
  raw(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> {
    return this.vt.await(this.rel.database.raw(sql, params), 60_000, 'raw query')
  }

  /** Records `lw:push` units and their answers, as the client sent and got them. */
  private recorder(name: string, inner: FaultTransport): FaultTransport {
    const units = this.units
    const now = (): number => this.vt.now()
    return {
      name,
      get connected() {
        return inner.connected
      },
      open: (handlers) => inner.open(handlers),
      close: () => inner.close(),
      async request(event, payload, timeoutMs) {
        if (event !== 'lw:push') return inner.request(event, payload, timeoutMs)
        const body = JSON.parse(JSON.stringify(payload)) as { units: Array<{ atomic: boolean; groups: Array<{ table: string; records: WireRecord[] }> }> }
        const sent: PushedUnit[] = body.units.map((u) => ({
          client: name,
          at: now(),
          atomic: u.atomic,
          answered: false,
          checked: false,
          records: u.groups.flatMap((g) => g.records.map((r) => ({ table: g.table, uid: r.uid, deleted: r.deleted_at !== null, row: r.row === null ? null : { ...r.row } }))),
        }))
        units.push(...sent)
        const reply = await inner.request(event, payload, timeoutMs)
        const r = reply as { ok?: boolean; data?: { units?: Array<{ outcomes?: Array<{ uid: string; status: string; error?: { code?: string; details?: Record<string, unknown> } }> }> } }
        if (r?.ok === true) {
          sent.forEach((unit, u) => {
            const outcomes = r.data?.units?.[u]?.outcomes ?? []
            unit.answered = true
            unit.records.forEach((rec, i) => {
              const o = outcomes[i]
              if (o === undefined || o.uid !== rec.uid) return
              rec.status = o.status as PushedUnitRecord['status']
              if (o.error?.code !== undefined) rec.code = o.error.code
              if (o.error?.details !== undefined) rec.details = o.error.details
            })
          })
        }
        return reply
      },
    }
  }

  addClient(): RelClient {
    const name = `c${this.clients.length}`
    const transport = this.recorder(name, this.network.transport(name))
    const client = createSyncClient({
      name,
      transport,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      tables: [...this.server.engine.tables],
      tabs: false,
      clock: { now: () => this.vt.now() },
      retry: { baseMs: 100, maxMs: 2_000, jitter: 0.5 },
      requestTimeoutMs: 5_000,
    })
    const c: RelClient = { name, client, lists: client.table<ListRow>('lists'), todos: client.table<TodoRow>('todos'), seq: 0, subscriptions: new Map(), offline: false, edits: [] }
    client.on('edit', (event) => c.edits.push(event))
    this.clients.push(c)
    return c
  }

  value(c: RelClient): string {
    c.seq++
    return `${c.name}:${c.seq}`
  }

  subscribe(c: RelClient, scope: number): void {
    if (c.subscriptions.has(scope)) return
    const s = REL_SCOPES[scope] as (typeof REL_SCOPES)[number]
    const handle = s.table === 'lists' ? c.lists : c.todos
    c.subscriptions.set(scope, handle.subscribe(s.where as Record<string, never>, () => undefined))
  }

  unsubscribe(c: RelClient, scope: number): void {
    c.subscriptions.get(scope)?.()
    c.subscriptions.delete(scope)
  }

  goOffline(c: RelClient): void {
    if (c.offline) return
    c.offline = true
    c.client.disconnect()
  }

  goOnline(c: RelClient): void {
    if (!c.offline) return
    c.offline = false
    c.client.connect()
  }

  async sync(c: RelClient): Promise<boolean> {
    try {
      await this.vt.await(c.client.sync(), 120_000, `${c.name}.sync()`)
      return true
    } catch {
      return false
    }
  }

  /** The live parents a client holds, by uid order. */
  async liveParents(c: RelClient): Promise<string[]> {
    return (await this.vt.await(c.lists.findMany({}))).map((r) => r.uid).sort()
  }

  /**
   * Before a local write of `uid` (or of a parent whose delete reaches its children): marks this client's
   * transactions it touches as split while one of their records is still unacknowledged or dirty (U3).
   */
  async noteRewrite(c: RelClient, uid: string): Promise<void> {
    for (const tx of this.transactions) {
      if (tx.client !== c.name || tx.split || !(tx.uids.includes(uid) || tx.parent === uid)) continue
      for (const u of tx.uids) {
        const record = await this.vt.await(c.client.store.transaction('readonly', (t) => t.getRecord(u === tx.newList ? 'lists' : 'todos', u)))
        if (record === undefined || record.dirty || !record.acknowledged) tx.split = true
      }
    }
  }

  /**
   * Heals and drains (I9 as T01 judges it: every dirty queue empty within `boundMs` of virtual time, no
   * 11 s without progress), then every client syncs twice (the final reads). Returns what failed.
   */
  async heal(boundMs = 120_000): Promise<string[]> {
    for (const c of this.clients) this.goOnline(c)
    let best = Number.POSITIVE_INFINITY
    let progressAt = this.vt.now()
    let stalled = false
    const drained = await this.vt.runUntil(
      async () => {
        let total = 0
        for (const c of this.clients) total += await c.client.pendingCount()
        if (total < best) {
          best = total
          progressAt = this.vt.now()
        }
        if (total > 0 && this.vt.now() - progressAt > 11_000) return (stalled = true)
        return total === 0 && this.clients.every((c) => c.client.status === 'online')
      },
      boundMs,
      250,
    )
    if (!drained || stalled) {
      const counts = await Promise.all(this.clients.map(async (c) => `${c.name}:${await c.client.pendingCount()}/${c.client.status}`))
      return [`I9: ${stalled ? 'no progress for 11 s' : `queues not drained within ${boundMs} ms`} after healing (${counts.join(' ')})`]
    }
    const out: string[] = []
    for (let round = 0; round < 2; round++) {
      for (const c of this.clients) {
        let ok = false
        for (let attempt = 0; attempt < 5 && !ok; attempt++) {
          await this.vt.runUntil(() => c.client.status === 'online' || c.client.status === 'syncing', 30_000, 50)
          ok = await this.sync(c)
        }
        if (!ok && round === 1) out.push(`I9: ${c.name}: the final sync kept failing (status ${c.client.status})`)
      }
    }
    await this.vt.runFor(500)
    await this.vt.settle()
    return out
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      for (const c of this.clients) await this.vt.await(c.client.close(), 60_000, `${c.name}.close()`).catch(() => undefined)
      await this.vt.await(this.server.close(), 60_000, 'server.close()').catch(() => undefined)
    } finally {
      this.restoreRandom()
      this.vt.uninstall()
      await this.rel.database.close()
    }
  }
}
