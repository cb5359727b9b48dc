/** The first-run check of the app's tables on PostgreSQL (`missing-table.cases.ts`), a fresh schema per test. */
import { drizzle } from 'drizzle-orm/node-postgres'
import { boolean, pgTable, text } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { describe } from 'vitest'
import { PG_URL, requirePostgres } from '../fixtures/db.js'
import { runMissingTableSuite } from './missing-table.cases.js'

const available = await requirePostgres()

const todos = pgTable('todos', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  done: boolean('done').notNull().default(false),
})

describe.skipIf(!available)('first run on PostgreSQL: the app tables', () => {
  runMissingTableSuite(async () => {
    const schema = `lw_first_run_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 3 })
    return {
      db: drizzle({ client: pool }),
      todos,
      exec: async (statement) => void (await pool.query(statement)),
      createTodos: (withDone) =>
        `CREATE TABLE todos (uid text PRIMARY KEY NOT NULL, title text NOT NULL${withDone ? ', done boolean NOT NULL DEFAULT false' : ''})`,
      lastwordTables: async () =>
        (await admin.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'lastword%' ORDER BY 1`, [schema])).rows.map((r) => r.name),
      close: async () => {
        await pool.end()
        await admin.query(`DROP SCHEMA ${schema} CASCADE`)
        await admin.end()
      },
    }
  })
})
