/**
 * RxDB's client side: an RxDatabase on the memory storage or on the Dexie storage over fake-indexeddb,
 * replicating with `replicateWithWebsocketServer` (live), default batch size or a given one.
 * Offline = cancel the replication and close its socket (what RxDB does when the collection closes);
 * online = a new replication with the same identifier, which resumes from its stored checkpoint.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { createRxDatabase, type RxCollection, type RxStorage } from 'rxdb'
import { replicateWithWebsocketServer } from 'rxdb/plugins/replication-websocket'
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie'
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory'
import { makeClientActor, type BenchClient, type ClientOptions } from '../lib/client-actor.js'
import { rxSchema } from './rxdb-common.js'

type Rep = Awaited<ReturnType<typeof replicateWithWebsocketServer>>

async function createClient(id: string, options: ClientOptions): Promise<BenchClient> {
  const storage: RxStorage<unknown, unknown> =
    options.storage === 'dexie' ? getRxStorageDexie({ indexedDB: new IDBFactory(), IDBKeyRange } as never) : getRxStorageMemory()
  const db = await createRxDatabase({ name: `c${id.replace(/[^a-z0-9]/gi, '')}x${process.pid}`, storage, multiInstance: false })
  const cols = await db.addCollections({ items: { schema: rxSchema } })
  const items: RxCollection = cols.items
  let rep: Rep | undefined
  let closeSocket: (() => unknown) | undefined
  let liveSub: { unsubscribe(): void } | undefined
  const start = async () => {
    const before = items.onClose.length
    rep = await replicateWithWebsocketServer({
      collection: items,
      replicationIdentifier: 'bench',
      url: options.url,
      live: true,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    })
    // replicateWithWebsocketServer registers the closing of its socket on the collection.
    closeSocket = items.onClose.length > before ? items.onClose.pop() : undefined
    rep.error$.subscribe((e) => console.error('rxdb replication error', e?.message ?? e))
  }
  return {
    async connectAndSync() {
      if (!rep) await start()
      await rep!.awaitInitialReplication()
      await rep!.awaitInSync()
    },
    async goOffline() {
      await rep?.cancel()
      closeSocket?.()
      rep = undefined
      closeSocket = undefined
    },
    async resync() {
      rep!.reSync()
      await rep!.awaitInSync()
    },
    async upsert(rows) {
      await items.bulkUpsert(rows)
    },
    async remove(uids) {
      await items.bulkRemove(uids)
    },
    count: async () => (await items.count().exec()) as number,
    async live(onRow) {
      if (!liveSub) {
        liveSub = items.$.subscribe((ev: { documentId: string; documentData?: { title?: string }; operation: string }) => {
          onRow(ev.documentId, ev.operation === 'DELETE' ? null : (ev.documentData?.title ?? null))
        })
      }
      if (!rep) await start()
    },
    async close() {
      liveSub?.unsubscribe()
      await rep?.cancel()
      closeSocket?.()
      await db.close()
    },
  }
}

export function createActor() {
  return makeClientActor(createClient)
}
