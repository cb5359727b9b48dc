/**
 * RxDB's server side: an RxDatabase on the memory storage served by the websocket replication plugin
 * (`startWebsocketServer`), as RxDB documents it.
 */
import { createRxDatabase, type RxCollection, type RxDatabase } from 'rxdb'
import { startWebsocketServer } from 'rxdb/plugins/replication-websocket'
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory'
import { makeItem, makeItems } from '../lib/data.js'
import { rxSchema } from './rxdb-common.js'

export async function createActor() {
  let db: RxDatabase | undefined
  let items: RxCollection | undefined
  let server: { close: () => Promise<void> } | undefined
  return {
    async start(): Promise<{ port: number }> {
      db = await createRxDatabase({ name: `srv${process.pid}`, storage: getRxStorageMemory(), multiInstance: false, eventReduce: true })
      const cols = await db.addCollections({ items: { schema: rxSchema } })
      items = cols.items
      const s = startWebsocketServer({ database: db, port: 0, host: '127.0.0.1' })
      server = s
      await new Promise<void>((resolve, reject) => {
        s.server.once('listening', () => resolve())
        s.server.once('error', reject)
      })
      return { port: (s.server.address() as { port: number }).port }
    },
    async seed(n: number) {
      for (let i = 0; i < n; i += 10_000) await items!.bulkInsert(makeItems(Math.min(10_000, n - i), 0, 0, i))
      return null
    },
    async serverUpdate(indexes: number[], version: number) {
      await items!.bulkUpsert(indexes.map((i) => makeItem(i, version)))
      return null
    },
    count: async () => (await items!.count().exec()) as number,
    statements: () => null,
    async stop() {
      await server?.close()
      await db?.close()
      return null
    },
  }
}
