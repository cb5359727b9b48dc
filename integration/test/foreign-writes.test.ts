/**
 * Row T24 end to end (ARCHITECTURE.md, "Capture"): writes that never went through lastword — plain SQL
 * on the server's database, rows that were there before lastword's triggers — reach real clients: an
 * online one at its next sync (incremental pull), a new one at its initial sync. Every client ends
 * equal to the server's table (I1).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import type { SyncClient } from '@lastword/client'
import { dropCapture } from '@lastword/server'
import { newClient, readAll, serverRows, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []

/** A client online and holding the whole `todos` table. */
async function online(): Promise<SyncClient> {
  const { client } = newClient(server)
  clients.push(client)
  client.table<Todo>('todos').subscribe({}, () => undefined)
  await whenOnline(client)
  await settle(client)
  return client
}

describe('writes that do not go through lastword reach real clients (T24)', () => {
  beforeEach(async () => {
    server = await startServer()
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await server.close()
  })

  it('plain SQL on the server database: an online client gets it at its next sync, a new client at its initial sync', async () => {
    const laptop = await online()
    await laptop.table<Todo>('todos').create({ title: 'from the laptop', done: false, priority: null })
    await settle(laptop)
    server.sqlite.prepare(`INSERT INTO todos (uid, title, done, priority) VALUES ('sql-1', 'from SQL', 0, 2)`).run()
    server.sqlite.prepare(`INSERT INTO todos (uid, title, done, priority) VALUES ('sql-2', 'to delete', 1, NULL)`).run()
    await settle(laptop)
    expect(await readAll(laptop)).toEqual(serverRows(server))
    expect((await readAll(laptop)).find((r) => r.uid === 'sql-1')).toMatchObject({ title: 'from SQL', done: false, priority: 2 })
    server.sqlite.prepare(`UPDATE todos SET done = 1, title = 'done by SQL' WHERE uid = 'sql-1'`).run()
    server.sqlite.prepare(`DELETE FROM todos WHERE uid = 'sql-2'`).run()
    await settle(laptop)
    expect(await readAll(laptop)).toEqual(serverRows(server))
    expect((await readAll(laptop)).map((r) => r.uid)).not.toContain('sql-2')
    const phone = await online()
    expect(await readAll(phone)).toEqual(serverRows(server))
  })

  it('rows written while there were no triggers are backfilled at the next start and reach clients', async () => {
    const laptop = await online()
    // As if these rows predated lastword: no trigger sees them.
    await dropCapture(drizzle(server.sqlite))
    for (let i = 0; i < 25; i++) server.sqlite.prepare(`INSERT INTO todos (uid, title, done, priority) VALUES ('old-${i}', 'old ${i}', 0, ${i})`).run()
    await settle(laptop)
    expect(await readAll(laptop)).toEqual([])
    await server.restart()
    await settle(laptop)
    expect(await readAll(laptop)).toHaveLength(25)
    expect(await readAll(laptop)).toEqual(serverRows(server))
  })
})
