/**
 * Capture (ARCHITECTURE.md, "Capture"), reported, never asserted: what a write that does not go through
 * lastword costs on a captured table against the same write on a table lastword does not know, and how
 * fast the backfill gives pre-existing rows their metadata. Both dialects: better-sqlite3 on a temp file
 * (WAL, synchronous=FULL), PostgreSQL at `PG_URL` in a schema of its own (skipped with the reason when
 * unreachable).
 *
 * - insert, one statement per row (autocommit): `AUTO` rows, each its own transaction (its commit included);
 * - insert / update, one statement of N rows: the triggers' cost per row without commit costs around it;
 * - backfill: N rows written before `migrate()`, then `backfill({ batchSize: 1000 })` interrupted halfway
 *   (a throw from the batch seam, as a crash would stop it) and resumed by a second `backfill()`; rows/s
 *   over both, and the rows each part wrote (the two must add up to N: nothing twice, nothing skipped).
 *
 * `node --conditions=@lastword/source --import tsx src/capture.ts [N] [repetitions]` from `bench/`
 * (N = 10,000 by default; 100000 for the large run).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { integer as pgInteger, pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { createEngine } from '@lastword/server/testing'

const N = Number(process.argv[2] ?? 10_000)
const REPS = Number(process.argv[3] ?? 3)
const AUTO = 1_000
const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

const sqliteCaptured = sqliteTable('captured', { uid: text('uid').primaryKey(), title: text('title').notNull(), n: integer('n').notNull() })
const pgCaptured = pgTable('captured', { uid: pgText('uid').primaryKey(), title: pgText('title').notNull(), n: pgInteger('n').notNull() })
const DDL = ['CREATE TABLE captured (uid text PRIMARY KEY, title text NOT NULL, n integer NOT NULL)', 'CREATE TABLE plain (uid text PRIMARY KEY, title text NOT NULL, n integer NOT NULL)']

/** Per-row µs of each figure on one table. */
interface Figures {
  autoInsert: number
  bulkInsert: number
  bulkUpdate: number
}

/** What a dialect gives the measurements: a statement on a connection that is not lastword's, timed. */
interface Target {
  exec(text: string): Promise<void>
  bulkInsert(table: string, n: number): string
  close(): Promise<void>
}

async function time(fn: () => Promise<void>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

type Engine = ReturnType<typeof createEngine>

const BATCH = 1_000
const INTERRUPTED = 'backfill interrupted on purpose'
/** The batch the first backfill stops before: about halfway through the N rows. */
const STOP_AT = Math.max(2, Math.floor(N / BATCH / 2) + 1)
const backfillState = { interrupting: true, rowsBeforeStop: 0 }

/** The batch seam: a throw before batch `STOP_AT` stops the backfill there, as a crash would. */
function interruptHalfway(info: { batch: number; rows: number }): void {
  if (!backfillState.interrupting || info.batch !== STOP_AT) return
  backfillState.rowsBeforeStop = info.rows
  throw new Error(INTERRUPTED)
}

/** A backfill stopped halfway, then resumed by a second call: the two parts must add up to N rows. */
async function interruptedBackfill(engine: Engine): Promise<void> {
  backfillState.interrupting = true
  const stopped = await engine.backfill({ batchSize: BATCH }).then(
    () => false,
    (error: unknown) => {
      if (error instanceof Error && error.message === INTERRUPTED) return true
      throw error
    },
  )
  backfillState.interrupting = false
  const resumed = (await engine.backfill({ batchSize: BATCH })).rows['captured'] ?? 0
  const first = stopped ? backfillState.rowsBeforeStop : N - resumed
  if (first + resumed !== N) throw new Error(`the backfill wrote ${first} rows, then ${resumed} after resuming: not ${N}`)
  console.log(`  backfill: ${stopped ? `stopped after ${first} rows, resumed for ${resumed}` : `${N} rows (fewer than two batches: not interrupted)`}`)
}

async function measure(target: Target, table: string): Promise<Figures> {
  const autoInsert = await time(async () => {
    for (let i = 0; i < AUTO; i++) await target.exec(`INSERT INTO ${table} (uid, title, n) VALUES ('a${i}', 'auto ${i}', ${i})`)
  })
  const bulkInsert = await time(() => target.exec(target.bulkInsert(table, N)))
  const bulkUpdate = await time(() => target.exec(`UPDATE ${table} SET n = n + 1 WHERE uid LIKE 'b%'`))
  return { autoInsert: (autoInsert * 1000) / AUTO, bulkInsert: (bulkInsert * 1000) / N, bulkUpdate: (bulkUpdate * 1000) / N }
}

interface Run {
  captured: Figures
  plain: Figures
  backfillRowsPerSecond: number
}

async function sqliteRun(): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-capturebench-'))
  const file = join(dir, 'bench.db')
  const open = () => {
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    return db
  }
  const bulk = (table: string, n: number) =>
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) INSERT INTO ${table} (uid, title, n) SELECT 'b' || i, 'row ' || i, i FROM s`
  try {
    // Backfill first: rows written before migrate().
    const app = open()
    for (const statement of DDL) app.exec(statement)
    app.exec(bulk('captured', N))
    const engine = createEngine({ db: drizzleSqlite(app), tables: { captured: sqliteCaptured }, hooks: { beforeBackfillBatch: interruptHalfway } })
    await engine.migrate({ backfill: false })
    const backfill = await time(() => interruptedBackfill(engine))
    app.exec(`DELETE FROM captured`)
    // A second connection writes, as another process would.
    const other = open()
    const target: Target = { exec: async (text) => void other.exec(text), bulkInsert: bulk, close: async () => void other.close() }
    const captured = await measure(target, 'captured')
    const plain = await measure(target, 'plain')
    await target.close()
    await engine.close()
    app.close()
    return { captured, plain, backfillRowsPerSecond: N / (backfill / 1000) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function pgRun(): Promise<Run> {
  const schema = `capture_bench_${process.pid}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`)
  const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 4 })
  const other = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
  await other.connect()
  const bulk = (table: string, n: number) => `INSERT INTO ${table} (uid, title, n) SELECT 'b' || i, 'row ' || i, i FROM generate_series(1, ${n}) AS i`
  try {
    for (const statement of DDL) await pool.query(statement)
    await pool.query(bulk('captured', N))
    const engine = createEngine({ db: drizzlePg({ client: pool }), tables: { captured: pgCaptured }, hooks: { beforeBackfillBatch: interruptHalfway } })
    await engine.migrate({ backfill: false })
    const backfill = await time(() => interruptedBackfill(engine))
    await pool.query('DELETE FROM captured')
    const target: Target = { exec: async (text) => void (await other.query(text)), bulkInsert: bulk, close: async () => undefined }
    const captured = await measure(target, 'captured')
    const plain = await measure(target, 'plain')
    await engine.close()
    return { captured, plain, backfillRowsPerSecond: N / (backfill / 1000) }
  } finally {
    await other.end()
    await pool.end()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

async function report(name: string, run: () => Promise<Run>): Promise<void> {
  const runs: Run[] = []
  for (let r = 0; r < REPS; r++) runs.push(await run())
  const line = (figure: string, pick: (f: Figures) => number) => {
    const plain = median(runs.map((r) => pick(r.plain)))
    const captured = median(runs.map((r) => pick(r.captured)))
    return `| ${figure} | ${plain.toFixed(1)} µs | ${captured.toFixed(1)} µs | ×${(captured / plain).toFixed(1)} |`
  }
  console.log(`\n${name}, N = ${N}, median of ${REPS} (reported, not gated)\n`)
  console.log('| per row | uncaptured table | captured table | captured vs uncaptured |\n|---|---|---|---|')
  console.log(line(`insert, one statement per row, autocommit (${AUTO} rows)`, (f) => f.autoInsert))
  console.log(line(`insert, one statement of ${N} rows`, (f) => f.bulkInsert))
  console.log(line(`update, one statement of ${N} rows`, (f) => f.bulkUpdate))
  console.log(`\nbackfill of ${N} rows (batches of 1,000; stopped halfway and resumed): ${median(runs.map((r) => r.backfillRowsPerSecond)).toFixed(0)} rows/s`)
}

await report('Capture on better-sqlite3 (a second connection writes)', sqliteRun)
try {
  const probe = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  await probe.connect()
  await probe.end()
} catch (error) {
  console.log(`\nPostgreSQL skipped: ${PG_URL} is unreachable (${error instanceof Error ? error.message : String(error)})`)
  process.exit(0)
}
await report('Capture on PostgreSQL (another connection writes)', pgRun)
