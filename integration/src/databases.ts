/**
 * Fresh databases for the campaign: better-sqlite3 (in memory, or a file for crash tests) and
 * PostgreSQL (`PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`; one fresh schema per test
 * file, reset between runs, dropped after). PostgreSQL unreachable: fail under `CI`, skip otherwise
 * with the reason printed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import type { SyncDatabase } from '@lastword/server'
import { PG_DDL, SQLITE_DDL, pgDocs, pgItems, sqliteDocs, sqliteItems } from './schema.js'
import { currentVirtualTime } from './virtual-time.js'

export type Dialect = 'sqlite' | 'postgres'

export interface TestDatabase {
  dialect: Dialect
  db: SyncDatabase
  items: typeof sqliteItems | typeof pgItems
  docs: typeof sqliteDocs | typeof pgDocs
  /** Raw SQL on a side connection (never the engine's): for reading what the server stored. */
  raw(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>
  close(): Promise<void>
}

/** better-sqlite3; `file` for a database another process may open (crash tests). */
export function openSqlite(file?: string): TestDatabase {
  const client = new Database(file ?? ':memory:')
  // What lastword requires of a SQLite database (packages/server/README.md, "The database").
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = FULL')
  for (const statement of SQLITE_DDL) client.exec(statement)
  const side = file === undefined ? client : new Database(file)
  return {
    dialect: 'sqlite',
    db: drizzleSqlite({ client }),
    items: sqliteItems,
    docs: sqliteDocs,
    async raw(text, params = []) {
      const statement = side.prepare(text)
      return statement.reader ? (statement.all(...params) as Array<Record<string, unknown>>) : (statement.run(...params), [])
    },
    async close() {
      if (side !== client && side.open) side.close()
      if (client.open) client.close()
    },
  }
}

/** A temp directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * Whether PostgreSQL answers. Unreachable with `CI` set: throws (CI must have it). Otherwise `false`
 * after printing why the PostgreSQL tests are skipped.
 */
export async function requirePostgres(label: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  let reason: string | null = null
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    reason = `PostgreSQL at ${PG_URL} is unreachable: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    await client.end().catch(() => undefined)
  }
  if (reason === null) return true
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') throw new Error(`${reason}; CI needs it (start PostgreSQL or set PG_URL)`)
  console.warn(`[${label}] skipped: ${reason}`)
  return false
}

/** One PostgreSQL schema for a test file; `open()` gives a fresh database in it (the schema is reset). */
export interface PgSchema {
  readonly name: string
  /**
   * A fresh database in the schema: created with the app's tables the first time, emptied (app tables
   * and lastword's, version row back to 0) on later calls. The pool is shared by every run of the file;
   * `close()` of the returned database leaves it open.
   */
  open(poolSize?: number, applicationName?: string, options?: { handleClientErrors?: boolean }): Promise<TestDatabase>
  /** Ends the pools and drops the schema. */
  drop(): Promise<void>
}

export function pgSchema(label: string): PgSchema {
  const name = `lw_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    try {
      return await fn(client)
    } finally {
      await client.end()
    }
  }
  let pools: { pool: pg.Pool; side: pg.Pool } | null = null
  return {
    name,
    async open(poolSize = 10, applicationName?: string, openOptions: { handleClientErrors?: boolean } = {}) {
      if (pools === null) {
        await admin(async (c) => {
          await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
          await c.query(`CREATE SCHEMA ${name}`)
        })
        const options = `-c search_path=${name}`
        const pool = new pg.Pool({ connectionString: PG_URL, options, max: poolSize, ...(applicationName === undefined ? {} : { application_name: applicationName }) })
        // A backend terminated under an idle pooled client (D07) must not crash the process.
        pool.on('error', () => undefined)
        // Under a checked-out client, only a listener on the client does it (the engine's job: B5).
        if (openOptions.handleClientErrors === true) pool.on('connect', (client) => client.on('error', () => undefined))
        pools = { pool, side: new pg.Pool({ connectionString: PG_URL, options, max: 2 }) }
        for (const statement of PG_DDL) await pools.side.query(statement)
      } else {
        // A reset, not a write to sync: the capture triggers (which refuse TRUNCATE) stay out of it.
        await pools.side.query(
          `BEGIN; SET LOCAL session_replication_role = replica; TRUNCATE items, docs; DO $$ BEGIN IF to_regclass('lastword_meta') IS NOT NULL THEN TRUNCATE lastword_meta, lastword_changes, lastword_erasures; UPDATE lastword_state SET rev = 0, horizon_rev = 0; END IF; END $$; COMMIT`,
        )
      }
      const { pool, side } = pools
      return {
        dialect: 'postgres',
        db: drizzlePg({ client: pool }),
        items: pgItems,
        docs: pgDocs,
        async raw(text, params = []) {
          return (await side.query(text, params)).rows as Array<Record<string, unknown>>
        },
        async close() {
          // The pools belong to the schema (drop() ends them).
        },
      }
    },
    async drop() {
      if (pools !== null) {
        await pools.pool.end()
        await pools.side.end()
        pools = null
      }
      await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`))
    },
  }
}

let pgTracked = false

/**
 * Counts every PostgreSQL query and connection attempt as pending real work of the installed virtual
 * time, so virtual time never moves while the database is answering. Idempotent.
 */
export function trackPostgresIo(): void {
  if (pgTracked) return
  pgTracked = true
  const wrap = (proto: { [key: string]: unknown }, method: string): void => {
    const original = proto[method] as (...args: unknown[]) => unknown
    proto[method] = function (this: unknown, ...args: unknown[]) {
      const vt = currentVirtualTime()
      if (vt === null) return original.apply(this, args)
      const last = args[args.length - 1]
      if (typeof last === 'function') {
        let done!: () => void
        void vt.track(new Promise<void>((resolve) => (done = resolve)))
        args[args.length - 1] = (...cbArgs: unknown[]) => {
          done()
          return (last as (...a: unknown[]) => unknown)(...cbArgs)
        }
        try {
          return original.apply(this, args)
        } catch (error) {
          done()
          throw error
        }
      }
      const result = original.apply(this, args)
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
        void vt.track(result as Promise<unknown>).catch(() => undefined)
      }
      return result
    }
  }
  wrap(pg.Client.prototype as unknown as { [key: string]: unknown }, 'query')
  wrap(pg.Client.prototype as unknown as { [key: string]: unknown }, 'connect')
  wrap(pg.Pool.prototype as unknown as { [key: string]: unknown }, 'connect')
}
