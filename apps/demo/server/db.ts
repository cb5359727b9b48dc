/**
 * Opens the demo's database: a SQLite file by default, PostgreSQL when a `postgres://` URL is given.
 * Creates the app tables with raw SQL; lastword's own tables come from the sync server's `migrate()`.
 */
import { mkdirSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import type { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { ADD_LIST_UID_SQLITE, CREATE_PG, CREATE_SQLITE, pgLists, pgTodos, sqliteLists, sqliteTodos } from './schema.js'

export type DemoDatabase =
  | {
      dialect: 'sqlite'
      db: ReturnType<typeof drizzleSqlite>
      tables: { lists: typeof sqliteLists; todos: typeof sqliteTodos }
      /** Where the data lives, for humans. */
      label: string
      close(): Promise<void>
    }
  | {
      dialect: 'postgres'
      db: ReturnType<typeof drizzlePg>
      tables: { lists: typeof pgLists; todos: typeof pgTodos }
      label: string
      close(): Promise<void>
    }

export interface OpenDatabaseOptions {
  /** SQLite file (created with its folder). Ignored when `databaseUrl` is set. */
  databasePath: string
  /** `postgres://…` switches to PostgreSQL. */
  databaseUrl?: string | undefined
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DemoDatabase> {
  const url = options.databaseUrl
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    // Loaded only when asked for: a SQLite run never needs the PostgreSQL driver.
    const { default: pg } = await import('pg')
    const { drizzle } = await import('drizzle-orm/node-postgres')
    const pool = new pg.Pool({ connectionString: url, max: 10 })
    try {
      for (const statement of CREATE_PG) await pool.query(statement)
    } catch (error) {
      await pool.end().catch(() => {})
      throw error
    }
    let closed = false
    return {
      dialect: 'postgres',
      db: drizzle(pool),
      tables: { lists: pgLists, todos: pgTodos },
      label: `PostgreSQL ${redact(url)}`,
      async close() {
        if (closed) return
        closed = true
        await pool.end()
      },
    }
  }
  if (url) throw new Error(`DATABASE_URL must start with postgres:// (got ${redact(url)})`)
  mkdirSync(dirname(options.databasePath), { recursive: true })
  const sqlite = new Database(options.databasePath)
  // What lastword requires of a SQLite database (packages/server/README.md, "The database").
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma('busy_timeout = 5000')
  // The database enforces the todos' foreign key to their list (better-sqlite3 turns it on; said here).
  sqlite.pragma('foreign_keys = ON')
  for (const statement of CREATE_SQLITE) sqlite.exec(statement)
  const columns = sqlite.prepare('SELECT name FROM pragma_table_info(?)').all('todos') as Array<{ name: string }>
  if (!columns.some((c) => c.name === 'list_uid')) sqlite.exec(ADD_LIST_UID_SQLITE)
  return {
    dialect: 'sqlite',
    db: drizzleSqlite(sqlite),
    tables: { lists: sqliteLists, todos: sqliteTodos },
    label: `SQLite ${shortPath(options.databasePath)}`,
    async close() {
      if (sqlite.open) sqlite.close()
    },
  }
}

/** A path relative to the working directory when it is inside it. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), resolve(path))
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/** Hides a password in a connection URL. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable URL)'
  }
}
