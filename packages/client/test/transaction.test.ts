/**
 * `client.transaction` (SPEC.md section 12) with no server, on both stores: its writes commit in one
 * store transaction — all or nothing — stamped together in call order, each with a write sequence number
 * and the unit id; live queries see them in one refresh; a reload after a transaction that failed part
 * way finds nothing of it (IndexedDB: the store transaction aborted between two writes).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isLastwordError, type TableDescriptor } from '@lastword/core'
import { createSyncClient, type SyncClient } from '../src/index.js'
import { eventually, newIndexedDB, offlineTransport } from './helpers.js'

const listsTable: TableDescriptor = { name: 'lists', columns: [{ name: 'name', type: 'text', nullable: false, writable: true }] }
const itemsTable: TableDescriptor = {
  name: 'items',
  columns: [
    { name: 'list_id', type: 'text', nullable: false, writable: true },
    { name: 'title', type: 'text', nullable: false, writable: true },
  ],
}
interface List {
  name: string
}
interface Item {
  list_id: string
  title: string
}

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function offlineClient(store: 'memory' | 'indexeddb', indexedDB = newIndexedDB(), name = `tx-${Math.random()}`): SyncClient {
  const client = createSyncClient({ name, tables: [listsTable, itemsTable], transport: offlineTransport(), store, indexedDB, tabs: false })
  clients.push(client)
  return client
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (!isLastwordError(error)) throw new Error(`expected a LastwordError, got ${String(error)}`)
  return error.code
}

describe.each(['indexeddb', 'memory'] as const)('client.transaction (%s)', (store) => {
  it('commits every write at once: one unit id, write sequence numbers and stamps increasing in call order', async () => {
    const client = offlineClient(store)
    const result = await client.transaction(async (tx) => {
      const list = await tx.table<List>('lists').create({ name: 'groceries' })
      const a = await tx.table<Item>('items').create({ list_id: list, title: 'milk' })
      const b = await tx.table<Item>('items').create({ list_id: list, title: 'eggs' })
      await tx.table<Item>('items').update(a, { title: 'oat milk' })
      return { list, a, b }
    })
    const list = await client.table('lists').record(result.list)
    const a = await client.table('items').record(result.a)
    const b = await client.table('items').record(result.b)
    expect(list?.unit).toMatch(/^[0-9a-f-]{36}$/)
    expect([a?.unit, b?.unit]).toEqual([list?.unit, list?.unit])
    expect(a?.row).toMatchObject({ title: 'oat milk' })
    // a was written twice: its last write is the transaction's last.
    expect(list!.seq! < b!.seq! && b!.seq! < a!.seq!).toBe(true)
    expect(list!.updated_at < b!.updated_at && b!.updated_at < a!.updated_at).toBe(true)
    expect(await client.pendingCount()).toBe(3)
    // A single write after it takes its record out of the unit, with a later sequence number.
    await client.table<Item>('items').update(result.b, { title: 'brown eggs' })
    const later = await client.table('items').record(result.b)
    expect(later?.unit).toBeUndefined()
    expect(later!.seq! > a!.seq!).toBe(true)
  })

  it('a throw in the callback commits nothing and rejects with it; so does a write refused when planned, even caught', async () => {
    const client = offlineClient(store)
    const thrown = await client
      .transaction(async (tx) => {
        await tx.table<List>('lists').create({ name: 'a' })
        throw new Error('app changed its mind')
      })
      .catch((e: unknown) => e)
    expect((thrown as Error).message).toBe('app changed its mind')
    const code = await codeOf(
      client.transaction(async (tx) => {
        await tx.table<List>('lists').create({ name: 'b' })
        await tx
          .table<Item>('items')
          .create({ list_id: 'x', title: 7 as unknown as string })
          .catch(() => undefined)
      }),
    )
    expect(code).toBe('INVALID_VALUE')
    expect(await client.table('lists').findMany()).toEqual([])
    expect(await client.pendingCount()).toBe(0)
  })

  it('a write refused when committed (an update of a record that does not exist) commits nothing', async () => {
    const client = offlineClient(store)
    const kept = await client.table<List>('lists').create({ name: 'kept' })
    const code = await codeOf(
      client.transaction(async (tx) => {
        await tx.table<List>('lists').update(kept, { name: 'changed' })
        await tx.table<Item>('items').create({ list_id: kept, title: 'milk' })
        await tx.table<Item>('items').update('01900000-0000-7000-8000-0000000000ff', { title: 'nothing there' })
      }),
    )
    expect(code).toBe('NOT_FOUND')
    expect((await client.table<List>('lists').findMany()).map((l) => l.name)).toEqual(['kept'])
    expect(await client.table('items').findMany()).toEqual([])
    expect(await client.pendingCount()).toBe(1)
  })

  it('writes called without await are part of it; a write after it ended is refused', async () => {
    const client = offlineClient(store)
    let escaped: { create(row: Item): Promise<string> } | null = null
    await client.transaction((tx) => {
      const items = tx.table<Item>('items')
      escaped = items
      void items.create({ list_id: 'l', title: 'one' })
      void items.create({ list_id: 'l', title: 'two' })
      return undefined
    })
    expect((await client.table<Item>('items').findMany({}, { orderBy: 'title' })).map((i) => i.title)).toEqual(['one', 'two'])
    expect(await codeOf(escaped!.create({ list_id: 'l', title: 'three' }))).toBe('BAD_REQUEST')
  })

  it('a live query sees the transaction at once: one refresh with every record, never half', async () => {
    const client = offlineClient(store)
    const seen: number[] = []
    const stop = client.table<Item>('items').subscribe({}, (rows) => seen.push(rows.length))
    await eventually(() => expect(seen.length).toBeGreaterThan(0))
    await client.transaction(async (tx) => {
      for (const title of ['a', 'b', 'c']) await tx.table<Item>('items').create({ list_id: 'l', title })
    })
    await eventually(() => expect(seen.at(-1)).toBe(3))
    expect(seen.filter((n) => n > 0 && n < 3)).toEqual([])
    stop()
  })
})

describe('client.transaction on IndexedDB across a reload', () => {
  it('a store transaction aborted between two writes leaves nothing after a reload; a committed one leaves everything', async () => {
    const indexedDB = newIndexedDB()
    const name = `reload-${Math.random()}`
    const first = offlineClient('indexeddb', indexedDB, name)
    const list = await first.transaction(async (tx) => {
      const id = await tx.table<List>('lists').create({ name: 'committed' })
      await tx.table<Item>('items').create({ list_id: id, title: 'milk' })
      return id
    })
    // The second write of this one fails inside the store transaction (the uid is taken): it aborts after
    // the first write was issued.
    expect(
      await codeOf(
        first.transaction(async (tx) => {
          await tx.table<List>('lists').create({ name: 'half' })
          await tx.table<List>('lists').create({ uid: list, name: 'taken' })
        }),
      ),
    ).toBe('INVALID_UID')
    await first.close()
    const again = offlineClient('indexeddb', indexedDB, name)
    expect((await again.table<List>('lists').findMany()).map((l) => l.name)).toEqual(['committed'])
    expect((await again.table<Item>('items').findMany()).map((i) => i.title)).toEqual(['milk'])
    const stored = await again.table('items').record((await again.table<Item>('items').findMany())[0]!.uid)
    expect(stored?.unit).toBe((await again.table('lists').record(list))?.unit)
    // The sequence counter survived the reload: the next write numbers past the transaction's.
    const next = await again.table<List>('lists').create({ name: 'after' })
    expect((await again.table('lists').record(next))!.seq!).toBeGreaterThan(stored!.seq!)
  })
})
