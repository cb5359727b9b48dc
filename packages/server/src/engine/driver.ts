/**
 * The database seam: which dialect, how a transaction runs, how failures are classified, how
 * statements are counted.
 *
 * Transaction bodies are generators that yield one operation at a time (`yield* all(query)`). On
 * better-sqlite3 the driver runs them synchronously between `BEGIN IMMEDIATE` and `COMMIT`, so no other
 * work of this process can slip into the transaction through the one shared connection; on PostgreSQL
 * it awaits each operation on the transaction's own pooled connection. One body, both dialects.
 */
import { LastwordError } from '@lastword/core'
import { is, sql, type SQL } from 'drizzle-orm'
import { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import { PgDatabase } from 'drizzle-orm/pg-core'
import type { Logger } from '../types.js'
import { createMutex, type Mutex } from './mutex.js'
import { createTableGates, tableLockStatements, type TableLockMode } from './table-lock.js'

/** One step of a transaction body. */
export type Op =
  | { kind: 'all'; query: SQL }
  | { kind: 'run'; query: SQL }
  | { kind: 'call'; fn: () => unknown }

/** A transaction body in progress; `T` is what it returns. */
export type Tx<T> = Generator<Op, T, unknown>

/** Runs a query and returns its rows (objects keyed by the selected names). */
export function* all<R = Record<string, unknown>>(query: SQL): Tx<R[]> {
  return (yield { kind: 'all', query }) as R[]
}

/** Runs a statement and returns how many rows it changed. */
export function* run(query: SQL): Tx<number> {
  return (yield { kind: 'run', query }) as number
}

/**
 * Calls a function inside the transaction. On SQLite it must not return a promise (the transaction is
 * synchronous); on PostgreSQL it is awaited.
 */
export function* call<T>(fn: () => T | Promise<T>): Tx<T> {
  return (yield { kind: 'call', fn }) as T
}

/** Thrown by a body to abandon the transaction and have the caller start over. */
export class RestartError extends Error {
  constructor() {
    super('restart')
  }
}

/** The SQL dialect of the app's database. */
export type Dialect = 'sqlite' | 'postgres'

/** What the engine needs of a database. */
export interface Driver {
  readonly dialect: Dialect
  /** The db's casing rule for column names, if it has one. */
  readonly casing: { getColumnCasing(column: never): string } | undefined
  /** A write transaction (SQLite IMMEDIATE, PostgreSQL READ COMMITTED), retried on transient failures. */
  write<T>(body: () => Tx<T>): Promise<T>
  /** A read-only snapshot (SQLite read transaction, PostgreSQL REPEATABLE READ READ ONLY). */
  read<T>(body: () => Tx<T>): Promise<T>
  /** Statements outside any transaction (each on its own). */
  once<T>(body: () => Tx<T>): Promise<T>
  /** Runs a multi-statement DDL script in one transaction (migrations). */
  script(statements: readonly string[]): Promise<void>
  statementCount(): number
  close(): void
  /**
   * The cross-node lock of a table for one sync's critical section (`table-lock.ts`). The lease's
   * driver runs `write` and `read` holding the lock, taken at the first of them (so what runs before —
   * reading the stored metadata, authorizing — stays outside it); `once` runs unlocked. `release` must
   * be called once the section is over. On SQLite the lease is the driver itself (no cross-node lock).
   */
  lease(table: string, mode: TableLockMode): Lease
}

/** A sync's hold on its table's cross-node lock; see {@link Driver.lease}. */
export interface Lease {
  readonly driver: Driver
  /** Ends the critical section: unlocks and gives the connection back. Never throws. */
  release(): Promise<void>
}

/** Options of {@link createDriver}. */
export interface DriverOptions {
  logger: Logger
  /** SQLite busy timeout, ms. */
  busyTimeoutMs?: number
  /** Attempts for a transaction that fails transiently (serialization failure, deadlock, busy). */
  maxAttempts?: number
}

interface SqliteClient {
  prepare: (...args: unknown[]) => unknown
  exec: (...args: unknown[]) => unknown
  pragma: (source: string, options?: { simple?: boolean }) => unknown
  inTransaction: boolean
}

interface PgQueryable {
  query: (...args: unknown[]) => unknown
}

interface PgPool extends PgQueryable {
  connect: (...args: unknown[]) => unknown
  totalCount: number
}

/** A connection checked out of a `pg.Pool`. */
interface PgPoolClient extends PgQueryable {
  /** Gives the connection back; with an error (or `true`), destroys it instead. */
  release: (destroy?: Error | boolean) => void
}

type SqliteDb = {
  all(query: SQL): unknown
  run(query: SQL): unknown
  $client: SqliteClient
  dialect?: { casing?: unknown }
}

type PgTxLike = { execute(query: SQL): Promise<{ rows: Record<string, unknown>[]; rowCount?: number | null }> }
type PgDb = PgTxLike & {
  transaction<T>(fn: (tx: PgTxLike) => Promise<T>, config?: Record<string, string>): Promise<T>
  $client: PgQueryable | PgPool
  dialect?: { casing?: unknown }
}

/** Finds the driver error under drizzle's wrapper (`DrizzleQueryError.cause`). */
export function rootCause(error: unknown): { code?: unknown; message?: unknown } {
  let current: unknown = error
  for (let i = 0; i < 5; i++) {
    if (typeof current !== 'object' || current === null) break
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && !(current instanceof LastwordError)) return current as { code?: unknown }
    const cause = (current as { cause?: unknown }).cause
    if (cause === undefined) break
    current = cause
  }
  return (typeof current === 'object' && current !== null ? current : {}) as { code?: unknown }
}

/** Whether a database error is the row's fault (a constraint or a value the column refuses). */
export function isRowError(error: unknown): boolean {
  const code = rootCause(error).code
  if (typeof code !== 'string') return false
  if (code.startsWith('SQLITE_')) return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG'
  return code.startsWith('23') || code.startsWith('22')
}

function isRetryable(error: unknown): boolean {
  const code = rootCause(error).code
  return code === '40001' || code === '40P01' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED'
}

function isConnectionLoss(error: unknown): boolean {
  const root = rootCause(error)
  const code = root.code
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE')) {
    return true
  }
  const message = typeof root.message === 'string' ? root.message : error instanceof Error ? error.message : ''
  return /Connection terminated|Client has encountered a connection error|connection is closed|timeout exceeded when trying to connect/i.test(message)
}

/** Turns a database failure into the error the caller sees, never echoing SQL or parameters. */
export function toEngineError(error: unknown, logger: Logger): LastwordError {
  if (error instanceof LastwordError) return error
  if (isRetryable(error) || isConnectionLoss(error)) {
    logger.warn({ err: rootCause(error) }, 'lastword: transient database failure')
    return new LastwordError('TRANSIENT', 'The database is busy or the connection was lost; retry the request', undefined, { cause: error })
  }
  logger.error({ err: error }, 'lastword: database failure')
  return new LastwordError('INTERNAL', 'The server failed to apply the request', undefined, { cause: error })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function runSync<T>(gen: Tx<T>, exec: (op: Op) => unknown): T {
  let step = gen.next()
  for (;;) {
    if (step.done === true) return step.value
    let result: unknown
    try {
      result = exec(step.value)
    } catch (error) {
      step = gen.throw(error)
      continue
    }
    step = gen.next(result)
  }
}

async function runAsync<T>(gen: Tx<T>, exec: (op: Op) => Promise<unknown>): Promise<T> {
  let step = gen.next()
  for (;;) {
    if (step.done === true) return step.value
    let result: unknown
    try {
      result = await exec(step.value)
    } catch (error) {
      step = gen.throw(error)
      continue
    }
    step = gen.next(result)
  }
}

/** Detects the dialect of a Drizzle database and builds its driver. */
export function createDriver(db: unknown, options: DriverOptions): Driver {
  if (is(db, BaseSQLiteDatabase)) {
    const client = (db as unknown as SqliteDb).$client
    if (client === undefined || typeof client.prepare !== 'function' || typeof client.pragma !== 'function') {
      throw new LastwordError('BAD_REQUEST', 'lastword supports SQLite through drizzle-orm/better-sqlite3; pass drizzle(new Database(file))')
    }
    return createSqliteDriver(db as unknown as SqliteDb, options)
  }
  if (is(db, PgDatabase)) {
    const client = (db as unknown as PgDb).$client
    if (client === undefined || typeof client.query !== 'function') {
      throw new LastwordError('BAD_REQUEST', 'lastword supports PostgreSQL through drizzle-orm/node-postgres; pass drizzle(pool)')
    }
    return createPgDriver(db as unknown as PgDb, options)
  }
  throw new LastwordError('BAD_REQUEST', 'db must be a Drizzle database from drizzle-orm/better-sqlite3 or drizzle-orm/node-postgres')
}

function casingOf(db: { dialect?: { casing?: unknown } }): Driver['casing'] {
  const casing = db.dialect?.casing as { getColumnCasing?: unknown } | undefined
  return casing !== undefined && typeof casing.getColumnCasing === 'function' ? (casing as Driver['casing']) : undefined
}

function createSqliteDriver(db: SqliteDb, options: DriverOptions): Driver {
  const client = db.$client
  let count = 0
  const originalPrepare = client.prepare
  const originalExec = client.exec
  // Counting wraps the connection the app handed us; `close()` puts the originals back.
  client.prepare = function (this: unknown, ...args: unknown[]) {
    count++
    return originalPrepare.apply(this, args)
  }
  client.exec = function (this: unknown, ...args: unknown[]) {
    count++
    return originalExec.apply(this, args)
  }
  // reliability.md: WAL with synchronous=FULL; writers wait for each other instead of failing at once.
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = FULL')
  client.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`)
  const maxAttempts = options.maxAttempts ?? 5

  const exec = (op: Op): unknown => {
    switch (op.kind) {
      case 'all':
        return db.all(op.query)
      case 'run':
        return (db.run(op.query) as { changes: number }).changes
      case 'call': {
        const result = op.fn()
        if (typeof (result as { then?: unknown } | null)?.then === 'function') {
          throw new LastwordError('INTERNAL', 'Asynchronous work inside a SQLite transaction is not possible')
        }
        return result
      }
    }
  }

  const transact = <T>(begin: string, body: () => Tx<T>): T => {
    db.run(sql.raw(begin))
    try {
      const result = runSync(body(), exec)
      db.run(sql.raw('COMMIT'))
      return result
    } catch (error) {
      if (client.inTransaction) db.run(sql.raw('ROLLBACK'))
      throw error
    }
  }

  const withRetries = async <T>(fn: () => T): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return fn()
      } catch (error) {
        if (error instanceof RestartError) throw error
        if (!isRetryable(error) || attempt >= maxAttempts) throw toEngineError(error, options.logger)
        await sleep(Math.random() * 20 * attempt)
      }
    }
  }

  const driver: Driver = {
    dialect: 'sqlite',
    casing: casingOf(db),
    write: (body) => withRetries(() => transact('BEGIN IMMEDIATE', body)),
    read: (body) => withRetries(() => transact('BEGIN', body)),
    once: (body) => withRetries(() => runSync(body(), exec)),
    script: (statements) =>
      withRetries(() =>
        transact('BEGIN IMMEDIATE', function* () {
          for (const statement of statements) yield* run(sql.raw(statement))
        }),
      ),
    statementCount: () => count,
    close() {
      client.prepare = originalPrepare
      client.exec = originalExec
      // Own properties shadowed the prototype's methods; remove them so the client is as it was.
      if (originalPrepare === Object.getPrototypeOf(client).prepare) delete (client as Partial<SqliteClient>).prepare
      if (originalExec === Object.getPrototypeOf(client).exec) delete (client as Partial<SqliteClient>).exec
    },
    // One writer per database file (BEGIN IMMEDIATE) and one process serving it: the in-process lock is enough.
    lease: () => ({ driver, release: async () => undefined }),
  }
  return driver
}

function createPgDriver(db: PgDb, options: DriverOptions): Driver {
  const client = db.$client
  const isPool = typeof (client as PgPool).connect === 'function' && typeof (client as PgPool).totalCount === 'number'
  let count = 0
  // Per driver: two engines on one pool each count every statement once.
  const COUNTED = Symbol('lastword.counted')
  const wrapQuery = (target: PgQueryable): void => {
    const marked = target as PgQueryable & { [COUNTED]?: boolean }
    if (marked[COUNTED] === true) return
    const original = target.query
    marked[COUNTED] = true
    // A backend terminated under a checked-out pg client makes the client emit 'error'; pg-pool only
    // listens while the client is idle, and an unheard 'error' ends the process. The failing query
    // still rejects (and the transaction retries or answers TRANSIENT): here it only needs a listener.
    const emitter = target as unknown as { on?: (event: string, listener: (error: unknown) => void) => unknown }
    if (typeof emitter.on === 'function') emitter.on('error', () => undefined)
    target.query = function (this: unknown, ...args: unknown[]) {
      count++
      return original.apply(this, args)
    }
  }
  let restore: () => void
  if (isPool) {
    // pool.query checks a client out through connect(cb), so wrapping what connect hands out counts
    // every statement exactly once, inside and outside transactions.
    const pool = client as PgPool
    const originalConnect = pool.connect
    pool.connect = function (this: unknown, ...args: unknown[]) {
      const cb = args[0]
      if (typeof cb === 'function') {
        return originalConnect.call(this, (err: unknown, c: PgQueryable | undefined, done: unknown) => {
          if (c !== undefined) wrapQuery(c)
          ;(cb as (...a: unknown[]) => void)(err, c, done)
        })
      }
      return (originalConnect.apply(this, args) as Promise<PgQueryable>).then((c) => {
        wrapQuery(c)
        return c
      })
    }
    restore = () => {
      pool.connect = originalConnect
      if (originalConnect === Object.getPrototypeOf(pool).connect) delete (pool as Partial<PgPool>).connect
    }
  } else {
    wrapQuery(client)
    restore = () => undefined
  }
  // A single pg.Client has one session: transactions on it must not interleave.
  const serial: Mutex | undefined = isPool ? undefined : createMutex()
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => (serial === undefined ? fn() : serial.run(fn))
  const maxAttempts = options.maxAttempts ?? 5

  const execOn = (target: PgTxLike) => async (op: Op): Promise<unknown> => {
    switch (op.kind) {
      case 'all':
        return (await target.execute(op.query)).rows
      case 'run':
        return (await target.execute(op.query)).rowCount ?? 0
      case 'call':
        return await op.fn()
    }
  }

  const withRetries = async <T>(fn: () => Promise<T>, serialise = true): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await (serialise ? exclusive(fn) : fn())
      } catch (error) {
        if (error instanceof RestartError) throw error
        if (!isRetryable(error) || attempt >= maxAttempts) throw toEngineError(error, options.logger)
        options.logger.debug({ attempt, code: rootCause(error).code }, 'lastword: retrying transaction')
        await sleep(Math.random() * 25 * attempt)
      }
    }
  }

  const writeOn = <T>(target: PgDb, body: () => Tx<T>, serialise: boolean): Promise<T> =>
    withRetries(() => target.transaction((tx) => runAsync(body(), execOn(tx)), { isolationLevel: 'read committed' }), serialise)
  const readOn = <T>(target: PgDb, body: () => Tx<T>, serialise: boolean): Promise<T> =>
    withRetries(
      () => target.transaction((tx) => runAsync(body(), execOn(tx)), { isolationLevel: 'repeatable read', accessMode: 'read only' }),
      serialise,
    )

  /** A Drizzle database on one checked-out connection, sharing the app database's dialect (its casing). */
  const bind = (connection: PgPoolClient): PgDb => {
    type Ctor<T> = new (...args: unknown[]) => T
    const session = (db as unknown as { session: { constructor: Ctor<unknown>; options?: unknown } }).session
    const boundSession = new session.constructor(connection, db.dialect, undefined, session.options ?? {})
    return new ((db as unknown as { constructor: Ctor<PgDb> }).constructor)(db.dialect, boundSession, undefined)
  }

  const gates = createTableGates()

  const lease = (table: string, mode: TableLockMode): Lease => {
    const { lock: lockSql, unlock: unlockSql } = tableLockStatements(table, mode)
    interface Held {
      /** Where the section's transactions run: the locked connection (a pool), or the one client. */
      target: PgDb
      /** The locked connection, when checked out of a pool. */
      connection: PgPoolClient | null
      openGate: () => void
    }
    let held: Promise<Held> | undefined
    const hold = (): Promise<Held> =>
      (held ??= (async (): Promise<Held> => {
        const openGate = await gates.acquire(table, mode)
        try {
          if (!isPool) {
            // One client, one session: the lock is taken on it, and the section's transactions queue on it
            // with everything else (the gate keeps this process's own syncs apart).
            await exclusive(() => db.execute(lockSql))
            return { target: db, connection: null, openGate }
          }
          const connection = (await (client as PgPool).connect()) as PgPoolClient
          const target = bind(connection)
          try {
            await target.execute(lockSql)
          } catch (error) {
            connection.release(error instanceof Error ? error : true)
            throw error
          }
          return { target, connection, openGate }
        } catch (error) {
          openGate()
          throw toEngineError(error, options.logger)
        }
      })())
    const leased: Driver = {
      ...driver,
      write: async (body) => {
        const h = await hold()
        return writeOn(h.target, body, h.connection === null)
      },
      read: async (body) => {
        const h = await hold()
        return readOn(h.target, body, h.connection === null)
      },
      lease: () => {
        throw new Error('A lease does not nest')
      },
    }
    return {
      driver: leased,
      async release() {
        if (held === undefined) return
        let h: Held
        try {
          h = await held
        } catch {
          return // never taken: nothing to release
        }
        try {
          const rows = (await (h.connection === null ? exclusive(() => h.target.execute(unlockSql)) : h.target.execute(unlockSql))).rows
          if (rows[0]?.['ok'] !== true) throw new Error('pg_advisory_unlock did not find the lock')
          h.connection?.release()
        } catch (error) {
          options.logger.warn({ err: rootCause(error), table }, 'lastword: could not release a table lock; closing its connection')
          // The lock dies with its session: never hand a connection that may still hold it back to the pool.
          if (h.connection !== null) h.connection.release(error instanceof Error ? error : true)
          else options.logger.error({ table }, 'lastword: the table lock may be held until the single pg.Client reconnects')
        } finally {
          h.openGate()
        }
      },
    }
  }

  const driver: Driver = {
    dialect: 'postgres',
    casing: casingOf(db),
    write: (body) => writeOn(db, body, true),
    read: (body) => readOn(db, body, true),
    once: (body) => withRetries(() => runAsync(body(), execOn(db))),
    script: (statements) =>
      withRetries(() =>
        db.transaction(async (tx) => {
          // Two servers migrating at once would race on CREATE … IF NOT EXISTS: take a lock first.
          await tx.execute(sql`SELECT pg_advisory_xact_lock(7342315401)`)
          for (const statement of statements) await tx.execute(sql.raw(statement))
        }),
      ),
    lease,
    statementCount: () => count,
    close: restore,
  }
  return driver
}
