/** PouchDB's server side: express-pouchdb (CouchDB's HTTP API) over PouchDB on the memory adapter. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import expressPouchdb from 'express-pouchdb'
import { makeItem, makeItems, type Item } from '../lib/data.js'
import { PouchDB, type Doc, type PouchDb, type PouchSync } from './pouch-common.js'

const toDoc = (it: Item): Doc => {
  const { uid, ...rest } = it
  return { _id: uid, ...rest }
}

export async function createActor() {
  const ServerPouch = PouchDB.defaults({ adapter: 'memory' } as never)
  let db: PouchDb | undefined
  let server: Server | undefined
  return {
    async start(): Promise<{ port: number }> {
      // express-pouchdb is an express (4) app of its own; mounted under express 5 its `req.query` breaks.
      const app = expressPouchdb(ServerPouch, { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: '/dev/null' })
      db = new ServerPouch('items') as PouchDb
      await db.info()
      server = await new Promise<Server>((resolve) => {
        const s: Server = app.listen(0, '127.0.0.1', () => resolve(s))
      })
      return { port: (server.address() as AddressInfo).port }
    },
    async seed(n: number) {
      for (let i = 0; i < n; i += 10_000) await db!.bulkDocs(makeItems(Math.min(10_000, n - i), 0, 0, i).map(toDoc))
      return null
    },
    async serverUpdate(indexes: number[], version: number) {
      const items = indexes.map((i) => makeItem(i, version))
      const existing = await db!.allDocs({ keys: items.map((x) => x.uid) })
      const revs = new Map<string, string>()
      for (const r of existing.rows) if (r.value) revs.set(r.key, r.value.rev)
      await db!.bulkDocs(items.map((it) => ({ ...toDoc(it), _rev: revs.get(it.uid) })))
      return null
    },
    count: async () => (await db!.info()).doc_count,
    statements: () => null,
    async stop() {
      await new Promise((r) => server?.close(r))
      return null
    },
  }
}
