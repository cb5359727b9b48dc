/**
 * Type tests: the client typed by the app's Drizzle schema (a type-only import, as an app writes it).
 * Compiled by vitest's typecheck mode (`npx vitest run --project client`, part of `npm test`) and by
 * the package's `typecheck`; nothing here runs. Each `@ts-expect-error` is a mistake the compiler must
 * refuse: if a type stops refusing it, the directive itself is the error.
 */
import { integer as pgInteger, jsonb, pgTable, text as pgText, timestamp, uuid, varchar } from 'drizzle-orm/pg-core'
import { integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { describe, expectTypeOf, it } from 'vitest'
import { createSyncClient, type ClientStatus, type SyncClient, type SyncReport, type TableHandle } from '../src/index.js'
// What `describeTables(tables)` of @lastword/server wrote for the schema below (a JSON import, as an app does).
import descriptors from './fixtures/lastword-tables.json'

// The app's schema (server side); the client only ever sees its type.
const todos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
  priority: integer('priority'),
  score: real('score'),
  due: integer('due', { mode: 'timestamp_ms' }),
  kind: text('kind', { enum: ['task', 'note'] }).notNull(),
  tags: text('tags', { mode: 'json' }).$type<string[]>(),
  tenant: text('tenant').notNull(),
})
const notes = sqliteTable('notes', { uid: text('uid').primaryKey(), body: text('body').notNull() })
// The server's `tables` option: `tenant` is server-owned (filled from the principal).
const tables = { todos: { table: todos, serverColumns: { tenant: (p: { tenant?: string } | null) => p?.tenant } }, notes }

const client = createSyncClient<typeof tables>({ name: 'types', store: 'memory', tables: descriptors })
const handle = client.table('todos')

describe('a client typed by the schema', () => {
  it('knows the table names', () => {
    expectTypeOf(client.table('notes').name).toEqualTypeOf<string>()
    // @ts-expect-error not a table of the schema
    client.table('todoz')
  })

  it('reads rows of the select model, timestamps as ISO strings', async () => {
    const row = await handle.findUnique('u')
    expectTypeOf(row).toEqualTypeOf<{
      uid: string
      title: string
      done: boolean
      priority: number | null
      score: number | null
      due: string | null
      kind: 'task' | 'note'
      tags: string[] | null
      tenant: string
    } | null>()
    expectTypeOf(await handle.findMany()).toEqualTypeOf<NonNullable<typeof row>[]>()
    handle.subscribe({}, (rows) => {
      expectTypeOf(rows).toEqualTypeOf<NonNullable<typeof row>[]>()
    })
    const body = (await client.table('notes').findMany())[0]?.body
    expectTypeOf(body).toEqualTypeOf<string | undefined>()
  })

  it('create: required columns required, nullable ones optional, server-owned and unknown ones refused', () => {
    void handle.create({ title: 'milk', done: false, kind: 'task' })
    void handle.create({ uid: 'u', title: 'milk', done: false, kind: 'note', priority: null, due: new Date(), tags: ['a'] })
    void handle.create({ title: 'milk', done: false, kind: 'task', due: '2026-01-01T00:00:00.000Z' })
    // @ts-expect-error `title` is required (lastword applies no database default)
    void handle.create({ done: false, kind: 'task' })
    // @ts-expect-error `done` is required even though Drizzle has a default for it
    void handle.create({ title: 'milk', kind: 'task' })
    // @ts-expect-error server-owned: the server fills it
    void handle.create({ title: 'milk', done: false, kind: 'task', tenant: 't1' })
    // @ts-expect-error not a column
    void handle.create({ title: 'milk', done: false, kind: 'task', titel: 'x' })
    // @ts-expect-error a value of the wrong type
    void handle.create({ title: 'milk', done: 'yes', kind: 'task' })
    // @ts-expect-error not one of the text enum's values
    void handle.create({ title: 'milk', done: false, kind: 'event' })
    // @ts-expect-error `title` is not nullable
    void handle.create({ title: null, done: false, kind: 'task' })
    // @ts-expect-error nothing at all
    void handle.create({})
    expectTypeOf(handle.create).returns.toEqualTypeOf<Promise<string>>()
  })

  it('update: any writable columns, no server-owned column, no uid', () => {
    void handle.update('u', {})
    void handle.update('u', { done: true })
    void handle.update('u', { priority: null, due: new Date() })
    // @ts-expect-error server-owned
    void handle.update('u', { tenant: 't2' })
    // @ts-expect-error a record's uid never changes
    void handle.update('u', { uid: 'v' })
    // @ts-expect-error not a column
    void handle.update('u', { titel: 'x' })
    // @ts-expect-error a value of the wrong type
    void handle.update('u', { done: 'yes' })
    // @ts-expect-error `title` is not nullable
    void handle.update('u', { title: null })
  })

  it('where: column names, value types and the operators of the where language', () => {
    void handle.findMany({ done: false, title: 'a', kind: 'task' })
    void handle.findMany({ priority: { gte: 2, lt: 5 }, title: { in: ['a', 'b'] }, kind: { eq: 'note' } })
    void handle.findMany({ priority: null, due: { gt: new Date() } })
    void handle.findMany({ due: { lte: '2026-01-01T00:00:00.000Z' } })
    void handle.findMany({ tenant: 't1' }) // server-owned columns are read, so filtered on
    // @ts-expect-error not a column
    void handle.findMany({ titel: 'a' })
    // @ts-expect-error a value of the wrong type
    void handle.findMany({ done: 'yes' })
    // @ts-expect-error a wrong type inside an operator
    void handle.findMany({ priority: { gte: '2' } })
    // @ts-expect-error `in` takes an array
    void handle.findMany({ title: { in: 'a' } })
    // @ts-expect-error not an operator of the where language
    void handle.findMany({ title: { like: 'a%' } })
    // @ts-expect-error `null` matches nulls; `title` is never null
    void handle.findMany({ title: null })
    // @ts-expect-error JSON columns cannot be filtered on
    void handle.findMany({ tags: ['a'] })
    // @ts-expect-error not one of the enum's values
    void handle.findMany({ kind: 'event' })
    // @ts-expect-error uid is not a filter column (findUnique reads by uid)
    void handle.findMany({ uid: 'u' })
    // @ts-expect-error subscribe takes the same filters
    handle.subscribe({ titel: 'a' }, () => undefined)
  })

  it('orderBy: sortable column names only', () => {
    void handle.findMany({}, { orderBy: 'title' })
    void handle.findMany({}, { orderBy: [{ column: 'priority', direction: 'desc' }, 'due'], limit: 3 })
    handle.subscribe({ done: false }, () => undefined, { orderBy: { column: 'title' } })
    // @ts-expect-error not a column
    void handle.findMany({}, { orderBy: 'titel' })
    // @ts-expect-error JSON columns cannot be sorted on
    void handle.findMany({}, { orderBy: 'tags' })
    // @ts-expect-error not a direction
    void handle.findMany({}, { orderBy: { column: 'title', direction: 'up' } })
    // @ts-expect-error subscribe takes the same options
    handle.subscribe({}, () => undefined, { orderBy: 'titel' })
  })

  it('is still a SyncClient (what bindings and helpers take)', () => {
    const plain: SyncClient = client
    expectTypeOf(plain.table).parameter(0).toEqualTypeOf<string>()
    const untypedHandle: TableHandle = handle
    void untypedHandle
  })
})

describe('a PostgreSQL schema', () => {
  const events = pgTable('events', {
    uid: pgText('uid').primaryKey(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
    code: varchar('code', { length: 8 }).notNull(),
    n: pgInteger('n'),
    data: jsonb('data').$type<{ a: number }>(),
  })
  const pg = createSyncClient<{ events: typeof events }>({ name: 'pg', store: 'memory' })
  it('types its rows, writes and filters the same way', async () => {
    const handle = pg.table('events')
    expectTypeOf(await handle.findUnique('u')).toEqualTypeOf<{ uid: string; at: string; code: string; n: number | null; data: { a: number } | null } | null>()
    void handle.create({ at: new Date(), code: 'x' })
    void handle.findMany({ at: { gte: new Date(), lt: '2027-01-01T00:00:00.000Z' }, n: null }, { orderBy: 'at' })
    // @ts-expect-error `at` is required
    void handle.create({ code: 'x' })
    // @ts-expect-error JSON columns cannot be sorted on
    void handle.findMany({}, { orderBy: 'data' })
  })
})

describe('tables keyed by the app own primary key (SPEC.md section 4, "The key")', () => {
  const items = pgTable('items', {
    id: uuid('id').primaryKey().defaultRandom(),
    name: pgText('name').notNull(),
    owner: uuid('owner'),
  })
  const labels = sqliteTable('labels', { id: text('id').primaryKey(), text: text('text').notNull() })
  const keyed = createSyncClient<{ items: typeof items; labels: typeof labels }>({ name: 'keyed', store: 'memory' })
  it('rows carry the uid under the key (`id`), not `uid`; uuid columns read as strings', async () => {
    const handle = keyed.table('items')
    expectTypeOf(await handle.findUnique('u')).toEqualTypeOf<{ id: string; name: string; owner: string | null } | null>()
    expectTypeOf(await keyed.table('labels').findMany()).toEqualTypeOf<{ id: string; text: string }[]>()
    handle.subscribe({}, (rows) => expectTypeOf(rows).toEqualTypeOf<{ id: string; name: string; owner: string | null }[]>())
  })
  it('create takes the key optionally, under its name; update never changes it; it is no filter or sort column', () => {
    const handle = keyed.table('items')
    void handle.create({ name: 'a' })
    void handle.create({ id: '0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b', name: 'a', owner: null })
    // @ts-expect-error the key is `id`: `uid` is not a column of this table
    void handle.create({ uid: 'u', name: 'a' })
    // @ts-expect-error `name` is required
    void handle.create({ id: 'x' })
    void handle.update('u', { name: 'b' })
    // @ts-expect-error a record's uid (its key) never changes
    void handle.update('u', { id: 'v' })
    void handle.findMany({ owner: '0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b' }, { orderBy: 'owner' })
    // @ts-expect-error the key is not a filter column (findUnique reads by it)
    void handle.findMany({ id: 'u' })
    // @ts-expect-error nor a sort column
    void handle.findMany({}, { orderBy: 'id' })
  })
  it('an untyped handle states its key with the row type', async () => {
    const untyped = createSyncClient({ name: 'untyped-keyed', store: 'memory' })
    const stated = untyped.table<{ id: string; title: string }, 'id'>('notes')
    expectTypeOf((await stated.findMany())[0]).toEqualTypeOf<{ id: string; title: string } | undefined>()
    void stated.create({ title: 'a' })
    // @ts-expect-error the key never changes
    void stated.update('u', { id: 'v' })
  })
})

describe('descriptors', () => {
  it('takes descriptors as a JSON import gives them, or as core typed them', () => {
    void createSyncClient({ name: 'json', tables: descriptors })
    void createSyncClient({ name: 'core', tables: [{ name: 'notes', columns: [{ name: 'body', type: 'text', nullable: false, writable: true }] }] })
    // @ts-expect-error a descriptor has columns
    void createSyncClient({ name: 'bad', tables: [{ name: 'notes' }] })
  })
})

describe('events', () => {
  it('takes only the event names, with their payloads', () => {
    client.on('status', (status) => expectTypeOf(status).toEqualTypeOf<ClientStatus>())
    client.on('sync', (report) => expectTypeOf(report).toEqualTypeOf<SyncReport>())
    client.on('pending', (count) => expectTypeOf(count).toEqualTypeOf<number>())
    // @ts-expect-error not an event
    client.on('stauts', () => undefined)
    // @ts-expect-error the status is a string, not a number
    client.on('status', (status: number) => status)
  })
})

describe('a client without a schema (untyped, as before)', () => {
  const untyped = createSyncClient({ name: 'untyped', store: 'memory' })
  it('takes any table name, and the row type the app states', async () => {
    const any = untyped.table('anything')
    expectTypeOf(await any.findMany()).toEqualTypeOf<{ [column: string]: unknown; uid: string }[]>()
    void any.findMany({ whatever: 1 }, { orderBy: 'whatever' })
    interface Todo {
      uid: string
      title: string
      done: boolean
    }
    const stated = untyped.table<Todo>('todos')
    expectTypeOf((await stated.findMany())[0]).toEqualTypeOf<{ uid: string; title: string; done: boolean } | undefined>()
    void stated.create({ title: 'a', done: false })
    // @ts-expect-error the stated row type is checked too
    void stated.create({ title: 'a' })
    // @ts-expect-error events are checked without a schema too
    untyped.on('stauts', () => undefined)
  })
})
