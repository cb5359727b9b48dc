/**
 * One app table, `items`, at each version of its schema in both dialects: the Drizzle table and the
 * app's migration (DDL) that brings the database there. Version 1: `title` varchar(10), `old_note`,
 * `n` integer, `gone`. Each change below is one of SPEC.md section 11's (SV1, SV3, SV4, SV5, SV6).
 */
import type { Table } from 'drizzle-orm'
import { integer as pgInteger, pgTable, text as pgText, varchar } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { DbHarness } from '../fixtures/db.js'

export interface Deploy {
  /** The app's migration, run before the new server starts. */
  ddl: string[]
  table: Table
  renamed?: Record<string, string>
}

export interface Kit {
  harness: DbHarness
  v1: Deploy
  addNote: Deploy // SV1 nullable
  addRank: Deploy // SV1 NOT NULL with a default
  dropGone: Deploy // SV3
  renameNote: Deploy // SV4
  widenTitle: Deploy // SV5
  retypeN: Deploy // SV6: refused
  requiredNoDefault: Deploy // SV6: refused
  /** A second table, added by a later deploy (SV1 for tables). */
  extra: Deploy
}

export function sqliteKit(harness: DbHarness): Kit {
  const base = { uid: text('uid').primaryKey(), title: text('title', { length: 10 }).notNull(), old_note: text('old_note'), n: integer('n'), gone: text('gone') }
  const { gone: _g, ...withoutGone } = base
  const { old_note: _o, ...withoutOld } = base
  return {
    harness,
    v1: { ddl: ['CREATE TABLE items (uid TEXT PRIMARY KEY, title TEXT NOT NULL, old_note TEXT, n INTEGER, gone TEXT)'], table: sqliteTable('items', base) },
    addNote: { ddl: ['ALTER TABLE items ADD COLUMN note TEXT'], table: sqliteTable('items', { ...base, note: text('note') }) },
    addRank: { ddl: ['ALTER TABLE items ADD COLUMN rank INTEGER NOT NULL DEFAULT 7'], table: sqliteTable('items', { ...base, rank: integer('rank').notNull().default(7) }) },
    dropGone: { ddl: ['ALTER TABLE items DROP COLUMN gone'], table: sqliteTable('items', withoutGone) },
    renameNote: {
      ddl: ['ALTER TABLE items RENAME COLUMN old_note TO note'],
      table: sqliteTable('items', { ...withoutOld, note: text('note') }),
      renamed: { note: 'old_note' },
    },
    widenTitle: { ddl: [], table: sqliteTable('items', { ...base, title: text('title', { length: 100 }).notNull() }) },
    retypeN: { ddl: [], table: sqliteTable('items', { ...base, n: text('n') }) },
    requiredNoDefault: { ddl: ['ALTER TABLE items ADD COLUMN must TEXT'], table: sqliteTable('items', { ...base, must: text('must').notNull() }) },
    extra: { ddl: ['CREATE TABLE extra (uid TEXT PRIMARY KEY, label TEXT)'], table: sqliteTable('extra', { uid: text('uid').primaryKey(), label: text('label') }) },
  }
}

export function pgKit(harness: DbHarness): Kit {
  const base = { uid: pgText('uid').primaryKey(), title: varchar('title', { length: 10 }).notNull(), old_note: pgText('old_note'), n: pgInteger('n'), gone: pgText('gone') }
  const { gone: _g, ...withoutGone } = base
  const { old_note: _o, ...withoutOld } = base
  return {
    harness,
    v1: { ddl: ['CREATE TABLE items (uid text PRIMARY KEY, title varchar(10) NOT NULL, old_note text, n integer, gone text)'], table: pgTable('items', base) },
    addNote: { ddl: ['ALTER TABLE items ADD COLUMN note text'], table: pgTable('items', { ...base, note: pgText('note') }) },
    addRank: { ddl: ['ALTER TABLE items ADD COLUMN rank integer NOT NULL DEFAULT 7'], table: pgTable('items', { ...base, rank: pgInteger('rank').notNull().default(7) }) },
    dropGone: { ddl: ['ALTER TABLE items DROP COLUMN gone'], table: pgTable('items', withoutGone) },
    renameNote: {
      ddl: ['ALTER TABLE items RENAME COLUMN old_note TO note'],
      table: pgTable('items', { ...withoutOld, note: pgText('note') }),
      renamed: { note: 'old_note' },
    },
    widenTitle: { ddl: ['ALTER TABLE items ALTER COLUMN title TYPE varchar(100)'], table: pgTable('items', { ...base, title: varchar('title', { length: 100 }).notNull() }) },
    retypeN: { ddl: [], table: pgTable('items', { ...base, n: pgText('n') }) },
    requiredNoDefault: { ddl: ['ALTER TABLE items ADD COLUMN must text'], table: pgTable('items', { ...base, must: pgText('must').notNull() }) },
    extra: { ddl: ['CREATE TABLE extra (uid text PRIMARY KEY, label text)'], table: pgTable('extra', { uid: pgText('uid').primaryKey(), label: pgText('label') }) },
  }
}
