/**
 * One schema, typed end to end: the server's `tables` type the client (`createSyncClient<typeof
 * tables>`) and the services (`sync.service('todos')`), and `describeTables(tables)`, through JSON as an
 * app writes it out, gives the client the descriptors it needs to write before it ever connects. The
 * record written offline reaches the server and is read back through the typed service.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { describeTables, type SyncTables } from '@lastword/server'
import { newClient, settle, startServer, todos, type TestServer } from './fixture.js'

const tables = { todos } satisfies SyncTables

let server: TestServer | undefined
const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = undefined
})

describe('typed tables, descriptors from describeTables', () => {
  it('a typed client writes before connecting, and the typed service reads it on the server', async () => {
    server = await startServer()
    const descriptors: unknown = JSON.parse(JSON.stringify(describeTables(tables)))
    // What the hello sends, less the schema version the server records at migrate() (describeTables reads
    // no database): a client given these pushes full rows of the current schema.
    expect(descriptors).toEqual(server.sync.engine.tables.map(({ schemaVersion: _version, renames: _renames, ...rest }) => rest))
    const { client: untyped } = newClient(server, { autoConnect: false, tables: descriptors as ReturnType<typeof describeTables> })
    const client = untyped as SyncClient<typeof tables>
    clients.push(client)

    // Not connected: the descriptors are the app's, so the write needs no hello.
    const uid = await client.table('todos').create({ title: 'written offline', done: false })
    expect(client.status).toBe('offline')
    expect(await client.pendingCount()).toBe(1)

    client.table('todos').subscribe({ done: false }, () => undefined)
    client.connect()
    await settle(client)
    const service = server.sync.service('todos')
    expect(await service.findUnique(uid)).toEqual({ uid, title: 'written offline', done: false, priority: null })
  })
})
