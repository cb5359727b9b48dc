/**
 * Type tests: the server typed by its `tables`. Compiled by vitest's typecheck mode
 * (`npx vitest run --project server`, part of `npm test`) and by the package's `typecheck`; nothing
 * here runs. Each `@ts-expect-error` is a mistake the compiler must refuse.
 */
import type Database from 'better-sqlite3'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { pgTable, text as pgText, uuid } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { describe, expectTypeOf, it } from 'vitest'
import { createSyncServer, type Authenticate, type Principal, type SyncServer, type SyncTables, type TableService } from '../src/index.js'

const todos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  tenant: text('tenant').notNull(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
  priority: integer('priority'),
  due: integer('due', { mode: 'timestamp_ms' }),
  tags: text('tags', { mode: 'json' }).$type<string[]>(),
})
const notes = sqliteTable('notes', { uid: text('uid').primaryKey(), body: text('body').notNull() })

interface AppPrincipal extends Principal {
  tenant: string
}
declare const db: BetterSQLite3Database & { $client: Database.Database }
declare const authenticate: Authenticate<AppPrincipal>

// As an app declares them in a module of their own (the client imports their type): `satisfies`
// checks them and types `p` without widening the object's type.
const tables = {
  todos: { table: todos, serverColumns: { tenant: (p) => p?.tenant } },
  notes,
} satisfies SyncTables<AppPrincipal>

const sync = createSyncServer({ db, tables, authenticate })
// Inline, as the README's first example writes it.
const inline = createSyncServer({ db, tables: { todos, notes: { table: notes, serverColumns: { body: (p) => p?.id } } } })

describe('a server typed by its tables', () => {
  it('service(name): only the names of `tables`', () => {
    void sync.service('notes')
    expectTypeOf(sync).toEqualTypeOf<SyncServer<typeof tables>>()
    expectTypeOf(inline.service('notes').findMany).returns.resolves.toEqualTypeOf<{ uid: string; body: string }[]>()
    // @ts-expect-error not a synced table (inline tables)
    void inline.service('todoz')
    // @ts-expect-error not a synced table
    void sync.service('todoz')
    // @ts-expect-error erase names a synced table too
    void sync.erase('todoz', 'u')
  })

  it('reads rows of the select model, timestamps as ISO strings', async () => {
    const todo = await sync.service('todos').findUnique('u')
    expectTypeOf(todo).toEqualTypeOf<{
      uid: string
      tenant: string
      title: string
      done: boolean
      priority: number | null
      due: string | null
      tags: string[] | null
    } | null>()
    expectTypeOf(await sync.service('notes').findMany()).toEqualTypeOf<{ uid: string; body: string }[]>()
  })

  it('create takes the insert model (Drizzle defaults optional; the app may set server-owned columns)', () => {
    const service = sync.service('todos')
    void service.create({ tenant: 'acme', title: 'milk' })
    void service.create({ uid: 'u', tenant: 'acme', title: 'milk', done: true, due: new Date(), tags: ['a'] })
    // @ts-expect-error `title` is required
    void service.create({ tenant: 'acme' })
    // @ts-expect-error not a column
    void service.create({ tenant: 'acme', title: 'milk', titel: 'x' })
    // @ts-expect-error a value of the wrong type
    void service.create({ tenant: 'acme', title: 'milk', done: 'yes' })
  })

  it('update and findMany: column names and value types', () => {
    const service = sync.service('todos')
    void service.update('u', { done: true, tenant: 'other' })
    // @ts-expect-error not a column
    void service.update('u', { titel: 'x' })
    // @ts-expect-error a record's uid never changes
    void service.update('u', { uid: 'v' })
    void service.findMany({ done: false, priority: { gte: 2 }, due: { lt: new Date() } })
    // @ts-expect-error not a column
    void service.findMany({ titel: 'a' })
    // @ts-expect-error a value of the wrong type
    void service.findMany({ done: 'yes' })
    // @ts-expect-error JSON columns cannot be filtered on
    void service.findMany({ tags: ['a'] })
  })

  it("tables keyed by the app's own primary key: rows, creates and patches carry the uid under it", async () => {
    const items = pgTable('items', { id: uuid('id').primaryKey().defaultRandom(), name: pgText('name').notNull(), owner: uuid('owner') })
    const labels = sqliteTable('labels', { id: text('id').primaryKey(), text: text('text').notNull() })
    const keyed = createSyncServer({ db, tables: { items, labels } })
    expectTypeOf(await keyed.service('items').findUnique('u')).toEqualTypeOf<{ id: string; name: string; owner: string | null } | null>()
    expectTypeOf(await keyed.service('labels').findMany()).toEqualTypeOf<{ id: string; text: string }[]>()
    void keyed.service('items').create({ name: 'a' })
    void keyed.service('items').create({ id: '0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b', name: 'a' })
    // @ts-expect-error the key is `id`: `uid` is not a column of this table
    void keyed.service('labels').create({ uid: 'u', text: 'a' })
    // @ts-expect-error a record's uid (its key) never changes
    void keyed.service('labels').update('u', { id: 'v' })
    // @ts-expect-error the key is not a filter column (findUnique reads by it)
    void keyed.service('items').findMany({ id: 'u' })
  })

  it('is still a SyncServer, and untyped services stay open', async () => {
    const plain: SyncServer = sync
    const service: TableService = plain.service('anything')
    expectTypeOf(await service.findMany({ whatever: 1 })).toEqualTypeOf<{ [column: string]: unknown; uid: string }[]>()
  })
})
