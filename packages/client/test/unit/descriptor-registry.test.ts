/** The descriptor registry: the app's tables win; else the server's, validated and stored; reloaded by followers. */
import { describe, expect, it } from 'vitest'
import { LastwordError, type Stamp, type TableDescriptor } from '@lastword/core'
import type { LocalStore } from '../../src/store/types.js'
import { createClientClock } from '../../src/clock.js'
import { createMemoryStore } from '../../src/store/memory-store.js'
import { createDescriptorRegistry } from '../../src/tables/descriptor-registry.js'
import { createManualRuntime } from '../../src/testing/index.js'
import { newIdbStore, todosTable } from '../helpers.js'

const lists: TableDescriptor = { name: 'lists', columns: [{ name: 'name', type: 'text', nullable: false, writable: true }] }
const clock = () => createClientClock({ node: '0123456789abcdef', clock: createManualRuntime() })

describe('descriptor registry', () => {
  it("keeps the app's descriptors whatever the server or the store says", async () => {
    const store = createMemoryStore()
    const registry = createDescriptorRegistry({ appTables: [todosTable], store, report: () => undefined })
    registry.restore([lists])
    expect(await registry.takeFromServer([lists], clock())).toBe(false)
    expect(await registry.reload()).toBe(false)
    expect(registry.get('todos')).toBe(todosTable)
    expect(registry.get('lists')).toBeUndefined()
  })

  it("takes the server's merge mode over the app's descriptors, and says so (typed, once per disagreement)", async () => {
    const errors: LastwordError[] = []
    const registry = createDescriptorRegistry({ appTables: [todosTable], store: createMemoryStore(), report: (e) => errors.push(e) })
    expect(await registry.takeFromServer([{ ...todosTable, merge: 'field' }], clock())).toBe(false)
    expect(registry.get('todos')).toMatchObject({ name: 'todos', columns: todosTable.columns, merge: 'field' })
    expect(errors.map((e) => [e.code, e.details])).toEqual([['BAD_REQUEST', { table: 'todos' }]])
    expect(await registry.takeFromServer([{ ...todosTable, merge: 'field' }], clock())).toBe(false)
    expect(errors).toHaveLength(1)
  })

  it("takes the server's foreign keys over the app's descriptors, and says so (typed, once per disagreement)", async () => {
    const errors: LastwordError[] = []
    const registry = createDescriptorRegistry({ appTables: [todosTable], store: createMemoryStore(), report: (e) => errors.push(e) })
    const keyed: TableDescriptor = { ...todosTable, foreignKeys: [{ column: 'tenant', references: 'todos', onDelete: 'cascade', onUpdate: 'no action' }] }
    expect(await registry.takeFromServer([keyed], clock())).toBe(false)
    expect(registry.get('todos')).toEqual(keyed)
    expect(errors.map((e) => [e.code, e.details])).toEqual([['BAD_REQUEST', { table: 'todos' }]])
    expect(await registry.takeFromServer([keyed], clock())).toBe(false)
    expect(errors).toHaveLength(1)
    // The server dropped them: so does the client.
    expect(await registry.takeFromServer([todosTable], clock())).toBe(false)
    expect(registry.get('todos')).toEqual(todosTable)
  })

  it("takes the server's valid descriptors, reports the others, and stores them for other tabs", async () => {
    const store = createMemoryStore()
    const errors: string[] = []
    const registry = createDescriptorRegistry({ appTables: undefined, store, report: (e) => errors.push(e.code) })
    expect(() => registry.require('todos')).toThrow(/not known yet/)
    const broken = { name: 'bad name!', columns: [] } as unknown as TableDescriptor
    expect(await registry.takeFromServer([todosTable, broken], clock())).toBe(true)
    expect(errors).toHaveLength(1)
    expect(registry.require('todos')).toEqual(todosTable)
    expect(() => registry.require('lists')).toThrow(/not synced by the server; known: todos/)

    const follower = createDescriptorRegistry({ appTables: undefined, store, report: () => undefined })
    expect(follower.size).toBe(0)
    expect(await follower.reload()).toBe(true)
    expect(follower.get('todos')).toEqual(todosTable)
  })

  it('UNKNOWN_TABLE says how to pass descriptors (describeTables), whichever way they are missing', async () => {
    const thrown = (run: () => unknown): LastwordError => {
      try {
        run()
      } catch (error) {
        if (error instanceof LastwordError) return error
      }
      throw new Error('expected a LastwordError')
    }
    // Nothing known yet: pass `tables`, made by describeTables, or connect once.
    const empty = createDescriptorRegistry({ appTables: undefined, store: createMemoryStore(), report: () => undefined })
    const before = thrown(() => empty.require('todos'))
    expect(before.code).toBe('UNKNOWN_TABLE')
    expect(before.details).toEqual({ table: 'todos' })
    expect(before.message).toMatch(/pass its descriptors as `tables` to createSyncClient/)
    expect(before.message).toMatch(/describeTables of @lastword\/server/)
    expect(before.message).toMatch(/or connect once/)
    // The app's descriptors lack the table: write them out again.
    const stale = createDescriptorRegistry({ appTables: [todosTable], store: createMemoryStore(), report: () => undefined })
    const missing = thrown(() => stale.require('lists'))
    expect(missing.code).toBe('UNKNOWN_TABLE')
    expect(missing.message).toMatch(/not in `tables` \(known: todos\)/)
    expect(missing.message).toMatch(/describeTables/)
    // A long name is cut in the message (the details keep what the app asked for).
    const long = thrown(() => empty.require('t'.repeat(200)))
    expect(long.message).toContain(`"${'t'.repeat(64)}"`)
    expect(long.message).not.toContain('t'.repeat(65))
  })
})

describe('descriptor registry: schema versions (SPEC.md section 11)', () => {
  const v1: TableDescriptor = { name: 'items', schemaVersion: 1, columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'old_note', type: 'text', nullable: true, writable: true },
    { name: 'gone', type: 'text', nullable: true, writable: true },
  ] }
  const v2: TableDescriptor = { name: 'items', schemaVersion: 2, renames: [[2, 'old_note', 'note']], columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'note', type: 'text', nullable: true, writable: true },
    { name: 'added', type: 'text', nullable: true, writable: true },
  ] }
  const at = '000000000001-0000-ffffffffffffffff' as Stamp
  const meta = { created_at: at, updated_at: at, deleted_at: null, acknowledged: true }

  async function seeded(store: LocalStore): Promise<void> {
    await store.transaction('readwrite', async (tx) => {
      await tx.putMeta('tables', [v1])
      await tx.putRecords([
        { ...meta, table: 'items', uid: 'd', row: { title: 'dirty', old_note: 'kept', gone: 'x' }, dirty: true },
        { ...meta, table: 'items', uid: 'c', row: { title: 'clean', old_note: 'n', gone: 'y' }, dirty: false },
      ])
      await tx.putScope({ key: 'k', table: 'items', where: {}, checkpoint: 'lw1.5.00000000000000', fullCursor: null, syncedAt: 1 })
    })
  }
  const snapshot = (store: LocalStore) =>
    store.transaction('readonly', async (tx) => ({ tables: await tx.getMeta('tables'), records: await tx.scanRecords('items'), scopes: await tx.listScopes() }))

  it('migrates the stored records with the descriptors: renamed carried, dropped left, added unknown on the dirty one, the clean one refetched in full', async () => {
    const store = newIdbStore('lastword:migrate')
    await seeded(store)
    const migrations: unknown[] = []
    const registry = createDescriptorRegistry({ appTables: undefined, store, report: () => undefined, onMigrated: (m) => migrations.push(...m) })
    registry.restore([v1])
    expect(await registry.takeFromServer([v2], clock())).toBe(true)
    const after = await snapshot(store)
    expect(after.tables).toEqual([v2])
    expect(after.records).toEqual([{ ...meta, table: 'items', uid: 'd', row: { title: 'dirty', note: 'kept', added: null }, dirty: true, unknown: ['added'] }])
    expect(after.scopes[0]).toMatchObject({ checkpoint: null, fullCursor: null })
    expect(migrations).toEqual([{ table: 'items', from: 1, to: 2 }])
    await store.close()
  })

  it('an interrupted migration changes nothing: the old descriptors stay with the old records, and the next hello migrates them', async () => {
    const store = newIdbStore('lastword:interrupted')
    await seeded(store)
    const before = await snapshot(store)
    let fail = true
    // The store fails the transaction's last step (as a crash or a full disk would, after the records were written).
    const failing: LocalStore = {
      ...store,
      transaction: (mode, fn) =>
        store.transaction(mode, (tx) =>
          fn({ ...tx, putMeta: async (key, value) => (fail ? Promise.reject(new LastwordError('QUOTA_EXCEEDED', 'full')) : tx.putMeta(key, value)) }),
        ),
    }
    const errors: string[] = []
    const registry = createDescriptorRegistry({ appTables: undefined, store: failing, report: (e) => errors.push(e.code) })
    registry.restore([v1])
    await registry.takeFromServer([v2], clock())
    expect(errors).toEqual(['QUOTA_EXCEEDED'])
    expect(await snapshot(store)).toEqual(before)
    expect(registry.get('items')).toEqual(v1)
    fail = false
    await registry.takeFromServer([v2], clock())
    expect((await snapshot(store)).records.map((r) => r.row)).toEqual([{ title: 'dirty', note: 'kept', added: null }])
    await store.close()
  })
})
