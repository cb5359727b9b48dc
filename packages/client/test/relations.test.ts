/**
 * Foreign keys in the replica, offline (core's SPEC.md section 4a): a local write of a child whose parent
 * the replica holds as deleted is refused `PARENT_DELETED` with nothing written (PD3); a parent it does
 * not hold is the server's to judge; a parent's local delete carries `onDelete` to the children held, in
 * the same transaction, seen by a live query as one change (PD4).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isLastwordError, type ForeignKeyAction, type TableDescriptor } from '@lastword/core'
import { createMemoryStore, createSyncClient, type LocalStore, type SyncClient } from '../src/index.js'
import { newIdbStore, newIndexedDB, offlineTransport } from './helpers.js'

interface List {
  name: string
}
interface Item {
  title: string
  list_uid: string | null
}

const listsTable: TableDescriptor = { name: 'lists', columns: [{ name: 'name', type: 'text', nullable: false, writable: true }] }
function itemsTable(onDelete: ForeignKeyAction, merge?: 'field'): TableDescriptor {
  return {
    name: 'items',
    columns: [
      { name: 'title', type: 'text', nullable: false, writable: true },
      { name: 'list_uid', type: 'text', nullable: true, writable: true },
    ],
    foreignKeys: [{ column: 'list_uid', references: 'lists', onDelete, onUpdate: 'no action' }],
    ...(merge === undefined ? {} : { merge }),
  }
}
// A grandchild: notes of an item, cascading from it.
const notesTable: TableDescriptor = {
  name: 'notes',
  columns: [
    { name: 'body', type: 'text', nullable: false, writable: true },
    { name: 'item_uid', type: 'text', nullable: false, writable: true },
  ],
  foreignKeys: [{ column: 'item_uid', references: 'items', onDelete: 'cascade', onUpdate: 'no action' }],
}

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function offlineClient(store: 'memory' | 'indexeddb' | LocalStore, items: TableDescriptor): SyncClient {
  const client = createSyncClient({ name: `relations-${Math.random()}`, tables: [listsTable, items, notesTable], transport: offlineTransport(), store, indexedDB: newIndexedDB(), tabs: false, logger: false })
  clients.push(client)
  return client
}

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (error === null) return null
  if (!isLastwordError(error)) throw new Error(`expected a LastwordError, got ${String(error)}`)
  return error.code
}

describe.each(['indexeddb', 'memory'] as const)('foreign keys in the replica (%s)', (store) => {
  it('PD3: a child of a parent held as deleted is refused PARENT_DELETED, nothing written', async () => {
    const client = offlineClient(store, itemsTable('cascade'))
    const lists = client.table<List>('lists')
    const items = client.table<Item>('items')
    const list = await lists.create({ name: 'groceries' })
    const kept = await items.create({ title: 'milk', list_uid: null })
    await lists.delete(list) // a pending local delete: the replica holds its tombstone
    const pending = await client.pendingCount()
    expect(await codeOf(items.create({ uid: 'orphan', title: 'eggs', list_uid: list }))).toBe('PARENT_DELETED')
    expect(await items.record('orphan')).toBeNull()
    // An update pointing a child at it is refused too, and leaves the child as it was.
    const before = await items.record(kept)
    expect(await codeOf(items.update(kept, { list_uid: list }))).toBe('PARENT_DELETED')
    expect(await items.record(kept)).toEqual(before)
    expect(await client.pendingCount()).toBe(pending)
  })

  it('PD3: a parent the replica does not hold is the server\'s to judge: the write is taken', async () => {
    const client = offlineClient(store, itemsTable('cascade'))
    const uid = await client.table<Item>('items').create({ title: 'elsewhere', list_uid: 'a-list-outside-every-scope' })
    expect(await client.table<Item>('items').record(uid)).toMatchObject({ dirty: true, deleted_at: null })
  })

  it('PD4 cascade: a parent\'s delete deletes its held children and theirs in the same transaction; a live query sees one change', async () => {
    const client = offlineClient(store, itemsTable('cascade'))
    const lists = client.table<List>('lists')
    const items = client.table<Item>('items')
    const list = await lists.create({ name: 'groceries' })
    const other = await lists.create({ name: 'chores' })
    const a = await items.create({ title: 'milk', list_uid: list })
    const b = await items.create({ title: 'eggs', list_uid: list })
    const c = await items.create({ title: 'sweep', list_uid: other })
    const note = await client.table<{ body: string; item_uid: string }>('notes').create({ body: 'semi-skimmed', item_uid: a })
    const seen: string[][] = []
    items.subscribe({}, (rows) => seen.push(rows.map((r) => r.title).sort()))
    await expect.poll(() => seen.length).toBe(1)
    expect(seen[0]).toEqual(['eggs', 'milk', 'sweep'])
    await lists.delete(list)
    await expect.poll(() => seen.length).toBe(2)
    // One change: both children gone at once, never one at a time.
    expect(seen[1]).toEqual(['sweep'])
    for (const uid of [a, b]) expect(await items.record(uid)).toMatchObject({ dirty: true, deleted_at: expect.any(String) })
    expect(await items.findUnique(c)).toMatchObject({ title: 'sweep' })
    expect(await client.table('notes').record(note)).toMatchObject({ dirty: true, deleted_at: expect.any(String) })
    // Every deletion is a write of its own, pushed: the list, two items, a note.
    expect(await client.pendingCount()).toBe(6) // 2 lists, 3 items, 1 note: each record dirty once
  })

  it('PD4 is one transaction: a child that cannot be written leaves the parent undeleted too', async () => {
    // A store that refuses writes of items while `failItems` is set (a full disk, in the middle of the cascade).
    const inner = store === 'memory' ? createMemoryStore() : newIdbStore(`lastword:relations-${Math.random()}`)
    const guard = { failItems: false }
    const failing: LocalStore = {
      kind: inner.kind,
      clear: () => inner.clear(),
      close: () => inner.close(),
      transaction: (mode, fn) =>
        inner.transaction(mode, (tx) =>
          fn({ ...tx, putRecord: (r) => (guard.failItems && r.table === 'items' ? Promise.reject(new DOMException('full', 'QuotaExceededError')) : tx.putRecord(r)) }),
        ),
    }
    const client = offlineClient(failing, itemsTable('cascade'))
    const list = await client.table<List>('lists').create({ name: 'groceries' })
    const a = await client.table<Item>('items').create({ title: 'milk', list_uid: list })
    guard.failItems = true
    expect(await codeOf(client.table<List>('lists').delete(list))).toBe('QUOTA_EXCEEDED')
    guard.failItems = false
    expect(await client.table<List>('lists').findUnique(list)).toMatchObject({ name: 'groceries' })
    expect(await client.table<Item>('items').findUnique(a)).toMatchObject({ title: 'milk', list_uid: list })
  })

  it.each([undefined, 'field'] as const)('PD4 set null: a parent\'s delete clears its held children\'s reference (merge %s)', async (merge) => {
    const client = offlineClient(store, itemsTable('set null', merge))
    const lists = client.table<List>('lists')
    const items = client.table<Item>('items')
    const list = await lists.create({ name: 'groceries' })
    const a = await items.create({ title: 'milk', list_uid: list })
    const before = await items.record(a)
    await lists.delete(list)
    const after = await items.record(a)
    expect(after).toMatchObject({ deleted_at: null, dirty: true, row: { title: 'milk', list_uid: null } })
    expect(after!.updated_at > before!.updated_at).toBe(true)
    if (merge === 'field') expect(after).toMatchObject({ fields: { list_uid: after!.updated_at }, changed: expect.arrayContaining(['list_uid']) })
  })

  it.each(['restrict', 'no action', 'set default'] as const)('PD4 %s: a parent\'s delete leaves its children to the server', async (onDelete) => {
    const client = offlineClient(store, itemsTable(onDelete))
    const list = await client.table<List>('lists').create({ name: 'groceries' })
    const a = await client.table<Item>('items').create({ title: 'milk', list_uid: list })
    const before = await client.table<Item>('items').record(a)
    await client.table<List>('lists').delete(list)
    expect(await client.table<Item>('items').record(a)).toEqual(before)
  })
})
