/**
 * lastword's client side, as an app uses it: `createSyncClient({ name, url, indexedDB })` on
 * fake-indexeddb (one IDBFactory per replica), the table's whole scope kept synced by a `subscribe`.
 * Offline/online: `disconnect()` / `connect()`; a reconnect syncs by itself, and the step ends when the
 * scope's sync has reported, nothing is pending and the client is idle ('online').
 *
 * Writes made while offline (the untimed setup of the resync and push figures) go straight into the
 * replica's store (the public `client.store`), in one transaction, stamped by this client's node id
 * and marked dirty — exactly what `table.create/update/delete` store. The reason: with a live query
 * held, every write through the table handle re-reads the whole table (quadratic: 1,000 updates of a
 * 100,000-record replica take hours), and releasing the live query instead would charge a re-read of
 * the table to the timed reconnect. Online writes (realtime) use the table handle.
 * The old way (`forceFull`): the scope's checkpoint is dropped (through the public `client.store`)
 * before every sync, so each one is a full reconciliation.
 */
import { createSyncClient, type StoredRecord, type SyncClient } from '@lastword/client'
import { createHlc, maxStamp, type Stamp } from '@lastword/core'
// idb (used by the client) checks `instanceof IDBRequest`: the globals must be fake-indexeddb's too.
import 'fake-indexeddb/auto'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { makeClientActor, type BenchClient, type ClientOptions } from '../lib/client-actor.js'
import type { Item } from '../lib/data.js'

async function createClient(id: string, options: ClientOptions): Promise<BenchClient> {
  const client: SyncClient = createSyncClient({
    name: `bench-${id}`,
    url: options.url,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    tabs: false,
    autoConnect: false,
    ...(options.batchSize ? { pageSize: options.batchSize } : {}),
  })
  await client.ready()
  const items = client.table<Omit<Item, 'uid'>>('items')
  let onRow: ((uid: string, title: string | null) => void) | undefined
  let unsubscribe: (() => void) | undefined
  let syncs = 0
  let forceFull = options.forceFull === true
  client.on('sync', () => {
    syncs++
  })
  const dropCheckpoints = async () => {
    await client.store.transaction('readwrite', async (tx) => {
      for (const s of await tx.listScopes()) await tx.putScope({ ...s, checkpoint: null, fullCursor: null })
    })
  }
  /** Resolves once a sync has reported since `since`, nothing is pending and the client is idle. */
  const settled = (since: number, timeoutMs = 590_000) =>
    new Promise<void>((resolve, reject) => {
      let done = false
      const offs: Array<() => void> = []
      const finish = (e?: Error) => {
        if (done) return
        done = true
        clearTimeout(timer)
        for (const off of offs) off()
        if (e) reject(e)
        else resolve()
      }
      const timer = setTimeout(() => finish(new Error(`lastword client ${id}: not in sync after ${timeoutMs} ms (status ${client.status})`)), timeoutMs)
      const check = () => {
        if (done || syncs <= since || client.status !== 'online') return
        void client.pendingCount().then((n) => {
          if (n === 0 && client.status === 'online') finish()
        })
      }
      offs.push(client.on('sync', check), client.on('status', check), client.on('pending', check))
      offs.push(
        client.on('error', (e) => {
          if (e.code !== 'TRANSIENT') console.error(`lastword client ${id} error: ${e.code} ${e.message}`)
        }),
      )
      check()
    })
  let offline = true
  const hlc = createHlc({ node: client.clientId, now: () => Date.now() })
  /** Writes records as the table handle would, in one store transaction (see the header). */
  const writeOffline = async (changes: Array<{ uid: string; row: Record<string, unknown> | null }>) => {
    await client.store.transaction('readwrite', async (tx) => {
      for (const { uid, row } of changes) {
        const local = await tx.getRecord('items', uid)
        if (local) hlc.receive(maxStamp(maxStamp(local.created_at, local.updated_at), local.deleted_at) as Stamp)
        const live = local !== undefined && local.deleted_at === null
        if (row === null) {
          if (!live) continue
          const { rejected: _r, ...rest } = local
          await tx.putRecord({ ...rest, deleted_at: hlc.next(), dirty: true })
        } else if (live) {
          const { rejected: _r, ...rest } = local
          await tx.putRecord({ ...rest, row: { ...local.row, ...row }, updated_at: hlc.next(), dirty: true })
        } else {
          const s = hlc.next()
          const record: StoredRecord = { table: 'items', uid, row: row as StoredRecord['row'], created_at: s, updated_at: s, deleted_at: null, dirty: true, acknowledged: local?.acknowledged ?? false }
          await tx.putRecord(record)
        }
      }
    })
  }
  const subscribe = () => {
    unsubscribe ??= items.subscribe({}, (rows) => {
      if (onRow) for (const r of rows) onRow(r.uid, (r as { title?: string }).title ?? null)
    })
  }
  return {
    async connectAndSync() {
      offline = false
      subscribe()
      if (forceFull) await dropCheckpoints()
      const since = syncs
      const done = settled(since)
      client.connect()
      await done
    },
    async goOffline() {
      offline = true
      client.disconnect()
      if (client.status !== 'offline') {
        await new Promise<void>((resolve) => {
          const off = client.on('status', (s) => {
            if (s === 'offline') {
              off()
              resolve()
            }
          })
        })
      }
    },
    async resync() {
      if (forceFull) await dropCheckpoints()
      await client.sync()
    },
    setForceFull(on) {
      forceFull = on
    },
    async upsert(rows) {
      if (offline) {
        await writeOffline(rows.map(({ uid, ...row }) => ({ uid, row })))
        return
      }
      for (const { uid, ...row } of rows) {
        const existing = await items.findUnique(uid)
        if (existing) await items.update(uid, row)
        else await items.create({ uid, ...row })
      }
    },
    async remove(uids) {
      if (offline) {
        await writeOffline(uids.map((uid) => ({ uid, row: null })))
        return
      }
      for (const uid of uids) if (await items.findUnique(uid)) await items.delete(uid)
    },
    count: async () => (await items.findMany({})).length,
    async live(cb) {
      onRow = cb
      subscribe()
    },
    async close() {
      unsubscribe?.()
      await client.close()
    },
  }
}

export function createActor() {
  return makeClientActor(createClient)
}
