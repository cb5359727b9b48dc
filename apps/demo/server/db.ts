/**
 * Opens the demo's database: a SQLite file by default, PostgreSQL when a `postgres://` URL is given.
 * Creates the app table with raw SQL; lastword's own tables come from the sync server's `migrate()`.
 */
import { mkdirSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import type { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { CREATE_TODOS_PG, CREATE_TODOS_SQLITE, pgTodos, sqliteTodos } from './schema.js'

export type DemoDatabase =
  | {
      dialect: 'sqlite'
      db: ReturnType<typeof drizzleSqlite>
      tables: { todos: typeof sqliteTodos }
      /** Where the data lives, for humans. */
      label: string
      close(): Promise<void>
    }
  | {
      dialect: 'postgres'
      db: ReturnType<typeof drizzlePg>
      tables: { todos: typeof pgTodos }
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
      await pool.query(CREATE_TODOS_PG)
    } catch (error) {
      await pool.end().catch(() => {})
      throw error
    }
    let closed = false
    return {
      dialect: 'postgres',
      db: drizzle(pool),
      tables: { todos: pgTodos },
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
  sqlite.exec(CREATE_TODOS_SQLITE)
  return {
    dialect: 'sqlite',
    db: drizzleSqlite(sqlite),
    tables: { todos: sqliteTodos },
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
