/**
 * The parent-deleted rule end to end (core's SPEC.md section 4a): a list deleted offline on one device
 * while its todo is edited offline on another. The deleting device carries the delete to the todos it
 * holds (PD4); the editing device's push reaches a server where the list is deleted and is refused
 * `PARENT_DELETED` (PD1); that device is told (`edit` event) and converges to the server (PD5, P9): the
 * todo gone under `cascade`, kept with its reference cleared under `set null`. SQLite with
 * `PRAGMA foreign_keys = ON` and the foreign key in the database, as a Drizzle migration makes it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { EditEvent, SyncClient } from '@lastword/client'
import { createSyncServer, type SyncServer } from '@lastword/server'
import { eventually, manualClock, newClient, settle, whenOnline, type TestServer } from './fixture.js'

interface List {
  name: string
}
interface Todo {
  title: string
  list_uid: string | null
}

function tablesFor(onDelete: 'cascade' | 'set null') {
  const lists = sqliteTable('lists', { uid: text('uid').primaryKey(), name: text('name').notNull() })
  const todos = sqliteTable('todos', { uid: text('uid').primaryKey(), title: text('title').notNull(), list_uid: text('list_uid').references(() => lists.uid, { onDelete }) })
  return { lists, todos }
}

interface RelServer {
  url: string
  sqlite: Database.Database
  close(): Promise<void>
}

async function startRelServer(onDelete: 'cascade' | 'set null'): Promise<RelServer> {
  const dir = mkdtempSync(join(tmpdir(), 'relclient-parent-'))
  const sqlite = new Database(join(dir, 'app.db'))
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.exec('CREATE TABLE lists (uid text PRIMARY KEY NOT NULL, name text NOT NULL)')
  sqlite.exec(`CREATE TABLE todos (uid text PRIMARY KEY NOT NULL, title text NOT NULL, list_uid text REFERENCES lists(uid) ON DELETE ${onDelete.toUpperCase()})`)
  const sync: SyncServer = createSyncServer({ db: drizzle(sqlite), tables: tablesFor(onDelete), limits: { maxRequestsPerSecond: 10_000 } })
  await sync.migrate()
  const http: HttpServer = createServer()
  sync.attach(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    sqlite,
    async close() {
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      sqlite.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let server: RelServer | undefined
const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = undefined
})

/** A device holding both tables (its scopes: every list and every todo). */
function device(relServer: RelServer, clock: ReturnType<typeof manualClock>): SyncClient {
  const { client } = newClient({ url: relServer.url } as TestServer, { clock })
  clients.push(client)
  client.table<List>('lists').subscribe({}, () => undefined)
  client.table<Todo>('todos').subscribe({}, () => undefined)
  return client
}

describe.each(['cascade', 'set null'] as const)('a todo edited offline while its list is deleted elsewhere (onDelete %s)', (onDelete) => {
  it('the edit is refused PARENT_DELETED, the editor is told, and every device converges to the server', async () => {
    server = await startRelServer(onDelete)
    const clock = manualClock()
    const laptop = device(server, clock)
    const phone = device(server, clock)
    await Promise.all([whenOnline(laptop), whenOnline(phone)])
    const list = await laptop.table<List>('lists').create({ name: 'groceries' })
    await settle(laptop)
    const todo = await laptop.table<Todo>('todos').create({ title: 'milk', list_uid: list })
    await settle(laptop)
    await eventually(async () => expect(await phone.table<Todo>('todos').findUnique(todo)).toMatchObject({ title: 'milk' }))
    await settle(phone)
    const edits: EditEvent[] = []
    phone.on('edit', (e) => edits.push(e))

    laptop.disconnect()
    phone.disconnect()
    clock.advance(1_000)
    await laptop.table<List>('lists').delete(list) // PD4: carried to the todo in the same transaction
    clock.advance(1_000)
    await phone.table<Todo>('todos').update(todo, { title: 'oat milk' }) // later than the delete
    laptop.connect()
    await settle(laptop)
    phone.connect()
    await whenOnline(phone)

    await eventually(() => expect(edits).toContainEqual(expect.objectContaining({ kind: 'rejected', table: 'todos', uid: todo, error: expect.objectContaining({ code: 'PARENT_DELETED' }) })))
    await settle(phone)
    await settle(laptop)
    const serverTodos = (server.sqlite.prepare('SELECT uid, title, list_uid FROM todos').all() as Array<{ uid: string; title: string; list_uid: string | null }>)
    if (onDelete === 'cascade') {
      expect(serverTodos).toEqual([])
      for (const d of [laptop, phone]) expect(await d.table<Todo>('todos').findMany()).toEqual([])
    } else {
      // The laptop cleared the reference (PD4) and pushed it; the phone's refused edit gave way to it.
      expect(serverTodos).toEqual([{ uid: todo, title: 'milk', list_uid: null }])
      for (const d of [laptop, phone]) await eventually(async () => expect(await d.table<Todo>('todos').findMany()).toEqual([{ uid: todo, title: 'milk', list_uid: null }]))
    }
    for (const d of [laptop, phone]) expect(await d.table<List>('lists').findMany()).toEqual([])
    // Nothing left for the app to decide: a retry would be refused again.
    expect(await phone.rejected()).toEqual([])
  })
})
