/**
 * Server-side change hooks (`onChange` of `createSyncServer`; packages/server/README.md, "Change hooks"):
 * the app reacts to every committed change of its synced tables, whatever wrote it — a client's push, the
 * app's own services, another server process.
 *
 * Each hook has a durable cursor (`lastword_hooks`, engine/hook-store.ts). A delivery reads the changes
 * after the cursor from the change log — up to the version row, so only committed revs, in rev order —
 * hands them to the handler, and moves the cursor past them only once the handler resolved: **at least
 * once**. A handler that throws is logged and called again with the same changes after a backoff (the
 * feed's timers seam), for as long as it throws: a change is never skipped. One delivery of a hook is in
 * flight at a time; across processes, the hook's lock (`Driver.tryExclusive`, a PostgreSQL advisory lock)
 * lets one node deliver it at a time — the others find it held and leave it.
 *
 * A cursor the retention horizon passed (`purge` removed changes the hook never got, e.g. after a long
 * outage) cannot be delivered: the hook moves to the horizon, and the loss is logged as an error and
 * counted (`lostRevs`, metric `lastword_hook_lost_revs_total`).
 */
import { LastwordError } from '@lastword/core'
import type { ChangeEvent, Engine, ExclusiveLock } from '../engine/index.js'
import { positiveOption } from '../feed/feed.js'
import { backoff, type FeedTimers } from '../feed/timers.js'
import type { Logger } from '../types.js'

/** A change hook's handler: the changes of one delivery, in rev order. Throw (or reject) to have them again. */
export type ChangeHandler = (changes: readonly ChangeEvent[]) => void | Promise<void>

/** A change hook: its handler alone, or with options. */
export type ChangeHook =
  | ChangeHandler
  | {
      handler: ChangeHandler
      /** Only changes of these synced tables (default all); the cursor moves past the others. */
      tables?: readonly string[]
      /** Changes per delivery, at most (log entries read). Default 500. */
      batch?: number
    }

/** How a failing handler is retried: after `baseMs`, doubling up to `maxMs`. Default 1 s up to 5 min. */
export interface ChangeHookRetry {
  baseMs?: number
  maxMs?: number
}

/** What one hook has done (`sync.feedStats().hooks`). */
export interface ChangeHookStats {
  /** Every rev up to here was handled (as last read or moved). */
  cursor: number
  /** The version row when last read. */
  rev: number
  /** Changes handed to a handler that resolved. */
  delivered: number
  /** Failed calls in a row (0 once one succeeds). */
  failures: number
  /** The error code or name of the last failure, if the last call failed. */
  lastError: string | null
  /** Revs moved past because the retention horizon had passed them. */
  lostRevs: number
  /** Wake-ups that found the hook held by another process (which delivers it meanwhile). */
  heldElsewhere: number
}

export interface HookRunnerDeps {
  engine: Engine
  logger: Logger
  timers: FeedTimers
  retry?: ChangeHookRetry
  /** Told after each read: how many revs the hook is behind the version row. */
  onLag?(name: string, revs: number): void
  onFailure?(name: string): void
  onLost?(name: string, revs: number): void
}

export interface HookRunners {
  /** Creates missing cursors and delivers what is due (after `migrate()`). */
  start(): void
  /** Something was committed (here or elsewhere): every hook looks. */
  wake(): void
  stats(): Record<string, ChangeHookStats>
  /** Resolves when no delivery is in flight (tests). */
  idle(): Promise<void>
  close(): Promise<void>
}

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/
const DEFAULT_BATCH = 500
const DEFAULT_RETRY_BASE_MS = 1_000
const DEFAULT_RETRY_MAX_MS = 5 * 60_000

/** Checks the hooks at startup: names (they key cursors and metric labels), handlers, options. */
export function checkHooks(hooks: Record<string, ChangeHook>, tables: readonly string[], retry: ChangeHookRetry = {}): void {
  positiveOption(retry.baseMs, DEFAULT_RETRY_BASE_MS, 'onChangeRetry.baseMs')
  positiveOption(retry.maxMs, DEFAULT_RETRY_MAX_MS, 'onChangeRetry.maxMs')
  for (const [name, hook] of Object.entries(hooks)) {
    if (!NAME.test(name)) throw new LastwordError('BAD_REQUEST', `onChange: a hook's name is 1 to 100 letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(name.slice(0, 100))}`)
    const handler = typeof hook === 'function' ? hook : hook?.handler
    if (typeof handler !== 'function') throw new LastwordError('BAD_REQUEST', `onChange.${name} must be a function or { handler }`)
    if (typeof hook === 'function') continue
    for (const table of hook.tables ?? []) {
      if (!tables.includes(table)) throw new LastwordError('BAD_REQUEST', `onChange.${name}.tables: ${JSON.stringify(String(table))} is not a synced table`)
    }
    if (hook.batch !== undefined && !(Number.isSafeInteger(hook.batch) && hook.batch > 0)) throw new LastwordError('BAD_REQUEST', `onChange.${name}.batch must be a positive integer`)
  }
}

export function createHookRunners(hooks: Record<string, ChangeHook>, deps: HookRunnerDeps): HookRunners {
  const runners = Object.entries(hooks).map(([name, hook]) => createRunner(name, hook, deps))
  return {
    start: () => runners.forEach((r) => r.wake()),
    wake: () => runners.forEach((r) => r.wake()),
    stats: () => Object.fromEntries(runners.map((r) => [r.name, r.stats()])),
    idle: async () => {
      await Promise.all(runners.map((r) => r.idle()))
    },
    close: async () => {
      await Promise.all(runners.map((r) => r.close()))
    },
  }
}

function createRunner(name: string, hook: ChangeHook, deps: HookRunnerDeps) {
  const { engine, logger, timers } = deps
  const store = engine.hookStore
  const handler = typeof hook === 'function' ? hook : hook.handler
  const tables = typeof hook === 'function' || hook.tables === undefined ? null : new Set(hook.tables)
  const batch = typeof hook === 'function' ? DEFAULT_BATCH : (hook.batch ?? DEFAULT_BATCH)
  const baseMs = deps.retry?.baseMs ?? DEFAULT_RETRY_BASE_MS
  const maxMs = deps.retry?.maxMs ?? DEFAULT_RETRY_MAX_MS
  const stats: ChangeHookStats = { cursor: -1, rev: -1, delivered: 0, failures: 0, lastError: null, lostRevs: 0, heldElsewhere: 0 }
  let opened = false
  let closed = false
  let running: Promise<void> | null = null
  let again = false
  let retryTimer: unknown
  let attempt = 0

  const retryLater = (): void => {
    if (closed) return
    attempt++
    retryTimer = timers.set(() => {
      retryTimer = undefined
      wake()
    }, backoff(attempt, baseMs, maxMs))
  }

  /** Delivers until the cursor reaches the version row, a handler fails, or another process holds the hook. */
  async function deliver(): Promise<void> {
    let lock: ExclusiveLock | null = null
    try {
      if (!opened) {
        await store.open(name)
        opened = true
      }
      lock = await store.lock(name)
      if (lock === null) {
        // Another process delivers it now; the next wake-up looks again.
        stats.heldElsewhere++
        return
      }
      while (!closed) {
        const state = await store.state(name)
        stats.cursor = state.cursor
        stats.rev = state.rev
        deps.onLag?.(name, Math.max(0, state.rev - state.cursor))
        if (state.cursor < state.horizonRev) {
          // Purged before this hook had them: nothing left to deliver. Said loudly, counted, moved past.
          const lost = state.horizonRev - state.cursor
          logger.error(
            { hook: name, from: state.cursor + 1, to: state.horizonRev },
            'lastword: a change hook fell behind the retention horizon; the purged changes cannot be delivered',
          )
          if (await store.advance(name, state.cursor, state.horizonRev)) {
            stats.lostRevs += lost
            deps.onLost?.(name, lost)
          }
          continue
        }
        if (state.cursor > state.rev) {
          // Ahead of the version row: the database was restored or replaced without this table's row.
          // Revs after the version row will be taken again by new writes: follow them from here.
          logger.warn({ hook: name, cursor: state.cursor, rev: state.rev }, 'lastword: a change hook was ahead of the database; it goes on from its version row')
          await store.advance(name, state.cursor, state.rev)
          continue
        }
        if (state.cursor === state.rev) return
        const { changes, scannedTo } = await store.changes(state.cursor, state.rev, batch)
        const mine = tables === null ? changes : changes.filter((c) => tables.has(c.table))
        if (mine.length > 0) {
          try {
            await handler(mine)
          } catch (error) {
            stats.failures++
            stats.lastError = error instanceof LastwordError ? error.code : error instanceof Error ? error.name : typeof error
            deps.onFailure?.(name)
            logger.error(
              { err: error, hook: name, first: mine[0]?.rev, last: mine[mine.length - 1]?.rev, failures: stats.failures },
              'lastword: a change hook failed; the same changes are retried',
            )
            retryLater()
            return
          }
          stats.delivered += mine.length
        }
        attempt = 0
        stats.failures = 0
        stats.lastError = null
        // Not at `state.cursor` any more: another holder moved it (a lock lost with its connection); read again.
        await store.advance(name, state.cursor, scannedTo)
      }
    } catch (error) {
      // The database failed (not the handler): retried like a handler failure, nothing skipped.
      logger.warn({ err: error, hook: name }, 'lastword: a change hook could not read or move its cursor; retrying')
      retryLater()
    } finally {
      await lock?.release()
    }
  }

  function wake(): void {
    if (closed || retryTimer !== undefined) return
    if (running !== null) {
      again = true
      return
    }
    again = false
    running = deliver().finally(() => {
      running = null
      if (again) wake()
    })
  }

  return {
    name,
    wake,
    stats: (): ChangeHookStats => ({ ...stats }),
    idle: async (): Promise<void> => {
      while (running !== null) await running
    },
    async close(): Promise<void> {
      closed = true
      if (retryTimer !== undefined) timers.clear(retryTimer)
      retryTimer = undefined
      await running
    },
  }
}
