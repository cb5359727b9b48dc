/** The first-run check of the app's tables on SQLite (`missing-table.cases.ts`). */
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { describe } from 'vitest'
import { runMissingTableSuite } from './missing-table.cases.js'

const todos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
})

describe('first run on SQLite: the app tables', () => {
  runMissingTableSuite(async () => {
    const client = new Database(':memory:')
    return {
      db: drizzle({ client }),
      todos,
      exec: async (statement) => void client.exec(statement),
      createTodos: (withDone) =>
        `CREATE TABLE todos (uid text PRIMARY KEY NOT NULL, title text NOT NULL${withDone ? ', done integer NOT NULL DEFAULT 0' : ''})`,
      lastwordTables: async () =>
        (client.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'lastword%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name),
      close: async () => void client.close(),
    }
  })
})
