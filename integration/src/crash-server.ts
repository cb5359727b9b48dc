/**
 * The sync server as a child process, for the real-process crash tests (T06, D06). Run with
 * `node --conditions=@lastword/source --import tsx integration/src/crash-server.ts`.
 *
 * Environment:
 * - `LW_DIALECT` `sqlite` (default) or `postgres`; `LW_DB_FILE` (SQLite), or `PG_URL` and `LW_PG_SCHEMA`.
 * - `LW_PORT` the port to listen on (0: any; the port is printed as `LISTENING <port>`).
 * - `LW_CRASH` where to SIGKILL this process, `LW_CRASH_AT` at which occurrence (default 1):
 *   - `in-push`: inside a push's transaction, after its rows and its version row are written, before
 *     COMMIT (the engine's `afterVersionRow` test hook);
 *   - `after-commit`: a push committed, before its acknowledgement leaves (wrapping `engine.sync`);
 *   - `between-pages`: a page with `hasMore` was answered and the next one is asked for (wrapping
 *     `engine.sync`: a full reconciliation's cursor, or an incremental checkpoint that had more).
 * - `LW_CRASH_REPORT` a file the process writes `{ point, table, uids, outcomes? }` to just before it
 *   kills itself, so the test knows what was in flight.
 *
 * The engine is not changed: the hooks are its own test seam and `engine.sync` is wrapped from outside.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import type { SyncDatabase } from '@lastword/server'
import { createEngine, createTransport, resolveLimits } from '@lastword/server/testing'
import { PG_DDL, SQLITE_DDL, pgItems, sqliteItems } from './schema.js'

const env = process.env
const dialect = env['LW_DIALECT'] === 'postgres' ? 'postgres' : 'sqlite'
const point = env['LW_CRASH'] ?? ''
const crashAt = Number(env['LW_CRASH_AT'] ?? '1')
let occurrences = 0
/** The request being handled, for the in-transaction hook to report what it was writing. */
const current = new AsyncLocalStorage<{ push: unknown[] }>()

function crash(info: Record<string, unknown>): never {
  const report = env['LW_CRASH_REPORT']
  if (report !== undefined && report !== '') writeFileSync(report, JSON.stringify({ point, ...info }))
  process.kill(process.pid, 'SIGKILL')
  // SIGKILL cannot be caught; this line is never reached.
  throw new Error('unreachable')
}

/** Counts an occurrence of the armed point; true when this is the one to crash at. */
function hit(at: string): boolean {
  if (point !== at) return false
  occurrences++
  return occurrences === crashAt
}

let db: SyncDatabase
let items: typeof sqliteItems | typeof pgItems
if (dialect === 'sqlite') {
  const file = env['LW_DB_FILE']
  if (file === undefined) throw new Error('LW_DB_FILE is required')
  const client = new Database(file)
  // What lastword requires of a SQLite database (packages/server/README.md, "The database").
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = FULL')
  for (const statement of SQLITE_DDL) client.exec(statement)
  db = drizzleSqlite({ client })
  items = sqliteItems
} else {
  const schema = env['LW_PG_SCHEMA']
  if (schema === undefined) throw new Error('LW_PG_SCHEMA is required')
  const pool = new pg.Pool({ connectionString: env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', options: `-c search_path=${schema}`, max: 8 })
  for (const statement of PG_DDL) await pool.query(statement)
  db = drizzlePg({ client: pool })
  items = pgItems
}

const limits = resolveLimits({ maxRequestsPerSecond: 100_000 })
const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (obj: object, msg?: string) => console.error('[child error]', msg, obj),
}
const engine = createEngine({
  db,
  tables: { items },
  limits,
  logger,
  hooks: {
    afterVersionRow(info) {
      if (hit('in-push')) crash({ table: info.table, uids: info.uids, push: current.getStore()?.push ?? [] })
    },
  },
})
await engine.migrate()

// Wrapped from outside: the transport calls `engine.sync` on this very object.
const sync = engine.sync.bind(engine)
const pagedCheckpoints = new Set<string>()
engine.sync = async (ctx, request) => {
  const continuing = (request.full?.cursor ?? null) !== null || (request.checkpoint !== null && pagedCheckpoints.has(request.checkpoint))
  if (continuing && hit('between-pages')) crash({ table: request.table, uids: [] })
  const page = await current.run({ push: request.push }, () => sync(ctx, request))
  if (page.hasMore && page.checkpoint !== null) pagedCheckpoints.add(page.checkpoint)
  const applied = page.outcomes.filter((o) => o.status === 'applied')
  if (applied.length > 0 && hit('after-commit')) crash({ table: request.table, uids: applied.map((o) => o.uid), outcomes: page.outcomes, push: request.push })
  return page
}
// Protocol 7 pushes by `lw:push` (units across tables): the same crash points around it.
const push = engine.push.bind(engine)
engine.push = async (ctx, request) => {
  const records = request.units.flatMap((u) => u.groups.flatMap((g) => g.records))
  const table = request.units[0]?.groups[0]?.table ?? 'items'
  const answer = await current.run({ push: records }, () => push(ctx, request))
  const outcomes = answer.units.flatMap((u) => u.outcomes)
  const applied = outcomes.filter((o) => o.status === 'applied')
  if (applied.length > 0 && hit('after-commit')) crash({ table, uids: applied.map((o) => o.uid), outcomes, push: records })
  return answer
}

const transport = createTransport({ engine, limits, logger, authenticate: undefined, allowedOrigins: undefined })
engine.onCommit((changes) => transport.deliver(changes))
const http = createServer()
transport.attach(http)
http.listen(Number(env['LW_PORT'] ?? '0'), '127.0.0.1', () => {
  console.log(`LISTENING ${(http.address() as AddressInfo).port}`)
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void transport.close().then(() => engine.close()).finally(() => process.exit(0))
  })
}
