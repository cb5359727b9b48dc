/**
 * Opens the benchmark's database for lastword's server: a SQLite file (WAL, synchronous = NORMAL) or a
 * PostgreSQL schema, with the app table created as an app's migration would.
 */
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { poolFor } from '../lib/pg.js'
import { CREATE_PG, CREATE_SQLITE, itemsPg, itemsSqlite } from './lastword-schema.js'

export interface OpenedDb {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: any
  tables: { items: typeof itemsSqlite | typeof itemsPg }
  count(): Promise<number>
  close(): Promise<void>
}

export async function openDb(backend: 'sqlite' | 'postgres', target: string): Promise<OpenedDb> {
  if (backend === 'sqlite') {
    const sqlite = new Database(target)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.exec(CREATE_SQLITE)
    return {
      db: drizzleSqlite(sqlite),
      tables: { items: itemsSqlite },
      count: async () => (sqlite.prepare('select count(*) as c from items').get() as { c: number }).c,
      close: async () => {
        sqlite.close()
      },
    }
  }
  const pool = poolFor(target, 10)
  await pool.query(CREATE_PG)
  return {
    db: drizzlePg(pool),
    tables: { items: itemsPg },
    count: async () => Number((await pool.query('select count(*) as c from items')).rows[0].c),
    close: async () => pool.end(),
  }
}
