/**
 * The app schema of the fault campaign, in both dialects.
 *
 * - `items`: what the fault and model-based runs write. `list` and `done` are what scopes filter on
 *   (`{ list: 'a' }`, `{ list: { in: ['a', 'b'] } }`, `{ done: false }`, `{}`), so updates move records
 *   in and out of scopes; `title` carries each write's unique value (`clientId:seq`).
 * - `docs`: two tenants with overlapping data for the filter attack (S01); `tenant` is server-owned.
 */
import { boolean, doublePrecision, integer as pgInteger, pgTable, text as pgText, timestamp } from 'drizzle-orm/pg-core'
import { integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const sqliteItems = sqliteTable('items', {
  uid: text('uid').primaryKey(),
  list: text('list').notNull(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull(),
  n: integer('n'),
})

export const pgItems = pgTable('items', {
  uid: pgText('uid').primaryKey(),
  list: pgText('list').notNull(),
  title: pgText('title').notNull(),
  done: boolean('done').notNull(),
  n: pgInteger('n'),
})

export const sqliteDocs = sqliteTable('docs', {
  uid: text('uid').primaryKey(),
  tenant: text('tenant').notNull(),
  title: text('title'),
  n: integer('n'),
  score: real('score'),
  done: integer('done', { mode: 'boolean' }),
  due: integer('due', { mode: 'timestamp_ms' }),
})

export const pgDocs = pgTable('docs', {
  uid: pgText('uid').primaryKey(),
  tenant: pgText('tenant').notNull(),
  title: pgText('title'),
  n: pgInteger('n'),
  score: doublePrecision('score'),
  done: boolean('done'),
  due: timestamp('due', { withTimezone: true, precision: 3 }),
})

export const SQLITE_DDL = [
  'CREATE TABLE IF NOT EXISTS items (uid TEXT PRIMARY KEY, list TEXT NOT NULL, title TEXT NOT NULL, done INTEGER NOT NULL, n INTEGER)',
  'CREATE TABLE IF NOT EXISTS docs (uid TEXT PRIMARY KEY, tenant TEXT NOT NULL, title TEXT, n INTEGER, score REAL, done INTEGER, due INTEGER)',
]

export const PG_DDL = [
  'CREATE TABLE IF NOT EXISTS items (uid text PRIMARY KEY, list text NOT NULL, title text NOT NULL, done boolean NOT NULL, n integer)',
  'CREATE TABLE IF NOT EXISTS docs (uid text PRIMARY KEY, tenant text NOT NULL, title text, n integer, score double precision, done boolean, due timestamptz(3))',
]

/** An item as the checkers compare it. */
export interface Item {
  uid: string
  list: string
  title: string
  done: boolean
  n: number | null
}

/** The scopes model-based and fault runs subscribe to: overlapping on purpose. */
export const SCOPES: ReadonlyArray<Record<string, unknown>> = [
  { list: 'a' },
  { list: 'b' },
  { list: { in: ['a', 'b'] } },
  { list: { in: ['b', 'c'] } },
  { done: false },
  { done: true, list: 'c' },
  { n: { gte: 5 } },
  {},
]

export const LISTS = ['a', 'b', 'c'] as const
