/**
 * D01: a QuotaExceededError on a local write is reported to the app and nothing is pushed.
 * D03: a QuotaExceededError while storing a page leaves the checkpoint where it was: nothing past the
 * unstored data is ever claimed.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isLastwordError } from '@lastword/core'
import { createMemoryStore, createSyncClient, type LocalStore, type SyncClient } from '../src/index.js'
import { createScriptedServer, eventually, newIdbStore, page, stamp, todosTable, wireRow, type Todo } from './helpers.js'

/** A store whose writes fail with the browser's QuotaExceededError while `full` is set. */
function quotaStore(inner: LocalStore): LocalStore & { full: boolean } {
  const store = {
    full: false,
    kind: inner.kind,
    clear: () => inner.clear(),
    close: () => inner.close(),
    transaction<T>(mode: 'readonly' | 'readwrite', fn: Parameters<LocalStore['transaction']>[1]) {
      return inner.transaction(mode, (tx) => {
        const refuse = (): never => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        }
        const guarded = {
          ...tx,
          putRecord: (r: Parameters<typeof tx.putRecord>[0]) => (store.full ? Promise.reject(refuse()) : tx.putRecord(r)),
          putScope: (s: Parameters<typeof tx.putScope>[0]) => (store.full ? Promise.reject(refuse()) : tx.putScope(s)),
        }
        return fn(guarded) as Promise<T>
      })
    },
  }
  return store as LocalStore & { full: boolean }
}

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

describe.each([
  ['memory', () => createMemoryStore()],
  ['indexeddb', () => newIdbStore(`lastword:quota-${Math.random()}`)],
] as const)('quota (%s)', (_name, makeStore) => {
  it('D01: reports QUOTA_EXCEEDED on a local write; nothing is written or pushed', async () => {
    const server = createScriptedServer()
    const store = quotaStore(makeStore())
    const client = createSyncClient({ name: `quota-${Math.random()}`, tables: [todosTable], transport: server.transport, store, tabs: false })
    clients.push(client)
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    const todos = client.table<Todo>('todos')
    todos.subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    await client.sync()
    store.full = true
    const error = await todos.create({ title: 'too much', done: false }).catch((e: unknown) => e)
    expect(isLastwordError(error, 'QUOTA_EXCEEDED')).toBe(true)
    expect(errors).toEqual(['QUOTA_EXCEEDED'])
    expect(client.lastError?.code).toBe('QUOTA_EXCEEDED')
    expect(await client.pendingCount()).toBe(0)
    expect(await todos.findMany()).toEqual([])
    await client.sync().catch(() => undefined)
    expect(server.requests.flatMap((r) => r.push)).toEqual([])
    store.full = false
    await todos.create({ title: 'fits', done: false })
    await eventually(() => expect(server.requests.flatMap((r) => r.push).map((r) => r.row?.title)).toEqual(['fits']))
  })

  it('D03: a page that cannot be stored does not advance the checkpoint', async () => {
    const s = stamp(Date.now())
    const server = createScriptedServer((request, i) =>
      page(request, { rows: [wireRow(`r${i}`, s, s, { title: `page ${i}`, done: false })], checkpoint: `lw1.${i + 1}.00000000000000` }),
    )
    const store = quotaStore(makeStore())
    const client = createSyncClient({ name: `quota-${Math.random()}`, tables: [todosTable], transport: server.transport, store, tabs: false })
    clients.push(client)
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    await client.ready()
    store.full = true
    client.table<Todo>('todos').subscribe({}, () => undefined)
    server.connect()
    await eventually(() => expect(errors).toContain('QUOTA_EXCEEDED'))
    expect(await store.transaction('readonly', (tx) => tx.listScopes())).toEqual([])
    expect(await client.table<Todo>('todos').findMany()).toEqual([])
    store.full = false
    await client.sync()
    const last = server.requests.at(-1)!
    expect(last.checkpoint).toBeNull() // still the full reconciliation: no checkpoint was ever stored
    expect((await store.transaction('readonly', (tx) => tx.listScopes()))[0]?.checkpoint).toBe(`lw1.${server.requests.length}.00000000000000`)
    expect((await client.table<Todo>('todos').findMany()).length).toBe(1)
  })
})
