/** The benchmark's synced table, as an app declares it with Drizzle, for each dialect. */
import { boolean, integer as pgInteger, pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const itemsSqlite = sqliteTable('items', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  body: text('body').notNull(),
  priority: integer('priority').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull(),
  tag: text('tag').notNull(),
})

export const itemsPg = pgTable('items', {
  uid: pgText('uid').primaryKey(),
  title: pgText('title').notNull(),
  body: pgText('body').notNull(),
  priority: pgInteger('priority').notNull(),
  done: boolean('done').notNull(),
  tag: pgText('tag').notNull(),
})

export const CREATE_SQLITE = 'create table if not exists items (uid text primary key, title text not null, body text not null, priority integer not null, done integer not null, tag text not null)'
export const CREATE_PG = 'create table if not exists items (uid text primary key, title text not null, body text not null, priority integer not null, done boolean not null, tag text not null)'
