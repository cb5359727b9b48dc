/**
 * PouchDB's client side: a PouchDB on the memory adapter replicating with the express-pouchdb server
 * through `db.sync(remote)` — one-shot for each sync, `live: true, retry: true` for realtime —
 * default `batch_size` (100) or a given one.
 */
import { makeClientActor, type BenchClient, type ClientOptions } from '../lib/client-actor.js'
import type { Item } from '../lib/data.js'
import { PouchDB, type Doc, type PouchDb, type PouchSync } from './pouch-common.js'

let seq = 0

async function createClient(id: string, options: ClientOptions): Promise<BenchClient> {
  const local = new PouchDB(`c${id}x${process.pid}x${seq++}`, { adapter: 'memory' } as never)
  const remote = new PouchDB(options.url)
  const opts = options.batchSize ? { batch_size: options.batchSize } : {}
  let live: PouchSync | undefined
  let changes: PouchSync | undefined
  const oneShot = async () => {
    await local.sync(remote, opts)
  }
  const revsOf = async (ids: string[]) => {
    const res = await local.allDocs({ keys: ids })
    const m = new Map<string, string>()
    for (const r of res.rows) if (r.value) m.set(r.key, r.value.rev)
    return m
  }
  return {
    connectAndSync: oneShot,
    async goOffline() {
      live?.cancel()
      live = undefined
    },
    resync: oneShot,
    async upsert(items: Item[]) {
      const revs = await revsOf(items.map((x) => x.uid))
      await local.bulkDocs(
        items.map(({ uid, ...rest }) => {
          const rev = revs.get(uid)
          return rev ? { _id: uid, _rev: rev, ...rest } : { _id: uid, ...rest }
        }),
      )
    },
    async remove(uids: string[]) {
      const revs = await revsOf(uids)
      await local.bulkDocs(uids.filter((u) => revs.has(u)).map((u) => ({ _id: u, _rev: revs.get(u)!, _deleted: true })))
    },
    count: async () => (await local.info()).doc_count,
    async live(onRow) {
      if (!changes) {
        changes = local.changes({ since: 'now', live: true, include_docs: true })
        changes.on('change', (c: { id: string; deleted?: boolean; doc?: { title?: unknown } }) => onRow(c.id, c.deleted ? null : ((c.doc?.title as string | undefined) ?? null)))
      }
      if (!live) live = local.sync(remote, { live: true, retry: true, ...opts })
    },
    async close() {
      changes?.cancel()
      live?.cancel()
      await local.destroy()
    },
  }
}

export function createActor() {
  return makeClientActor(createClient)
}
