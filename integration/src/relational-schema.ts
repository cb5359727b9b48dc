/**
 * The relational pair of row T30: `lists` (the parent) and `todos` (the child), with a REAL foreign key in
 * the database, `todos.list_id REFERENCES lists (uid) ON DELETE <cascade | set null>` — the key Drizzle's
 * `references()` declares, so lastword's descriptors carry it too (SPEC.md section 4a). `list_id` is
 * nullable (set null clears it); `tag` is what a child-only scope filters on; `title` carries each write's
 * unique value. better-sqlite3 with `PRAGMA foreign_keys = ON`, or PostgreSQL (`PG_URL`: one schema per
 * test file and action, reset between runs, dropped after).
 */
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { sqliteTable, text } from 'drizzle-orm/sqlite-core'
import pg from 'pg'
import type { TableInput } from '@lastword/server'
import { PG_URL, type TestDatabase } from './databases.js'
import { pgDocs, pgItems, sqliteDocs, sqliteItems } from './schema.js'

export type OnDelete = 'cascade' | 'set null'

export interface ListRow {
  name: string
}
export interface TodoRow {
  list_id: string | null
  title: string
  tag: string
}

/** The tags of children; scope `{ tag: 'x' }` is the child-only scope that sees a part of them. */
export const TAGS = ['x', 'y'] as const

function sqliteTables(onDelete: OnDelete) {
  const lists = sqliteTable('lists', { uid: text('uid').primaryKey(), name: text('name').notNull() })
  const todos = sqliteTable('todos', {
    uid: text('uid').primaryKey(),
    list_id: text('list_id').references(() => lists.uid, { onDelete }),
    title: text('title').notNull(),
    tag: text('tag').notNull(),
  })
  return { lists, todos }
}

function pgTables(onDelete: OnDelete) {
  const lists = pgTable('lists', { uid: pgText('uid').primaryKey(), name: pgText('name').notNull() })
  const todos = pgTable('todos', {
    uid: pgText('uid').primaryKey(),
    list_id: pgText('list_id').references(() => lists.uid, { onDelete }),
    title: pgText('title').notNull(),
    tag: pgText('tag').notNull(),
  })
  return { lists, todos }
}

/** The DDL a Drizzle migration of the tables above makes (both dialects accept it as written). */
export function relationalDdl(onDelete: OnDelete): string[] {
  return [
    'CREATE TABLE IF NOT EXISTS lists (uid text PRIMARY KEY NOT NULL, name text NOT NULL)',
    `CREATE TABLE IF NOT EXISTS todos (uid text PRIMARY KEY NOT NULL, list_id text REFERENCES lists (uid) ON DELETE ${onDelete.toUpperCase()}, title text NOT NULL, tag text NOT NULL)`,
  ]
}

/** A database holding the pair; `database` is what the server kit serves (its `items`/`docs` unused). */
export interface RelationalDatabase {
  database: TestDatabase
  tables: Record<string, TableInput>
  onDelete: OnDelete
}

/** better-sqlite3 in memory, `PRAGMA foreign_keys = ON`. */
export function openRelationalSqlite(onDelete: OnDelete): RelationalDatabase {
  const client = new Database(':memory:')
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = FULL')
  client.pragma('foreign_keys = ON')
  for (const statement of relationalDdl(onDelete)) client.exec(statement)
  const database: TestDatabase = {
    dialect: 'sqlite',
    db: drizzleSqlite({ client }),
    items: sqliteItems,
    docs: sqliteDocs,
    async raw(sql, params = []) {
      const statement = client.prepare(sql)
      return statement.reader ? (statement.all(...params) as Array<Record<string, unknown>>) : (statement.run(...params), [])
    },
    async close() {
      if (client.open) client.close()
    },
  }
  return { database, tables: sqliteTables(onDelete), onDelete }
}

/** One PostgreSQL schema for a test file and an action; `open()` resets it for each run. */
export interface RelationalPgSchema {
  open(): Promise<RelationalDatabase>
  drop(): Promise<void>
}

export function relationalPgSchema(label: string, onDelete: OnDelete): RelationalPgSchema {
  const name = `lw_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  let pools: { pool: pg.Pool; side: pg.Pool } | null = null
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  return {
    async open() {
      if (pools === null) {
        await admin(`DROP SCHEMA IF EXISTS ${name} CASCADE; CREATE SCHEMA ${name}`)
        const options = `-c search_path=${name}`
        const pool = new pg.Pool({ connectionString: PG_URL, options, max: 4 })
        pool.on('error', () => undefined)
        pools = { pool, side: new pg.Pool({ connectionString: PG_URL, options, max: 2 }) }
        for (const statement of relationalDdl(onDelete)) await pools.side.query(statement)
      } else {
        // A reset, not a write to sync: the capture triggers (which refuse TRUNCATE) stay out of it.
        await pools.side.query(
          `BEGIN; SET LOCAL session_replication_role = replica; TRUNCATE todos, lists; DO $$ BEGIN IF to_regclass('lastword_meta') IS NOT NULL THEN TRUNCATE lastword_meta, lastword_changes, lastword_erasures; UPDATE lastword_state SET rev = 0, horizon_rev = 0; END IF; END $$; COMMIT`,
        )
      }
      const { pool, side } = pools
      const database: TestDatabase = {
        dialect: 'postgres',
        db: drizzlePg({ client: pool }),
        items: pgItems,
        docs: pgDocs,
        async raw(sql, params = []) {
          return (await side.query(sql, params)).rows as Array<Record<string, unknown>>
        },
        async close() {
          // The pools belong to the schema (drop() ends them).
        },
      }
      return { database, tables: pgTables(onDelete), onDelete }
    },
    async drop() {
      if (pools !== null) {
        await pools.pool.end()
        await pools.side.end()
        pools = null
      }
      await admin(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
    },
  }
}
