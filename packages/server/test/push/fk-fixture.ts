/**
 * A `lists`/`todos` pair with a REAL foreign key (todos.list_id references lists.uid), on a fresh
 * better-sqlite3 file (`PRAGMA foreign_keys = ON`) or a fresh PostgreSQL schema (named after this
 * branch, `relational_…`, so concurrent runs do not collide), with the engine over it. The database
 * also holds two constraints lastword does not know of, as an app's migration may: a CHECK on
 * `todos.title` (no title `'vetoed'`, checked at each statement) and a foreign key from `todos.tag` to
 * `tags`, a table lastword does not sync (PD1 leaves such keys to the database), declared
 * `DEFERRABLE INITIALLY DEFERRED`: checked at commit on both dialects. `tags` holds one code, `home`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { sqliteTable, text } from 'drizzle-orm/sqlite-core'
import pg from 'pg'
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/index.js'
import { PG_URL } from '../fixtures/db.js'

export const sqliteLists = sqliteTable('lists', { uid: text('uid').primaryKey(), name: text('name').notNull() })
export const sqliteTodos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  list_id: text('list_id')
    .notNull()
    .references(() => sqliteLists.uid),
  title: text('title').notNull(),
  tag: text('tag'),
})
export const pgLists = pgTable('lists', { uid: pgText('uid').primaryKey(), name: pgText('name').notNull() })
export const pgTodos = pgTable('todos', {
  uid: pgText('uid').primaryKey(),
  list_id: pgText('list_id')
    .notNull()
    .references(() => pgLists.uid),
  title: pgText('title').notNull(),
  tag: pgText('tag'),
})

const DDL = [
  'CREATE TABLE lists (uid text PRIMARY KEY NOT NULL, name text NOT NULL)',
  'CREATE TABLE tags (code text PRIMARY KEY NOT NULL)',
  "INSERT INTO tags (code) VALUES ('home')",
  "CREATE TABLE todos (uid text PRIMARY KEY NOT NULL, list_id text NOT NULL REFERENCES lists (uid), title text NOT NULL CHECK (title <> 'vetoed'), tag text REFERENCES tags (code) DEFERRABLE INITIALLY DEFERRED)",
]

/** The engine over a fresh database with the pair, and raw reads of it. */
export interface FkDb {
  dialect: 'sqlite' | 'postgres'
  engine: Engine
  /** The app rows of a table, by uid. */
  rows(table: 'lists' | 'todos'): Promise<Array<Record<string, unknown>>>
  /** Every row of the app's and lastword's tables: equal snapshots = nothing written. */
  snapshot(): Promise<string>
  /** The SQL the engine ran so far (its connection's statements, in order). */
  statements(): string[]
  close(): Promise<void>
}

export type FkHarness = (options?: Partial<EngineOptions>) => Promise<FkDb>

export const sqliteFk: FkHarness = async (options = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'relational-'))
  const file = join(dir, 'app.db')
  const client = new Database(file)
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = FULL')
  client.pragma('foreign_keys = ON')
  for (const statement of DDL) client.exec(statement)
  const ran: string[] = []
  const prepare = client.prepare.bind(client)
  Object.assign(client, {
    prepare: (source: string) => {
      ran.push(source)
      return prepare(source)
    },
  })
  const engine = createEngine({ db: drizzleSqlite({ client }), tables: { lists: sqliteLists, todos: sqliteTodos }, ...options })
  await engine.migrate()
  const all = (text: string) => client.prepare(text).all() as Array<Record<string, unknown>>
  return {
    dialect: 'sqlite',
    engine,
    statements: () => [...ran],
    rows: async (table) => all(`SELECT * FROM ${table} ORDER BY uid`),
    snapshot: async () => JSON.stringify(['lists', 'todos', 'lastword_meta', 'lastword_changes', 'lastword_state'].map((t) => all(`SELECT * FROM ${t} ORDER BY 1, 2`))),
    async close() {
      await engine.close()
      client.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const pgFk: FkHarness = async (options = {}) => {
  const schema = `relational_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const ran: string[] = []
  // Every statement of the engine's pool goes through its clients' `query`.
  class RecordingClient extends pg.Client {
    override query(...args: unknown[]): never {
      const first = args[0]
      ran.push(typeof first === 'string' ? first : String((first as { text?: unknown } | null)?.text ?? ''))
      return (super.query as (...a: unknown[]) => never)(...args)
    }
  }
  const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 6, Client: RecordingClient })
  for (const statement of DDL) await pool.query(statement)
  const engine = createEngine({ db: drizzlePg({ client: pool }), tables: { lists: pgLists, todos: pgTodos }, ...options })
  await engine.migrate()
  const all = async (text: string) => (await pool.query(text)).rows as Array<Record<string, unknown>>
  return {
    dialect: 'postgres',
    engine,
    statements: () => [...ran],
    rows: (table) => all(`SELECT * FROM ${table} ORDER BY uid`),
    snapshot: async () => JSON.stringify(await Promise.all(['lists', 'todos', 'lastword_meta', 'lastword_changes', 'lastword_state'].map((t) => all(`SELECT * FROM ${t} ORDER BY 1, 2`)))),
    async close() {
      await engine.close()
      await pool.end()
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    },
  }
}
