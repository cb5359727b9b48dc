/**
 * The demo's one synced table, for each dialect. The web app takes its row type from here through a
 * type-only import (`Todo`), so no Drizzle code reaches the browser.
 */
import { boolean, pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const sqliteTodos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
  /** Which simulated device wrote the current version (shown as "who won"). */
  edited_by: text('edited_by'),
})

export const pgTodos = pgTable('todos', {
  uid: pgText('uid').primaryKey(),
  title: pgText('title').notNull(),
  done: boolean('done').notNull().default(false),
  edited_by: pgText('edited_by'),
})

/** A todo as the app sees it. */
export type Todo = typeof sqliteTodos.$inferSelect

/**
 * The synced tables as the web app types its client (`createSyncClient<DemoTables>`, a type-only
 * import). Both dialects' tables have the same columns, so the same descriptors
 * (`src/lastword-tables.json`, written by `describeTables`; the server checks them at start).
 */
export const demoTables = {
  // Column by column (core's SPEC.md section 3a): a rename on one device and a tick on another both survive.
  todos: { table: sqliteTodos, merge: 'field' as const },
}
export type DemoTables = typeof demoTables

/** Raw DDL run at start, before lastword's own `migrate()`. */
export const CREATE_TODOS_SQLITE = `CREATE TABLE IF NOT EXISTS todos (
  uid text PRIMARY KEY NOT NULL,
  title text NOT NULL,
  done integer NOT NULL DEFAULT 0,
  edited_by text
)`

export const CREATE_TODOS_PG = `CREATE TABLE IF NOT EXISTS todos (
  uid text PRIMARY KEY NOT NULL,
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  edited_by text
)`
