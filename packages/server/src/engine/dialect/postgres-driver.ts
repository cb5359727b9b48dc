/**
 * Transactions on PostgreSQL through drizzle-orm/node-postgres, and the cross-node table lock
 * (`../table-lock.ts`, trap 6).
 *
 * lastword uses the app's `pg.Pool` through its public API only: a statement outside a transaction is
 * `db.execute` (a `pool.query`); a transaction or a sync's critical section checks a connection out
 * with `pool.connect()`, runs on a Drizzle database over that connection (`drizzle()` with the app
 * db's casing and logger), and gives it back. While lastword holds a connection it listens for its
 * `error` event — pg-pool listens only while a connection is idle, and an unheard `error` (the backend
 * terminated under a checked-out connection) would end the process; the failing query still rejects,
 * and the transaction retries or answers TRANSIENT. Nothing of the pool or its connections is replaced.
 */
import { LastwordError } from '@lastword/core'
import { sql, type SQL } from 'drizzle-orm'
import { pgTable, text } from 'drizzle-orm/pg-core'
import { createMutex, type Mutex } from '../mutex.js'
import { createTableGates } from '../table-lock.js'
import { RestartError, runAsync, type Op, type Tx } from '../tx.js'
import { listenForCommits, type ListenPool } from './postgres-listen.js'
import {
  casingOf,
  rootCause,
  sleep,
  toEngineError,
  type Dialect,
  type Driver,
  type DriverOptions,
  type ExclusiveLock,
  type Lease,
  type TableLockMode,
} from './types.js'

type PgTxLike = { execute(query: SQL): Promise<{ rows: Record<string, unknown>[]; rowCount?: number | null }> }
type PgDb = PgTxLike & {
  transaction<T>(fn: (tx: PgTxLike) => Promise<T>, config?: Record<string, string>): Promise<T>
  $client: PgQueryable | PgPool
}

interface PgQueryable {
  query: (...args: unknown[]) => unknown
}

interface PgPool extends PgQueryable {
  connect: () => Promise<PgPoolClient>
  totalCount: number
}

/** A connection checked out of a `pg.Pool`. */
interface PgPoolClient extends PgQueryable {
  /** Gives the connection back; with an error (or `true`), destroys it instead. */
  release: (destroy?: Error | boolean) => void
  on(event: 'error', listener: (error: unknown) => void): unknown
  removeListener(event: 'error', listener: (error: unknown) => void): unknown
}

/**
 * The statements that take and release the advisory lock of a table. The key is
 * `hashtext('lastword:' || current_schema() || ':' || <table>)`, the table being its client-facing
 * name: advisory locks are per database, and two deployments (or two test files) in different schemas
 * of one database must not lock each other out.
 */
export function tableLockStatements(table: string, mode: TableLockMode): { lock: SQL; unlock: SQL } {
  const key = sql`hashtext('lastword:' || current_schema() || ':' || CAST(${table} AS text))`
  return mode === 'exclusive'
    ? { lock: sql`SELECT pg_advisory_lock(${key})`, unlock: sql`SELECT pg_advisory_unlock(${key}) AS ok` }
    : { lock: sql`SELECT pg_advisory_lock_shared(${key})`, unlock: sql`SELECT pg_advisory_unlock_shared(${key}) AS ok` }
}

const CASING_PROBE = pgTable('lastword_casing_probe', { aB: text(), c_d: text() })

/**
 * The casing option the app gave `drizzle()` ('snake_case', 'camelCase' or none), read off how its db
 * names two probe columns, so a database over one checked-out connection names columns as the app's does.
 */
function casingOption(db: unknown): 'snake_case' | 'camelCase' | undefined {
  const casing = casingOf(db) as { getColumnCasing(column: unknown): string } | undefined
  if (casing === undefined) return undefined
  if (casing.getColumnCasing(CASING_PROBE.aB) === 'a_b') return 'snake_case'
  if (casing.getColumnCasing(CASING_PROBE.c_d) === 'cD') return 'camelCase'
  return undefined
}

/** The app db's Drizzle logger, so statements on a checked-out connection are logged as the app's are. */
function loggerOption(db: unknown): unknown {
  return (db as { _?: { session?: { options?: { logger?: unknown } } } })._?.session?.options?.logger
}

const ignoreError = (): void => undefined

/**
 * drizzle-orm/node-postgres, loaded on first use: it imports `pg`, an optional peer dependency that an
 * app on SQLite does not have. An app whose db is a node-postgres one has it.
 */
let nodePostgres: Promise<typeof import('drizzle-orm/node-postgres')> | undefined
const loadNodePostgres = (): Promise<typeof import('drizzle-orm/node-postgres')> => (nodePostgres ??= import('drizzle-orm/node-postgres'))

/** The PostgreSQL driver over the app's `drizzle(pool)` (or `drizzle(client)`). */
export function openPostgres(dialect: Dialect, input: unknown, options: DriverOptions): Driver {
  const db = input as PgDb
  const client = db.$client
  if (client === undefined || typeof client.query !== 'function') {
    throw new LastwordError('BAD_REQUEST', 'lastword supports PostgreSQL through drizzle-orm/node-postgres; pass drizzle(pool)')
  }
  const isPool = typeof (client as PgPool).connect === 'function' && typeof (client as PgPool).totalCount === 'number'
  const casing = casingOption(db)
  const logger = loggerOption(db)
  const boundConfig = { ...(casing === undefined ? {} : { casing }), ...(logger === undefined ? {} : { logger }) }
  // A single pg.Client has one session: transactions on it must not interleave.
  const serial: Mutex | undefined = isPool ? undefined : createMutex()
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => (serial === undefined ? fn() : serial.run(fn))
  const maxAttempts = options.maxAttempts ?? 5

  /** A checked-out connection and a Drizzle database over it; see the module comment. */
  const checkOut = async (): Promise<{ connection: PgPoolClient; target: PgDb }> => {
    const { drizzle } = await loadNodePostgres()
    const connection = await (client as PgPool).connect()
    connection.on('error', ignoreError)
    const target = drizzle({ client: connection as never, ...(boundConfig as object) }) as unknown as PgDb
    return { connection, target }
  }
  const giveBack = (connection: PgPoolClient, destroy?: Error | boolean): void => {
    // pg-pool listens again as soon as release returns (or has dropped the connection): no gap.
    connection.release(destroy)
    connection.removeListener('error', ignoreError)
  }
  /** Runs `fn` on a connection of its own (a pool), or on the one client. */
  const onConnection = async <T>(fn: (target: PgDb) => Promise<T>): Promise<T> => {
    if (!isPool) return exclusive(() => fn(db))
    const { connection, target } = await checkOut()
    try {
      return await fn(target)
    } finally {
      giveBack(connection)
    }
  }

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

  const withRetries = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn()
      } catch (error) {
        if (error instanceof RestartError) throw error
        if (!dialect.isRetryable(error) || attempt >= maxAttempts) throw toEngineError(dialect, error, options.logger)
        options.logger.debug({ attempt, code: rootCause(error).code }, 'lastword: retrying transaction')
        await sleep(Math.random() * 25 * attempt)
      }
    }
  }

  const WRITE = { isolationLevel: 'read committed' }
  const READ = { isolationLevel: 'repeatable read', accessMode: 'read only' }
  const transactOn = <T>(target: PgDb, config: Record<string, string>, body: () => Tx<T>): Promise<T> =>
    target.transaction((tx) => runAsync(body(), execOn(tx)), config)

  const gates = createTableGates()

  const lease = (tables: string | readonly string[], mode: TableLockMode): Lease => {
    // Several tables (a push unit spanning them) are locked in name order, so two sections never wait
    // on each other in a cycle.
    const names = [...new Set(typeof tables === 'string' ? [tables] : tables)].sort()
    const table = names.join(',')
    const statements = names.map((name) => tableLockStatements(name, mode))
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
        const opened: (() => void)[] = []
        for (const name of names) opened.push(await gates.acquire(name, mode))
        const openGate = (): void => {
          for (const open of opened.reverse()) open()
        }
        try {
          if (!isPool) {
            // One client, one session: the lock is taken on it, and the section's transactions queue on it
            // with everything else (the gate keeps this process's own syncs apart).
            await exclusive(async () => {
              for (const { lock } of statements) await db.execute(lock)
            })
            return { target: db, connection: null, openGate }
          }
          const { connection, target } = await checkOut()
          try {
            for (const { lock } of statements) await target.execute(lock)
          } catch (error) {
            // Destroyed: a lock taken before the failure dies with its session.
            giveBack(connection, error instanceof Error ? error : true)
            throw error
          }
          return { target, connection, openGate }
        } catch (error) {
          openGate()
          throw toEngineError(dialect, error, options.logger)
        }
      })())
    const inSection = async <T>(config: Record<string, string>, body: () => Tx<T>): Promise<T> => {
      const h = await hold()
      return withRetries(() => (h.connection === null ? exclusive(() => transactOn(h.target, config, body)) : transactOn(h.target, config, body)))
    }
    const leased: Driver = {
      ...driver,
      write: (body) => inSection(WRITE, body),
      read: (body) => inSection(READ, body),
      lease: () => {
        throw new LastwordError('INTERNAL', 'A table lease does not nest')
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
          for (const { unlock } of statements) {
            const rows = (await (h.connection === null ? exclusive(() => h.target.execute(unlock)) : h.target.execute(unlock))).rows
            if (rows[0]?.['ok'] !== true) throw new LastwordError('INTERNAL', 'pg_advisory_unlock did not find the lock')
          }
          if (h.connection !== null) giveBack(h.connection)
        } catch (error) {
          options.logger.warn({ err: rootCause(error), table }, 'lastword: could not release a table lock; closing its connection')
          // The lock dies with its session: never hand a connection that may still hold it back to the pool.
          if (h.connection !== null) giveBack(h.connection, error instanceof Error ? error : true)
          else options.logger.error({ table }, 'lastword: the table lock may be held until the single pg.Client reconnects')
        } finally {
          h.openGate()
        }
      },
    }
  }

  const driver: Driver = {
    dialect,
    casing: casingOf(db),
    write: (body) => withRetries(() => onConnection((target) => transactOn(target, WRITE, body))),
    read: (body) => withRetries(() => onConnection((target) => transactOn(target, READ, body))),
    once: (body) => withRetries(() => exclusive(() => runAsync(body(), execOn(db)))),
    // Nothing to check: every transaction sets its own isolation level.
    checkSettings: async () => undefined,
    script: (statements) =>
      withRetries(() =>
        onConnection((target) =>
          target.transaction(async (tx) => {
            // Two servers migrating at once would race on CREATE … IF NOT EXISTS: take a lock first.
            await tx.execute(sql`SELECT pg_advisory_xact_lock(7342315401)`)
            for (const statement of statements) await tx.execute(sql.raw(statement))
          }),
        ),
      ),
    lease,
    // A single pg.Client has one session, busy with the app's queries: no LISTEN on it.
    watchCommits: (watch) => (isPool && watch.listen ? listenForCommits(client as unknown as ListenPool, watch) : null),
    tryExclusive,
    close: () => undefined,
  }

  /** A session advisory lock named `key` in this schema, on a connection held until it is released. */
  async function tryExclusive(key: string): Promise<ExclusiveLock | null> {
    const id = sql`hashtext('lastword-exclusive:' || current_schema() || ':' || CAST(${key} AS text))`
    const take = sql`SELECT pg_try_advisory_lock(${id}) AS ok`
    const drop = sql`SELECT pg_advisory_unlock(${id}) AS ok`
    if (!isPool) {
      const rows = (await withRetries(() => exclusive(() => db.execute(take)))).rows
      if (rows[0]?.['ok'] !== true) return null
      return {
        async release() {
          await exclusive(() => db.execute(drop)).catch((error: unknown) => options.logger.warn({ err: rootCause(error), key }, 'lastword: could not release a lock'))
        },
      }
    }
    const { connection, target } = await checkOut()
    let ok: unknown
    try {
      ok = (await target.execute(take)).rows[0]?.['ok']
    } catch (error) {
      giveBack(connection, error instanceof Error ? error : true)
      throw toEngineError(dialect, error, options.logger)
    }
    if (ok !== true) {
      giveBack(connection)
      return null
    }
    return {
      async release() {
        try {
          if ((await target.execute(drop)).rows[0]?.['ok'] !== true) throw new LastwordError('INTERNAL', 'pg_advisory_unlock did not find the lock')
          giveBack(connection)
        } catch (error) {
          // The lock dies with its session: a connection that may still hold it never goes back to the pool.
          options.logger.warn({ err: rootCause(error), key }, 'lastword: could not release a lock; closing its connection')
          giveBack(connection, error instanceof Error ? error : true)
        }
      },
    }
  }
  return driver
}
