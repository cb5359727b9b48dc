/**
 * Opens the benchmark's database for lastword's server: a SQLite file (WAL, synchronous = FULL, as
 * lastword requires) or a PostgreSQL schema, with the app table created as an app's migration would.
 * The bench counts the server's SQL statements on the connections it opens here.
 */
import Database from 'better-sqlite3'
import pg from 'pg'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { poolFor } from '../lib/pg.js'
import { CREATE_PG, CREATE_SQLITE, itemsPg, itemsSqlite } from './lastword-schema.js'

export interface OpenedDb {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: any
  tables: { items: typeof itemsSqlite | typeof itemsPg }
  count(): Promise<number>
  /** SQL statements run on the server's connections so far. */
  statements(): number
  close(): Promise<void>
}

export async function openDb(backend: 'sqlite' | 'postgres', target: string): Promise<OpenedDb> {
  if (backend === 'sqlite') {
    const sqlite = new Database(target)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.exec(CREATE_SQLITE)
    let statements = 0
    const prepare = sqlite.prepare.bind(sqlite)
    const exec = sqlite.exec.bind(sqlite)
    Object.assign(sqlite, {
      prepare: (...args: Parameters<typeof prepare>) => (statements++, prepare(...args)),
      exec: (...args: Parameters<typeof exec>) => (statements++, exec(...args)),
    })
    return {
      statements: () => statements,
      db: drizzleSqlite(sqlite),
      tables: { items: itemsSqlite },
      count: async () => (sqlite.prepare('select count(*) as c from items').get() as { c: number }).c,
      close: async () => {
        sqlite.close()
      },
    }
  }
  let statements = 0
  class CountingClient extends pg.Client {
    override query(...args: unknown[]): never {
      statements++
      return (super.query as (...a: unknown[]) => never)(...args)
    }
  }
  const pool = poolFor(target, 10, CountingClient)
  await pool.query(CREATE_PG)
  statements = 0
  return {
    statements: () => statements,
    db: drizzlePg(pool),
    tables: { items: itemsPg },
    count: async () => Number((await pool.query('select count(*) as c from items')).rows[0].c),
    close: async () => pool.end(),
  }
}
