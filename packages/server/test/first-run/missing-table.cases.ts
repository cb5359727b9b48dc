/**
 * The first-run check of the app's tables (`src/engine/app-tables.ts`), one suite for both dialects:
 * `migrate()` refuses a synced table the database lacks, or one lacking a column of its schema, with a
 * `BAD_REQUEST` naming the table and how to create it, and creates nothing of its own.
 */
import { expect, it } from 'vitest'
import { createSyncServer, type SyncDatabase, type SyncServer } from '../../src/index.js'

const SILENT = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

/** A fresh database of one dialect, and what the suite asks of it. */
export interface FirstRunDb {
  db: SyncDatabase
  /** The Drizzle table `todos` (uid, title, done) of the dialect. */
  todos: unknown
  /** Runs DDL on the database. */
  exec(statement: string): Promise<void>
  /** The DDL of `todos` with or without its `done` column. */
  createTodos(withDone: boolean): string
  /** The names of the tables whose name starts with `lastword_`. */
  lastwordTables(): Promise<string[]>
  close(): Promise<void>
}

export function runMissingTableSuite(open: () => Promise<FirstRunDb>): void {
  const server = (t: FirstRunDb): SyncServer =>
    createSyncServer({ db: t.db, tables: { todos: t.todos as never }, logger: SILENT })

  it('migrate() refuses a synced table the database does not have, naming it and how to create it; creates nothing', async () => {
    const t = await open()
    try {
      const error = await server(t).migrate().then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string; details?: unknown },
      )
      expect(error?.code).toBe('BAD_REQUEST')
      expect(error?.details).toEqual({ table: 'todos' })
      expect(error?.message).toContain('no table "todos"')
      expect(error?.message).toContain('drizzle-kit push')
      expect(await t.lastwordTables()).toEqual([])
    } finally {
      await t.close()
    }
  })

  it('migrate() refuses a table lacking a column of its Drizzle schema; creates nothing', async () => {
    const t = await open()
    try {
      await t.exec(t.createTodos(false))
      const error = await server(t).migrate().then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string; details?: unknown },
      )
      expect(error?.code).toBe('BAD_REQUEST')
      expect(error?.details).toEqual({ table: 'todos' })
      expect(error?.message).toContain('lacks a column')
      expect(await t.lastwordTables()).toEqual([])
    } finally {
      await t.close()
    }
  })

  it('with the table created, migrate() passes and the first write works', async () => {
    const t = await open()
    try {
      await t.exec(t.createTodos(true))
      const sync = server(t)
      await sync.migrate()
      expect((await t.lastwordTables()).length).toBeGreaterThan(0)
      const uid = await sync.service('todos').create({ title: 'milk', done: false })
      expect(typeof uid).toBe('string')
      await sync.close()
    } finally {
      await t.close()
    }
  })
}
