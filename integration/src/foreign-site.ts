/**
 * Row T24's writers that are not lastword (docs/test-matrix.md), per dialect: the app's plain Drizzle
 * writes on the very database handle the server uses, raw SQL on a second connection (SQLite: another
 * better-sqlite3 connection to the same WAL file; PostgreSQL: a separate `pg` client), and (PostgreSQL)
 * a transaction of a third connection that stays open across other commands and commits late.
 *
 * Every write reports how many rows it changed: a write that changed nothing is captured as nothing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { eq } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import type { ItemRow } from './cluster.js'
import { PG_URL, openSqlite, type PgSchema, type TestDatabase } from './databases.js'
import { pgItems, sqliteItems } from './schema.js'

export type ItemPatch = Partial<ItemRow>

/** A write that never went through lastword; resolves to the rows it changed. */
export interface ForeignConnections {
  /** The app's Drizzle handle on the server's database (SQLite: the engine's own connection). */
  drizzle: {
    insert(row: ItemRow & { uid: string }): Promise<number>
    update(uid: string, patch: ItemPatch): Promise<number>
    delete(uid: string): Promise<number>
  }
  /** Raw SQL on a second connection. */
  raw(text: string): Promise<number>
  /** A boolean as this dialect's SQL literal. */
  bool(value: boolean): string
  /** PostgreSQL: a transaction held open on a third connection (SQLite has one writer per file: none). */
  late: LateTransaction | null
  close(): Promise<void>
}

export interface LateTransaction {
  begin(): Promise<void>
  exec(text: string): Promise<number>
  commit(): Promise<void>
  /** Rolls back whatever is open (the end of a failed run, or the watchdog). */
  abort(): Promise<void>
  /** How many other backends wait for a lock this transaction holds (asked on a connection of its own). */
  blocking(): Promise<number>
}

/** How a campaign of row T24 opens its database and the foreign writers on it. */
export interface ForeignSite {
  openDatabase(): Promise<TestDatabase>
  connect(database: TestDatabase): Promise<ForeignConnections>
}

/** A SQL string literal. */
export const quote = (value: string): string => `'${value.replace(/'/g, "''")}'`

/**
 * SQLite: a WAL file per run (the feed's poll needs a file: an in-memory database has no other
 * connection), in memory-backed /dev/shm where there is one — `synchronous = FULL` syncs every commit.
 */
export function sqliteForeignSite(): ForeignSite {
  const files = new WeakMap<TestDatabase, string>()
  return {
    async openDatabase() {
      const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lw-t24-'))
      const remove = (): void => rmSync(dir, { recursive: true, force: true })
      const file = join(dir, 'app.db')
      const opened = openSqlite(file)
      const database: TestDatabase = {
        ...opened,
        async close() {
          await opened.close()
          remove()
        },
      }
      files.set(database, file)
      return database
    },
    async connect(database) {
      const file = files.get(database)
      if (file === undefined) throw new Error('not a database of this site')
      const other = new Database(file)
      other.pragma('busy_timeout = 5000')
      const app = database.db as unknown as BetterSQLite3Database
      const set = (patch: ItemPatch) => app.update(sqliteItems).set(patch)
      return {
        drizzle: {
          insert: async (row) => app.insert(sqliteItems).values(row).run().changes,
          update: async (uid, patch) => set(patch).where(eq(sqliteItems.uid, uid)).run().changes,
          delete: async (uid) => app.delete(sqliteItems).where(eq(sqliteItems.uid, uid)).run().changes,
        },
        raw: async (text) => other.prepare(text).run().changes,
        bool: (value) => (value ? '1' : '0'),
        late: null,
        async close() {
          if (other.open) other.close()
        },
      }
    },
  }
}

/** PostgreSQL: the schema of the test file, reset per run; a second and a third client on it. */
export function pgForeignSite(schema: () => PgSchema, poolSize: number): ForeignSite {
  return {
    openDatabase: () => schema().open(poolSize),
    async connect(database) {
      const options = `-c search_path=${schema().name}`
      const other = new pg.Client({ connectionString: PG_URL, options })
      const held = new pg.Client({ connectionString: PG_URL, options })
      const probe = new pg.Client({ connectionString: PG_URL, options })
      for (const c of [other, held, probe]) {
        c.on('error', () => undefined)
        await c.connect()
      }
      const heldPid = Number((await held.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid)
      const app = database.db as unknown as NodePgDatabase
      const count = (result: { rowCount: number | null }): number => result.rowCount ?? 0
      let open = false
      return {
        drizzle: {
          insert: async (row) => count(await app.insert(pgItems).values(row)),
          update: async (uid, patch) => count(await app.update(pgItems).set(patch).where(eq(pgItems.uid, uid))),
          delete: async (uid) => count(await app.delete(pgItems).where(eq(pgItems.uid, uid))),
        },
        raw: async (text) => count(await other.query(text)),
        bool: (value) => (value ? 'true' : 'false'),
        late: {
          async begin() {
            await held.query('BEGIN')
            open = true
          },
          exec: async (text) => count(await held.query(text)),
          async commit() {
            open = false
            await held.query('COMMIT')
          },
          async abort() {
            if (!open) return
            open = false
            await held.query('ROLLBACK')
          },
          async blocking() {
            const { rows } = await probe.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${heldPid} = ANY(pg_blocking_pids(pid))`)
            return Number(rows[0]?.n ?? 0)
          },
        },
        async close() {
          if (open) await held.query('ROLLBACK').catch(() => undefined)
          for (const c of [other, held, probe]) await c.end().catch(() => undefined)
        },
      }
    },
  }
}
