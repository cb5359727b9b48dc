/**
 * Test helpers of the client package. They install fake-indexeddb's globals (`fake-indexeddb/auto`) for
 * the tests that use the client's default factory; each test still gets its own database factory
 * (`newIndexedDB()`) for isolation. The store itself needs no global (test/node-host.test.ts).
 */
import 'fake-indexeddb/auto'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { LastwordError, PROTOCOL_VERSION, type Hello, type PushAnswer, type PushOutcome, type PushRequest, type RealtimeEvent, type Reply, type SyncPage, type SyncRequest, type TableDescriptor } from '@lastword/core'
import { createIdbStore, type IdbStore, type Transport, type TransportHandlers } from '../src/index.js'

export { IDBFactory, IDBKeyRange }

/** A fresh, isolated IndexedDB factory. */
export function newIndexedDB(): IDBFactory {
  return new IDBFactory()
}

/** An IndexedDB store on a factory (fresh unless given). */
export function newIdbStore(name = 'lastword:test', factory: IDBFactory = newIndexedDB()): IdbStore {
  return createIdbStore({ name, indexedDB: factory, IDBKeyRange })
}

export const todosTable: TableDescriptor = {
  name: 'todos',
  columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'done', type: 'boolean', nullable: false, writable: true },
    { name: 'priority', type: 'integer', nullable: true, writable: true },
    { name: 'due', type: 'timestamp', nullable: true, writable: true },
    { name: 'tags', type: 'json', nullable: true, writable: true },
    { name: 'tenant', type: 'text', nullable: true, writable: false },
  ],
}

export interface Todo {
  title: string
  done: boolean
  priority: number | null
  due: string | null
  tags: unknown
  tenant: string | null
}

/** A transport that never connects: the client works offline. */
export function offlineTransport(): Transport {
  return {
    open() {},
    close() {},
    request() {
      return Promise.reject(new Error('offline'))
    },
  }
}

/** Resolves once `check` stops throwing (or fails after `timeoutMs`). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5_000): Promise<T> {
  const start = Date.now()
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}

/**
 * A server scripted by the test: it answers each `lw:sync` with `handler`, and each `lw:push` through it
 * too: every group of a unit (its records of one table) becomes a push-only request of that table
 * (`push` its records, `pull: false`, `where: {}`, no checkpoint), recorded in `requests` like the others,
 * and the records' outcomes are taken from the page `handler` answers (the rest of that page is not
 * sent: `lw:push` answers outcomes only). A refusal of any group refuses the whole `lw:push`. Units are
 * not atomic here (no `UNIT_REFUSED`): test/pusher.test.ts scripts those.
 */
export interface ScriptedServer {
  transport: Transport
  /** Every `lw:sync` request, and each group of an `lw:push` as the push-only request it was answered as. */
  requests: SyncRequest[]
  /** Every `lw:push` request as sent. */
  pushes: PushRequest[]
  unsubscribes: string[]
  handler: (request: SyncRequest, index: number) => Reply<SyncPage> | Promise<Reply<SyncPage>>
  /** Connects the client and sends `lw:hello`. */
  connect(hello?: Partial<Hello>): void
  /** Drops the connection. */
  disconnect(): void
  /** Sends an `lw:changes` event; `rev`/`firstRev` default to a fresh rev past any checkpoint a test uses. */
  changes(event: Omit<RealtimeEvent, 'columns' | 'serverTime' | 'rev' | 'firstRev'> & Partial<RealtimeEvent>): void
  readonly connected: boolean
}

export const TODO_COLUMNS = todosTable.columns.map((c) => c.name)

/** The scripted server's history (database and segment): its realtime events name points of it. */
export const HISTORY = 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb'
/** A checkpoint at `rev` of that history (revs compare only within one: SPEC.md E5). */
export const checkpointAt = (rev: number, hash = '00000000000000'): string => `lw2.${HISTORY}.${rev}.${hash}`

/** A row array as pages carry it. */
export function wireRow(uid: string, created: string, updated: string, row: Partial<Todo>): unknown[] {
  return [uid, created, updated, ...TODO_COLUMNS.map((c) => (row as Record<string, unknown>)[c] ?? null)]
}

/** A page answering `request`: every pushed record applied, nothing pulled, unless overridden. */
export function page(request: SyncRequest, overrides: Partial<SyncPage> = {}): Reply<SyncPage> {
  return {
    ok: true,
    data: {
      mode: request.full !== undefined ? 'full' : 'incremental',
      receivedAt: Date.now(),
      answeredAt: Date.now(),
      outcomes: request.push.map((r) => ({ uid: r.uid, status: 'applied' as const })),
      columns: TODO_COLUMNS,
      rows: [],
      tombstones: [],
      evict: [],
      purged: [],
      erased: [],
      knownAt: null,
      push: [],
      checkpoint: 'lw1.1.00000000000000',
      hasMore: false,
      cursor: null,
      progress: { received: 0, total: null },
      ...overrides,
    },
  }
}

export function createScriptedServer(handler: ScriptedServer['handler'] = (request) => page(request)): ScriptedServer {
  let handlers: TransportHandlers | null = null
  let connected = false
  let nextRev = 1_000_000
  /** `lw:push` answered group by group through `handler`, each group as a push-only request of its table. */
  async function answerPush(push: PushRequest): Promise<Reply<PushAnswer>> {
    server.pushes.push(push)
    const answer: PushAnswer = { receivedAt: Date.now(), answeredAt: Date.now(), units: [], knownAt: null }
    for (const unit of push.units) {
      const outcomes: PushOutcome[] = []
      groups: for (const group of unit.groups) {
        const request: SyncRequest = { table: group.table, where: {}, checkpoint: null, push: group.records, pull: false }
        if (group.schemaVersion !== undefined) request.schemaVersion = group.schemaVersion
        server.requests.push(request)
        const reply = await server.handler(request, server.requests.length - 1)
        if (!reply.ok) return reply
        const byUid = new Map(reply.data.outcomes.map((o) => [o.uid, o]))
        // The answer's outcomes are in the records' order; one the page left out ends the unit's list there.
        for (const record of group.records) {
          const outcome = byUid.get(record.uid)
          if (outcome === undefined) break groups
          outcomes.push(outcome)
        }
        if (reply.data.knownAt !== null) answer.knownAt = reply.data.knownAt
      }
      answer.units.push({ outcomes })
    }
    // A reply does not arrive over a connection that dropped meanwhile.
    if (!connected) throw new LastwordError('TRANSIENT', 'disconnected before the reply')
    return { ok: true, data: answer }
  }
  const server: ScriptedServer = {
    requests: [],
    pushes: [],
    unsubscribes: [],
    handler,
    get connected() {
      return connected
    },
    transport: {
      open(h) {
        handlers = h
      },
      close() {
        if (connected) handlers?.onDisconnect('io client disconnect', false)
        connected = false
        handlers = null
      },
      async request(event, payload) {
        if (!connected) throw new LastwordError('TRANSIENT', 'offline')
        if (event === 'lw:unsubscribe') {
          server.unsubscribes.push((payload as { subscription: string }).subscription)
          return { ok: true, data: null } as never
        }
        if (event === 'lw:push') return (await answerPush(structuredClone(payload as PushRequest))) as never
        const request = structuredClone(payload as SyncRequest)
        server.requests.push(request)
        const reply = await server.handler(request, server.requests.length - 1)
        // A reply does not arrive over a connection that dropped meanwhile.
        if (!connected) throw new LastwordError('TRANSIENT', 'disconnected before the reply')
        return reply as never
      },
    },
    connect(hello = {}) {
      if (handlers === null) throw new Error('the client has not opened the transport')
      connected = true
      handlers.onConnect()
      handlers.onHello({ protocolVersion: PROTOCOL_VERSION, serverTime: Date.now(), tables: [todosTable], ...hello })
    },
    disconnect() {
      connected = false
      handlers?.onDisconnect('transport close', true)
    },
    changes(event) {
      const rev = event.rev ?? ++nextRev
      handlers?.onChanges({ columns: TODO_COLUMNS, serverTime: Date.now(), firstRev: event.firstRev ?? rev, rev, knownAt: `${HISTORY}.${rev}`, ...event })
    },
  }
  return server
}

/** Stamps for tests: `stamp(ms, node?)`. */
export function stamp(ms: number, counter = 0, node = 'ffffffffffffffff'): string {
  return `${ms.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-${node}`
}
