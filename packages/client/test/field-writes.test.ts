/**
 * Local writes on a table declared `merge: 'field'` (core's SPEC.md section 3a), with no server: a create
 * stamps every column and marks every writable one to push; an update stamps the patched columns and adds
 * them to those to push; the push carries only those columns with their stamps (never a server-owned one).
 * A row table's records carry neither.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createSyncClient, type SyncClient } from '../src/index.js'
import { toWireRecord } from '../src/sync/records.js'
import { newIndexedDB, offlineTransport, todosTable, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

const fieldTodos = { ...todosTable, merge: 'field' as const }

function offlineClient(table = fieldTodos): SyncClient {
  const client = createSyncClient({ name: `fields-${Math.random()}`, tables: [table], transport: offlineTransport(), indexedDB: newIndexedDB() })
  clients.push(client)
  return client
}

describe('local writes on a field-merge table', () => {
  it('a create stamps every column and pushes every writable one; an update stamps and pushes the patched ones', async () => {
    const todos = offlineClient().table<Todo>('todos')
    const uid = await todos.create({ title: 'milk', done: false })
    const created = await todos.record(uid)
    const at = created?.created_at
    expect(created?.fields).toEqual(Object.fromEntries(todosTable.columns.map((c) => [c.name, at])))
    expect([...(created?.changed ?? [])].sort()).toEqual(['done', 'due', 'priority', 'tags', 'title'])

    await todos.update(uid, { done: true })
    const updated = await todos.record(uid)
    expect(updated?.fields).toMatchObject({ title: at, done: updated?.updated_at })
    expect(updated?.updated_at).not.toBe(at)
    // Still unpushed: the columns of both writes.
    expect([...(updated?.changed ?? [])].sort()).toEqual(['done', 'due', 'priority', 'tags', 'title'])
    const wire = toWireRecord(updated as NonNullable<typeof updated>, fieldTodos)
    expect(Object.keys(wire.fields ?? {}).sort()).toEqual(['done', 'due', 'priority', 'tags', 'title'])
    expect(wire.row).not.toHaveProperty('tenant')
  })

  it('a clean record updated pushes only the patched column', async () => {
    const todos = offlineClient().table<Todo>('todos')
    const uid = await todos.create({ title: 'milk', done: false })
    const record = await todos.record(uid)
    // As if acknowledged by the server (P1).
    const clean = { ...(record as NonNullable<typeof record>), dirty: false, changed: undefined }
    const { changed: _none, ...rest } = clean
    expect(toWireRecord({ ...rest, dirty: true, changed: ['done'] }, fieldTodos)).toMatchObject({ row: { done: false }, fields: { done: record?.created_at } })
    expect(Object.keys(toWireRecord({ ...rest, dirty: true, changed: ['done'] }, fieldTodos).row ?? {})).toEqual(['done'])
  })

  it('a row table keeps no column stamps and pushes whole rows', async () => {
    const todos = offlineClient(todosTable as typeof fieldTodos).table<Todo>('todos')
    const uid = await todos.create({ title: 'milk', done: false })
    await todos.update(uid, { done: true })
    const record = await todos.record(uid)
    expect(record?.fields).toBeUndefined()
    const wire = toWireRecord(record as NonNullable<typeof record>, todosTable)
    expect(wire.fields).toBeUndefined()
    expect(Object.keys(wire.row ?? {}).sort()).toEqual(['done', 'due', 'priority', 'tags', 'title'])
  })
})
