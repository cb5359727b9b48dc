/**
 * What `@socket.io/postgres-adapter` needs of its `pg.Pool` that it does not do itself.
 *
 * - Its attachments table: NOTIFY carries at most 8,000 bytes, so the adapter stores larger payloads
 *   (and binary ones) in a table and notifies their id. It never creates that table.
 * - A listener for `error` on its LISTEN connection: the adapter checks one connection out of the pool
 *   for good and listens for its `end` to reconnect, but a connection that PostgreSQL terminates
 *   (`pg_terminate_backend`, a restart, a failover) first emits `error` — with no listener, Node ends the
 *   process. The pool listens on its idle connections only.
 *
 * lastword does not depend on the adapter: the app creates it with this pool and passes it as
 * `cluster.adapter`.
 */
import { LastwordError } from '@lastword/core'
import type { Logger } from '../types.js'

/** The part of a `pg.Pool` used here. */
export interface PgPoolLike {
  query(text: string): Promise<unknown>
  on(event: 'connect', listener: (client: { on(event: 'error', listener: (error: Error) => void): unknown }) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

export interface PreparePostgresAdapterOptions {
  /** The adapter's `tableName`. Default `socket_io_attachments` (the adapter's default). */
  tableName?: string
  logger?: Logger
}

export const DEFAULT_ATTACHMENTS_TABLE = 'socket_io_attachments'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Readies a `pg.Pool` for `@socket.io/postgres-adapter`: creates the attachments table if it does not
 * exist, and keeps errors on the pool's connections (the adapter's LISTEN connection among them) from
 * ending the process — they are logged, and the adapter reconnects. Call it once per pool, before
 * `createAdapter(pool, { tableName })`. Give the adapter a pool of its own: it holds one connection
 * for as long as it runs.
 *
 * @example
 * const adapterPool = new pg.Pool({ connectionString, max: 4 })
 * await preparePostgresAdapter(adapterPool, { tableName: 'lastword_io_attachments' })
 * const sync = createSyncServer({
 *   db, tables,
 *   cluster: { adapter: createAdapter(adapterPool, { tableName: 'lastword_io_attachments', channelPrefix: 'lastword-app' }) },
 * })
 */
export async function preparePostgresAdapter(pool: PgPoolLike, options: PreparePostgresAdapterOptions = {}): Promise<void> {
  const tableName = options.tableName ?? DEFAULT_ATTACHMENTS_TABLE
  if (!IDENTIFIER.test(tableName)) {
    // The adapter puts the name into its SQL as it is.
    throw new LastwordError('BAD_REQUEST', `tableName must be a plain SQL identifier (letters, digits, _), got ${JSON.stringify(tableName)}`)
  }
  const logger = options.logger
  const onError = (error: Error): void => {
    logger?.warn({ err: error }, 'lastword: a connection of the socket.io adapter failed; the adapter reconnects')
  }
  pool.on('connect', (client) => {
    client.on('error', onError)
  })
  pool.on('error', onError)
  // Several nodes starting at once would race on CREATE TABLE IF NOT EXISTS: one statement, under a lock.
  await pool.query(`DO $$ BEGIN
    PERFORM pg_advisory_xact_lock(7342315402);
    CREATE TABLE IF NOT EXISTS ${tableName} (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea);
  END $$`)
}
