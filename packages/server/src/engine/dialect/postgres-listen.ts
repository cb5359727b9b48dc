/**
 * PostgreSQL's commit signal for the change feed (`../../feed/`): `migrate()` installs a trigger on the
 * version row (`lastword_state`) that calls `pg_notify` with the new rev, and PostgreSQL sends a
 * notification only when its transaction commits. The feed LISTENs on a connection of its own — a new
 * client of the app pool's own class and settings (`pool.Client`, `pool.options`), so it never takes one
 * of the pool's connections for good — and re-establishes it after a loss (a terminated backend, a
 * restart, a failover), then tells the feed to catch up: notifications sent while it was down are gone.
 *
 * The channel is `lastword_` and the md5 of the schema holding `lastword_state` (as the trigger computes
 * it from `TG_TABLE_SCHEMA`): deployments in different schemas of one database do not wake each other.
 */
import { LastwordError } from '@lastword/core'
import { backoff } from '../../feed/timers.js'
import type { CommitWatch, CommitWatchOptions } from './types.js'

/** A `pg.Client`, as far as the watch uses it. */
interface ListenClient {
  connect(): Promise<unknown>
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>
  on(event: 'error' | 'end', listener: (error?: unknown) => void): unknown
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown
  removeAllListeners(event?: string): unknown
  end(): Promise<unknown>
}

/** What a `pg.Pool` offers to open a client like its own. */
export interface ListenPool {
  Client?: new (options: unknown) => ListenClient
  options?: unknown
}

/** The channel of the schema that holds `lastword_state`, as lastword's statements resolve it. */
const CHANNEL_SQL = `SELECT 'lastword_' || md5(n.nspname) AS channel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('lastword_state')`

/** The trigger's function and the trigger (idempotent; `migrate()` runs them under its lock). */
export const NOTIFY_STATEMENTS = [
  `CREATE OR REPLACE FUNCTION lastword_state_notify() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('lastword_' || md5(TG_TABLE_SCHEMA), CAST(NEW.rev AS text));
    RETURN NULL;
  END $$`,
  `DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'lastword_state_notify' AND tgrelid = to_regclass('lastword_state')) THEN
      CREATE TRIGGER lastword_state_notify AFTER UPDATE OF rev ON lastword_state FOR EACH ROW
        WHEN (NEW.rev IS DISTINCT FROM OLD.rev) EXECUTE FUNCTION lastword_state_notify();
    END IF;
  END $$`,
]

const RECONNECT_BASE_MS = 100
const RECONNECT_MAX_MS = 5_000

/** LISTENs for the version row's notifications on a client of the pool's kind; `null` if the pool cannot make one. */
export function listenForCommits(pool: ListenPool, watch: CommitWatchOptions): CommitWatch | null {
  if (typeof pool.Client !== 'function') return null
  const Client: new (options: unknown) => ListenClient = pool.Client
  const { timers, logger } = watch
  let closed = false
  let current: ListenClient | undefined
  let timer: unknown
  let attempt = 0
  /** A connection was lost (or never made): the next one that listens tells the feed to catch up. */
  let lost = false

  const schedule = (): void => {
    if (closed || timer !== undefined) return
    attempt++
    timer = timers.set(() => {
      timer = undefined
      void connect()
    }, backoff(attempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS))
  }

  async function connect(): Promise<void> {
    if (closed) return
    const client = new Client(pool.options)
    current = client
    let down = false
    const onLoss = (error?: unknown): void => {
      if (down || closed) return
      down = true
      lost = true
      if (current === client) current = undefined
      client.removeAllListeners('notification')
      client.end().catch(() => undefined)
      logger.warn({ err: error }, 'lastword: the change feed lost its LISTEN connection; reconnecting')
      schedule()
    }
    // An unheard `error` would end the process (a terminated backend emits one).
    client.on('error', onLoss)
    client.on('end', () => onLoss(new LastwordError('TRANSIENT', 'The LISTEN connection ended')))
    try {
      await client.connect()
      const channel = (await client.query(CHANNEL_SQL)).rows[0]?.['channel']
      if (typeof channel !== 'string') throw new LastwordError('INTERNAL', 'lastword_state does not exist yet: run migrate() first')
      client.on('notification', (message) => {
        if (message.channel !== channel) return
        const rev = Number(message.payload)
        watch.onCommit(Number.isSafeInteger(rev) && rev > 0 ? rev : undefined)
      })
      // The channel is lastword's own name: `lastword_` and 32 hex digits.
      await client.query(`LISTEN "${channel}"`)
      if (closed || down) return
      attempt = 0
      if (lost) {
        lost = false
        watch.onResumed()
      }
    } catch (error) {
      onLoss(error)
    }
  }

  void connect()
  return {
    async close() {
      closed = true
      if (timer !== undefined) timers.clear(timer)
      const client = current
      current = undefined
      if (client !== undefined) {
        client.removeAllListeners('notification')
        await client.end().catch(() => undefined)
      }
    },
  }
}
