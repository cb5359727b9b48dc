/**
 * The generic client side of every system (lastword, RxDB, PouchDB): a set of client replicas in one
 * process, keyed by id, driven through the same steps. Each system supplies a {@link BenchClient}.
 * Times are taken here, in the client's process, with performance.now().
 */
import { makeItem, uidOf, type Item } from './data.js'

export interface ClientOptions {
  /** The URL (through the counting proxy) of the server. */
  url: string
  /** Replication batch size (peers), or page size (lastword); undefined = the system's default. */
  batchSize?: number
  /** Local storage flavour, system-specific ('memory', 'dexie', 'idb'). */
  storage?: string
  /** The old way: every sync reconciles the whole scope (the checkpoint is dropped first). */
  forceFull?: boolean
}

export interface BenchClient {
  /** Connects (first time or again) and resolves once in sync with the server. */
  connectAndSync(): Promise<void>
  /** Drops the connection; local writes keep working. */
  goOffline(): Promise<void>
  /** While online and with nothing pending: one sync, resolved when done. */
  resync(): Promise<void>
  /** The old way: from now on every sync reconciles the whole scope (checkpoint dropped first). */
  setForceFull?(on: boolean): void
  upsert(items: Item[]): Promise<void>
  remove(uids: string[]): Promise<void>
  count(): Promise<number>
  /** Keeps the scope live and calls back for every row that arrives from elsewhere. */
  live(onRow: (uid: string, title: string | null) => void): Promise<void>
  close(): Promise<void>
}

export type ClientFactory = (id: string, options: ClientOptions) => Promise<BenchClient>

export function makeClientActor(factory: ClientFactory) {
  const clients = new Map<string, BenchClient>()
  const get = (id: string): BenchClient => {
    const c = clients.get(id)
    if (!c) throw new Error(`no client ${id}`)
    return c
  }
  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now()
    await fn()
    return performance.now() - t0
  }
  return {
    async open(id: string, options: ClientOptions) {
      clients.set(id, await factory(id, options))
      return null
    },
    initial: (id: string) => timed(() => get(id).connectAndSync()),
    online: (id: string) => timed(() => get(id).connectAndSync()),
    offline: async (id: string) => {
      await get(id).goOffline()
      return null
    },
    resync: (id: string) => timed(() => get(id).resync()),
    setForceFull: (id: string, on: boolean) => {
      get(id).setForceFull?.(on)
      return null
    },
    /** Local writes (not timed by the scenario): update records `indexes` to `version`. */
    async update(id: string, indexes: number[], version: number) {
      await get(id).upsert(indexes.map((i) => makeItem(i, version)))
      return null
    },
    async create(id: string, start: number, count: number, space: number) {
      const items: Item[] = []
      for (let i = 0; i < count; i++) items.push(makeItem(start + i, 0, space))
      await get(id).upsert(items)
      return null
    },
    async remove(id: string, indexes: number[]) {
      await get(id).remove(indexes.map((i) => uidOf(i)))
      return null
    },
    count: (id: string) => get(id).count(),
    /**
     * Realtime latency: `a` writes one record, `b` (live) sees it; `samples` times, one after another.
     * Returns the latencies in ms.
     */
    async realtime(a: string, b: string, samples: number, timeoutMs = 5_000): Promise<number[]> {
      const ca = get(a)
      const cb = get(b)
      let waiting: { uid: string; tag: string; resolve: () => void } | undefined
      await cb.live((uid, title) => {
        if (waiting && uid === waiting.uid && title !== null && title.includes(waiting.tag)) {
          const w = waiting
          waiting = undefined
          w.resolve()
        }
      })
      await ca.live(() => {})
      await new Promise((r) => setTimeout(r, 200))
      const out: number[] = []
      for (let s = 0; s < samples; s++) {
        const i = (s * 7919) % 1000
        const version = 1_000 + s
        const item = makeItem(i, version)
        const arrived = new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`realtime sample ${s} did not arrive in ${timeoutMs} ms`)), timeoutMs)
          waiting = {
            uid: item.uid,
            tag: ` v${version} `,
            resolve: () => {
              clearTimeout(t)
              resolve()
            },
          }
        })
        const t0 = performance.now()
        await ca.upsert([item])
        await arrived
        out.push(performance.now() - t0)
      }
      return out
    },
    /** Push throughput: every listed client connects at once and syncs what it wrote offline. */
    pushAll: (ids: string[]) => timed(() => Promise.all(ids.map((id) => get(id).connectAndSync()))),
    async close(id: string) {
      await get(id).close()
      clients.delete(id)
      return null
    },
    async closeAll() {
      for (const c of clients.values()) await c.close().catch(() => {})
      clients.clear()
      return null
    },
  }
}
