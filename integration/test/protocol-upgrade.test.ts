/**
 * A client whose protocol the server no longer serves (older than the previous one: SPEC.md section 11,
 * "Protocol versions") is refused with a typed `PROTOCOL_MISMATCH` telling it to upgrade; its unsynced
 * writes stay durable (dirty, in IndexedDB), and the upgraded build, opening the same local database,
 * pushes them.
 */
import { afterEach, expect, it } from 'vitest'
import { PREVIOUS_PROTOCOL_VERSION } from '@lastword/core'
import type { LastwordError, SyncClient, Transport } from '@lastword/client'
import { IDBFactory, eventually, newClient, settle, startServer, type TestServer, type Todo } from './fixture.js'

let server: TestServer | undefined
const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
})

/** The build before the previous one: its handshake states a protocol the server no longer serves. */
const tooOld = (inner: Transport): Transport => ({
  ...inner,
  open: (handlers) => inner.open({ ...handlers, handshake: async () => ({ ...(await handlers.handshake()), protocolVersion: PREVIOUS_PROTOCOL_VERSION - 1 }) }),
})

it('a refused client keeps its writes and pushes them once upgraded', async () => {
  server = await startServer()
  const indexedDB = new IDBFactory()
  const { client: old } = newClient(server, { indexedDB, name: 'app-build', wrapTransport: tooOld, tables: [{ name: 'todos', columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'done', type: 'boolean', nullable: false, writable: true },
    { name: 'priority', type: 'integer', nullable: true, writable: true },
  ] }] })
  clients.push(old)
  const errors: LastwordError[] = []
  old.on('error', (e) => errors.push(e))
  const todos = old.table<Todo>('todos')
  todos.subscribe({}, () => undefined)
  const uid = await todos.create({ title: 'written by the old build', done: false })
  await eventually(() => expect(errors.map((e) => e.code)).toContain('PROTOCOL_MISMATCH'))
  expect(errors.find((e) => e.code === 'PROTOCOL_MISMATCH')?.details).toMatchObject({ upgrade: true })
  expect(await old.pendingCount()).toBe(1)
  expect(server.rows()).toEqual([])
  await old.close()

  const { client: upgraded } = newClient(server, { indexedDB, name: 'app-build' })
  clients.push(upgraded)
  upgraded.table<Todo>('todos').subscribe({}, () => undefined)
  await settle(upgraded)
  expect(server.rows().map((r) => [r.uid, r.title])).toEqual([[uid, 'written by the old build']])
})
