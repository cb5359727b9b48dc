/**
 * Real clients (socket.io, fake-indexeddb, real time) against a server in a child process that crashes:
 * the harness of T06 and D06. Each client's transport records the wire history (pushed records, the
 * outcomes that reached the client) in the same form as the fault network, so the same checkers judge.
 */
import 'fake-indexeddb/auto'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { versionOf, type WireRecord } from '@lastword/core'
import { createSocketTransport, createSyncClient, type SyncClient, type TableHandle, type Transport } from '@lastword/client'
import { checkAcknowledged, checkLocalWrites, checkLww, readServerState, type ServerState, type Violation } from './checkers.js'
import type { ItemRow } from './cluster.js'
import type { PushedRecord, WireEvent } from './fault-network.js'
import { History } from './history.js'
import type { Rng } from './random.js'
import { LISTS } from './schema.js'

function summarize(record: WireRecord): PushedRecord {
  const version = record.deleted_at ?? (record.updated_at > record.created_at ? record.updated_at : record.created_at)
  return { uid: record.uid, version, deleted: record.deleted_at !== null, row: record.row === null ? null : { ...record.row } }
}

let nextRequest = 1

/** Wraps a transport to record pushes, outcomes and acknowledgements; `inFlight` lists unanswered pushes. */
export function recordingTransport(inner: Transport, name: string, events: WireEvent[]): Transport & { inFlight: Map<number, PushedRecord[]> } {
  const inFlight = new Map<number, PushedRecord[]>()
  return {
    inFlight,
    open: (handlers) => inner.open(handlers),
    close: () => inner.close(),
    async request(event, payload, timeoutMs) {
      if (event !== 'lw:sync' && event !== 'lw:push') return inner.request(event, payload, timeoutMs)
      const id = nextRequest++
      // `lw:sync` pushes (protocol 6's way) and `lw:push` units (protocol 7): the records, in order.
      const sent =
        event === 'lw:sync'
          ? ((payload as { push?: WireRecord[] }).push ?? [])
          : ((payload as { units?: { groups?: { records?: WireRecord[] }[] }[] }).units ?? []).flatMap((u) => (u.groups ?? []).flatMap((g) => g.records ?? []))
      const pushed = sent.map(summarize)
      if (pushed.length > 0) {
        events.push({ type: 'push', client: name, request: id, at: Date.now(), records: pushed })
        inFlight.set(id, pushed)
      }
      try {
        const reply = await inner.request(event, payload, timeoutMs)
        type Outcome = { uid: string; status: string; error?: { code?: string } }
        const r = reply as { ok?: boolean; data?: { outcomes?: Outcome[]; units?: { outcomes?: Outcome[] }[] } }
        const outcomes = event === 'lw:push' ? (r.data?.units ?? []).flatMap((u) => u.outcomes ?? []) : (r.data?.outcomes ?? [])
        if (pushed.length > 0 && r.ok === true) {
          for (const outcome of outcomes) {
            const record = pushed.find((p) => p.uid === outcome.uid)
            if (record === undefined) continue
            const status = outcome.status as 'applied' | 'superseded' | 'rejected'
            events.push({ type: 'outcome', client: name, request: id, at: Date.now(), uid: outcome.uid, status, ...(outcome.error?.code === undefined ? {} : { code: outcome.error.code }), record })
            if (status === 'applied') events.push({ type: 'acked', client: name, request: id, at: Date.now(), record })
          }
        }
        return reply
      } finally {
        inFlight.delete(id)
      }
    },
  }
}

export interface RealClient {
  name: string
  client: SyncClient
  items: TableHandle<ItemRow>
  transport: ReturnType<typeof recordingTransport>
  seq: number
}

/** Resolves once `check` stops throwing (real time); fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000, intervalMs = 25): Promise<T> {
  const start = Date.now()
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  }
}

export class RealCluster {
  readonly events: WireEvent[] = []
  readonly history = new History(() => Date.now())
  readonly clients: RealClient[] = []
  private writing = false
  private writers: Promise<void>[] = []

  constructor(
    private url: string,
    private readonly rng: Rng,
  ) {}

  setUrl(url: string): void {
    this.url = url
  }

  addClient(options: { pageSize?: number } = {}): RealClient {
    const name = `r${this.clients.length}`
    const transport = recordingTransport(createSocketTransport({ url: this.url, reconnectionDelay: 50, reconnectionDelayMax: 300 }), name, this.events)
    const client = createSyncClient({
      name,
      transport,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      tabs: false,
      retry: { baseMs: 50, maxMs: 500 },
      requestTimeoutMs: 5_000,
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    })
    const rc: RealClient = { name, client, items: client.table<ItemRow>('items'), transport, seq: 0 }
    rc.client.table('items').subscribe({}, () => undefined)
    this.clients.push(rc)
    return rc
  }

  /** One write: create (40 %), update or delete a random local row; recorded with its stamp. */
  async writeOnce(c: RealClient): Promise<void> {
    const roll = this.rng.next()
    const rows = roll < 0.4 ? [] : await c.items.findMany({})
    c.seq++
    const value = `${c.name}:${c.seq}`
    if (rows.length === 0 || roll < 0.4) {
      const inv = this.history.invoke(c.name, 'create', { value })
      try {
        const uid = await c.items.create({ list: this.rng.pick(LISTS), title: value, done: this.rng.chance(0.5), n: this.rng.int(10) })
        const r = await c.items.record(uid)
        inv.ok({ uid, ...(r !== null && r.row?.['title'] === value ? { stamp: versionOf(r) } : {}) })
      } catch (error) {
        inv.fail(error)
      }
      return
    }
    const uid = this.rng.pick(rows).uid
    if (roll < 0.9) {
      const inv = this.history.invoke(c.name, 'update', { uid, value })
      try {
        await c.items.update(uid, { title: value, list: this.rng.pick(LISTS) })
        const r = await c.items.record(uid)
        inv.ok(r !== null && r.row?.['title'] === value && r.deleted_at === null ? { stamp: versionOf(r) } : {})
      } catch (error) {
        inv.fail(error)
      }
    } else {
      const inv = this.history.invoke(c.name, 'delete', { uid })
      try {
        await c.items.delete(uid)
        const r = await c.items.record(uid)
        inv.ok(r !== null && r.deleted_at !== null ? { stamp: versionOf(r) } : {})
      } catch (error) {
        inv.fail(error)
      }
    }
  }

  /** Every client writes every `meanMs` (exponential) until {@link stopWriting}. */
  startWriting(meanMs: number): void {
    if (this.writing) return
    this.writing = true
    this.writers = this.clients.map(async (c) => {
      while (this.writing) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.round(-Math.log(1 - this.rng.next()) * meanMs))))
        if (!this.writing) break
        await this.writeOnce(c)
      }
    })
  }

  async stopWriting(): Promise<void> {
    this.writing = false
    await Promise.all(this.writers)
    this.writers = []
  }

  /** Unanswered pushes of every client, by uid: what a crash may have caught mid-flight. */
  inFlight(): PushedRecord[] {
    return this.clients.flatMap((c) => [...c.transport.inFlight.values()].flat())
  }

  /** I9 and the final read: every queue drains and every client syncs once more (real time). */
  async drain(timeoutMs = 60_000): Promise<Violation[]> {
    try {
      await eventually(async () => {
        for (const c of this.clients) {
          const pending = await c.client.pendingCount()
          if (pending !== 0 || (c.client.status !== 'online' && c.client.status !== 'syncing')) throw new Error(`${c.name}: ${pending} pending, ${c.client.status}`)
        }
      }, timeoutMs)
      for (let round = 0; round < 2; round++) for (const c of this.clients) await eventually(() => c.client.sync(), timeoutMs, 100)
      return []
    } catch (error) {
      return [{ invariant: 'I9', message: `queues did not drain within ${timeoutMs} ms after the last restart: ${error instanceof Error ? error.message : String(error)}` }]
    }
  }

  /** I1 (every client = the server), I2 (acknowledged and local writes), I3. */
  async check(raw: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>): Promise<Violation[]> {
    const server: ServerState = await readServerState(raw, 'items')
    const out: Violation[] = []
    const want = [...server.rows.values()]
      .map((r) => ({ uid: String(r['uid']), list: r['list'], title: r['title'], done: r['done'] === true || r['done'] === 1, n: r['n'] ?? null }))
      .sort((a, b) => (a.uid < b.uid ? -1 : 1))
    for (const c of this.clients) {
      const got = (await c.items.findMany({})).map((r) => ({ uid: r.uid, list: r.list, title: r.title, done: r.done, n: r.n ?? null })).sort((a, b) => (a.uid < b.uid ? -1 : 1))
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        const gs = new Set(got.map((r) => JSON.stringify(r)))
        const ws = new Set(want.map((r) => JSON.stringify(r)))
        out.push({
          invariant: 'I1',
          message: `${c.name}: ${got.length} rows, the server ${want.length}; missing ${JSON.stringify(want.filter((r) => !gs.has(JSON.stringify(r))).slice(0, 3))} extra ${JSON.stringify(got.filter((r) => !ws.has(JSON.stringify(r))).slice(0, 3))}`,
        })
      }
    }
    out.push(...checkAcknowledged(this.events, server))
    out.push(...checkLocalWrites(this.history, this.events, server))
    out.push(...checkLww(this.events, server, ['list', 'title', 'done', 'n'], { unanswered: true }))
    return out
  }

  async close(): Promise<void> {
    this.writing = false
    await Promise.all(this.clients.map((c) => c.client.close().catch(() => undefined)))
  }
}
