/**
 * `describeTables`: the descriptors an app writes out for the browser are the server's own (what its
 * `lw:hello` sends), computed without a database, and survive a JSON round trip.
 */
import Database from 'better-sqlite3'
import { assertTableDescriptor, type TableDescriptor } from '@lastword/core'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { blob, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { afterEach, describe, expect, it } from 'vitest'
import { createSyncServer, describeTables, isLastwordError, type SyncServer, type SyncTables } from '../src/index.js'
import { sqliteNotes, sqliteTodos } from './fixtures/schema.js'

const tables = {
  todos: { table: sqliteTodos, serverColumns: { tenant: (p) => p?.['tenant'] } },
  notes: sqliteNotes,
} satisfies SyncTables
const servers: SyncServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

describe('describeTables', () => {
  it("gives the descriptors the server's hello sends, server-owned columns not writable", () => {
    const server = createSyncServer({ db: drizzle(new Database(':memory:')), tables })
    servers.push(server)
    const described = describeTables(tables)
    expect(described).toEqual(server.engine.tables)
    const todos = described.find((t) => t.name === 'todos') as TableDescriptor
    expect(todos.columns.find((c) => c.name === 'tenant')).toMatchObject({ writable: false, nullable: false, type: 'text' })
    expect(todos.columns.find((c) => c.name === 'title')).toMatchObject({ writable: true, nullable: false, type: 'text' })
    expect(todos.columns.map((c) => c.name)).not.toContain('uid')
    expect(described.map((t) => t.name)).toEqual(['todos', 'notes'])
  })

  it('survives JSON (what an app writes out and the client imports)', () => {
    const json: unknown = JSON.parse(JSON.stringify(describeTables(tables)))
    expect(json).toEqual(describeTables(tables))
    for (const table of json as TableDescriptor[]) expect(assertTableDescriptor(table)).toBe(table)
  })

  it('refuses a table lastword cannot sync, with BAD_REQUEST, like createSyncServer', () => {
    const files = sqliteTable('files', { uid: text('uid').primaryKey(), data: blob('data') })
    const counted = sqliteTable('counted', { id: integer('id').primaryKey(), a: text('a') })
    for (const bad of [{ files }, { counted }] as SyncTables[]) {
      let caught: unknown
      try {
        describeTables(bad)
      } catch (error) {
        caught = error
      }
      expect(isLastwordError(caught, 'BAD_REQUEST')).toBe(true)
    }
  })
})
