/**
 * Which primary keys a synced table may have (core's SPEC.md section 4, "The key"; the server's
 * table-key.ts): one text, varchar (36 or longer) or uuid column, under any Drizzle key and SQL name.
 * Integer keys (serial, identity, integer, bigint), composite keys and tables without a primary key are
 * refused when the server is created — and by `describeTables` — with `BAD_REQUEST` saying why (offline
 * creates make their ids on the client) and how to adapt (a text or uuid key, with an example).
 */
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import {
  bigint,
  bigserial,
  char,
  integer as pgInteger,
  pgTable,
  primaryKey as pgPrimaryKey,
  serial,
  text as pgText,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core'
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createSyncServer, describeTables, isLastwordError, type SyncTables } from '../../src/index.js'

// A pool that never connects: tables are read when the server is created, before any query.
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', max: 1 })
afterAll(() => pool.end())

/** The refusal of `tables`, by createSyncServer on its dialect's database and by describeTables alike. */
function refusal(tables: SyncTables, dialect: 'sqlite' | 'postgres'): { message: string; details: Record<string, unknown> | undefined } {
  let described: unknown
  try {
    describeTables(tables)
  } catch (error) {
    described = error
  }
  let created: unknown
  try {
    createSyncServer({ db: dialect === 'sqlite' ? drizzleSqlite(new Database(':memory:')) : drizzlePg({ client: pool }), tables })
  } catch (error) {
    created = error
  }
  for (const error of [described, created]) expect(isLastwordError(error, 'BAD_REQUEST')).toBe(true)
  const error = created as { message: string; details: Record<string, unknown> | undefined }
  expect((described as Error).message).toBe(error.message)
  return error
}

/** What every refusal says: the keys that work, why, and an example to copy. */
function expectAdvice(message: string): void {
  expect(message).toContain('text, varchar or uuid primary key')
  expect(message).toContain('offline')
  expect(message).toContain("id: uuid('id').primaryKey().defaultRandom()")
  expect(message).toContain("id: text('id').primaryKey()")
}

describe('integer primary keys are refused', () => {
  const cases: Array<[string, SyncTables, 'sqlite' | 'postgres']> = [
    ['SQLite integer autoincrement', { t: sqliteTable('t', { id: integer('id').primaryKey({ autoIncrement: true }), a: text('a') }) }, 'sqlite'],
    ['SQLite integer', { t: sqliteTable('t', { id: integer('id').primaryKey(), a: text('a') }) }, 'sqlite'],
    ['PostgreSQL serial', { t: pgTable('t', { id: serial('id').primaryKey(), a: pgText('a') }) }, 'postgres'],
    ['PostgreSQL bigserial', { t: pgTable('t', { id: bigserial('id', { mode: 'number' }).primaryKey(), a: pgText('a') }) }, 'postgres'],
    ['PostgreSQL identity', { t: pgTable('t', { id: pgInteger('id').primaryKey().generatedAlwaysAsIdentity(), a: pgText('a') }) }, 'postgres'],
    ['PostgreSQL bigint', { t: pgTable('t', { id: bigint('id', { mode: 'bigint' }).primaryKey(), a: pgText('a') }) }, 'postgres'],
  ]
  it.each(cases)('%s', (_, tables, dialect) => {
    const { message, details } = refusal(tables, dialect)
    expect(message).toContain('integer primary key ("id")')
    expectAdvice(message)
    expect(details).toMatchObject({ table: 't', column: 'id', reason: 'integer-key' })
  })
})

describe('composite keys, no key, keys of other types', () => {
  it('a composite primary key, in either dialect', () => {
    const sqlite = sqliteTable('links', { a: text('a').notNull(), b: text('b').notNull() }, (t) => [primaryKey({ columns: [t.a, t.b] })])
    const postgres = pgTable('links', { a: pgText('a').notNull(), b: pgText('b').notNull() }, (t) => [pgPrimaryKey({ columns: [t.a, t.b] })])
    for (const [tables, dialect] of [[{ links: sqlite }, 'sqlite'], [{ links: postgres }, 'postgres']] as const) {
      const { message, details } = refusal(tables, dialect)
      expect(message).toContain('composite primary key (a, b)')
      expect(message).toContain('unique index')
      expectAdvice(message)
      expect(details).toMatchObject({ table: 'links', reason: 'composite-key' })
    }
  })

  it('no primary key', () => {
    const { message, details } = refusal({ notes: sqliteTable('notes', { body: text('body') }) }, 'sqlite')
    expect(message).toContain('Table "notes" has no primary key')
    expectAdvice(message)
    expect(details).toMatchObject({ reason: 'no-key' })
  })

  it('a key of another type, and a varchar too short for a UUID', () => {
    expect(refusal({ t: pgTable('t', { id: char('id', { length: 36 }).primaryKey() }) }, 'postgres').details).toMatchObject({ reason: 'key-type' })
    const short = refusal({ t: pgTable('t', { id: varchar('id', { length: 20 }).primaryKey() }) }, 'postgres')
    expect(short.message).toContain('varchar(20)')
    expect(short.details).toMatchObject({ reason: 'key-too-short' })
  })
})

describe('the keys that work', () => {
  it('text, varchar(36+) and uuid keys under any Drizzle key and SQL name; a one-column primaryKey() too; `uid` as before', () => {
    const tables = {
      plain: sqliteTable('plain', { uid: text('uid').primaryKey(), a: text('a') }),
      labels: sqliteTable('labels', { id: text('label_id').primaryKey(), a: text('a') }),
      codes: pgTable('codes', { code: varchar('code', { length: 36 }).primaryKey(), a: pgText('a') }),
      items: pgTable('items', { id: uuid('id').primaryKey().defaultRandom(), owner: uuid('owner') }),
      apart: sqliteTable('apart', { key: text('key').notNull(), a: text('a') }, (t) => [primaryKey({ columns: [t.key] })]),
    }
    expect(describeTables(tables).map((d) => [d.name, d.key, d.keyType, d.columns.map((c) => `${c.name}:${c.type}`)])).toEqual([
      ['plain', undefined, undefined, ['a:text']],
      ['labels', 'id', undefined, ['a:text']],
      ['codes', 'code', undefined, ['a:text']],
      ['items', 'id', 'uuid', ['owner:uuid']],
      ['apart', 'key', undefined, ['a:text']],
    ])
  })

  it('serverColumns may not name the key', () => {
    const items = pgTable('items', { id: uuid('id').primaryKey(), owner: pgText('owner') })
    const error = refusal({ items: { table: items, serverColumns: { id: () => 'x' } } } as SyncTables, 'postgres')
    expect(error.message).toContain('serverColumns.id')
  })
})
