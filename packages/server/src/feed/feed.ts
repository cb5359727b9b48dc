/**
 * The change feed of one server node (ARCHITECTURE.md, "Realtime"): whatever puts a rev into the change
 * log — this node's engine, another server process on the same database, another node of a cluster —
 * reaches this node's subscribed sockets, each rev once.
 *
 * - **This node's commits** go to the fan-out straight from memory, as they always did: no latency, no
 *   database work on that path (`local`).
 * - **Other nodes' publications** (the cluster's adapter, `cluster/`) carry their changes: delivered on
 *   receipt (`peer`).
 * - **Anything else** is read from the change log (`engine.changesSince`, in batches). The feed learns
 *   that the version row moved from the database's own signal — a `pg_notify` sent at commit by the
 *   trigger `migrate()` installs on `lastword_state`, heard on a LISTEN connection of the feed's own
 *   (PostgreSQL), or `PRAGMA data_version` polled every `pollIntervalMs` (SQLite) — and, as a backstop,
 *   from reading the version row every `checkIntervalMs`. After a lost LISTEN connection is back, it
 *   reads the version row again: what was committed meanwhile is caught up from the log.
 *
 * The rule for gaps is the one the rev tracker states (`revs.ts`): every rev up to the version row is
 * committed (a rolled-back transaction gives its block back), so the feed reads only up to a version row
 * it has seen, never beyond — a rev taken by a transaction that has not committed is not under it, and is
 * read once it is. With a cluster adapter, a rev the version row passed waits `graceMs` for its
 * publication before it is read (the adapter is the fast path; the log read is the repair). Every
 * delivery, whatever its source, goes through one tracker, so a socket never gets a rev twice.
 *
 * A change read back from the log carries its record's latest state (`changesSince`): delivering it
 * delivers that later rev too, which is then not delivered again.
 */
import { LastwordError } from '@lastword/core'
import type { Engine } from '../engine/index.js'
import type { CommittedChange, Logger } from '../types.js'
import { createRevTracker } from './revs.js'
import { systemTimers, type FeedTimers } from './timers.js'

/** The `feed` option of `createSyncServer`. */
export interface FeedOptions {
  /** SQLite: how often `PRAGMA data_version` is read to notice other connections' commits, ms. Default 100. */
  pollIntervalMs?: number
  /** How often the version row is read as a backstop, ms. Default 2,000. */
  checkIntervalMs?: number
  /** Change-log entries read per query, at most. Default 5,000. */
  batch?: number
  /** PostgreSQL: LISTEN for the version row's notifications (default `true`; `false` leaves the backstop alone). */
  listen?: boolean
  /** The clock and timers the feed (and the change hooks) run on; a test seam. Default the process's, unreferenced. */
  timers?: FeedTimers
}

/** What the feed has done so far (`sync.feedStats()`, metrics). */
export interface FeedStats {
  /** The version row when realtime started (revs up to it are for clients' next sync); `null` until read. */
  since: number | null
  /** Every rev up to here has been delivered (or was committed before the feed started). */
  watermark: number
  /** The greatest version row the feed has seen. */
  observed: number
  /** Changes delivered from this node's own commits. */
  local: number
  /** Changes delivered from other nodes' publications. */
  peer: number
  /** Changes delivered from the change log. */
  log: number
  /** Change-log reads. */
  reads: number
}

/** Where a delivery came from (metrics label). */
export type FeedSource = 'local' | 'cluster' | 'log'

export interface ChangeFeedDeps {
  engine: Engine
  logger: Logger
  /** The local fan-out. */
  deliver(changes: readonly CommittedChange[], origin: unknown, source: FeedSource): void
  options: FeedOptions
  /** Told the lag (version row seen minus watermark) after each pass. */
  onLag?(revs: number): void
}

export interface ChangeFeed {
  /** Starts waking up on the database's signal and the backstop (idempotent); hooks need only this. */
  watch(): void
  /** Also delivers to the sockets what other processes committed (at `attach`); starts watching. */
  startRealtime(): void
  /** A commit of this node: delivered now, from memory. */
  local(changes: readonly CommittedChange[], origin: unknown): void
  /** Another node's publication of revs `first … last`, with its changes or (too large) without. */
  peer(first: number, last: number, changes: readonly CommittedChange[] | null): void
  /** How long a rev waits for a publication before it is read from the log (the cluster sets it). */
  setGrace(ms: number): void
  /** Called after every wake-up (a commit here or elsewhere, the backstop); returns its removal. */
  onWake(listener: () => void): () => void
  readonly timers: FeedTimers
  stats(): FeedStats
  /** Resolves once the work queued so far is done (tests). */
  idle(): Promise<void>
  close(): Promise<void>
}

export const DEFAULT_POLL_INTERVAL_MS = 100
export const DEFAULT_CHECK_INTERVAL_MS = 2_000
export const DEFAULT_FEED_BATCH = 5_000

/** A positive number option, or its default; anything else is refused at startup. */
export function positiveOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new LastwordError('BAD_REQUEST', `${name} must be a positive number, got ${typeof value === 'number' ? String(value) : typeof value}`)
  }
  return value
}

export function createChangeFeed(deps: ChangeFeedDeps): ChangeFeed {
  const { engine, logger, options } = deps
  const timers = options.timers ?? systemTimers
  const pollIntervalMs = positiveOption(options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS, 'feed.pollIntervalMs')
  const checkIntervalMs = positiveOption(options.checkIntervalMs, DEFAULT_CHECK_INTERVAL_MS, 'feed.checkIntervalMs')
  const batch = Math.floor(positiveOption(options.batch, DEFAULT_FEED_BATCH, 'feed.batch'))
  const revs = createRevTracker()
  const stats = { local: 0, peer: 0, log: 0, reads: 0 }
  const listeners = new Set<() => void>()
  /** Version rows seen, in order (both rev and time increasing), not yet due for a log read. */
  const observations: Array<{ rev: number; at: number }> = []
  let observed = 0
  /** The greatest version row whose grace is over: every rev up to it is read if not delivered (kept, so a failed read is retried). */
  let due = 0
  let graceMs = 0
  let watching = false
  let realtime = false
  /** The baseline was read: revs committed before it are the clients' next sync's business. */
  let started = false
  let since: number | null = null
  let closed = false
  let signal: { close(): Promise<void> } | null = null
  let checkTimer: unknown
  let graceTimer: unknown
  let graceAt = Infinity
  /** One pass at a time: reads and deliveries of the log never race each other. */
  let chain: Promise<void> = Promise.resolve()

  const wake = (): void => {
    for (const listener of listeners) {
      try {
        listener()
      } catch (error) {
        logger.error({ err: error }, 'lastword: a change-feed listener threw')
      }
    }
  }

  const observe = (rev: number): void => {
    if (!Number.isSafeInteger(rev) || rev <= observed) return
    observed = rev
    observations.push({ rev, at: timers.now() })
  }

  const mark = (change: CommittedChange): boolean => {
    if (revs.has(change.rev)) return false
    revs.add(change.rev, change.rev)
    return true
  }

  /** Reads revs `first … last` from the log and delivers those not delivered yet. */
  async function read(first: number, last: number): Promise<void> {
    let after = first - 1
    while (after < last && !closed) {
      const { entries, scannedTo } = await engine.changesSince(after, last, batch)
      stats.reads++
      // A logged rev already delivered, or whose record's state (a later rev) already was, is not sent again.
      const fresh = entries.filter(({ rev, change }) => !revs.has(rev) && mark(change)).map((e) => e.change)
      revs.add(after + 1, scannedTo)
      if (fresh.length > 0) {
        stats.log += fresh.length
        deps.deliver(fresh, undefined, 'log')
      }
      if (scannedTo <= after) break
      after = scannedTo
    }
  }

  /** One pass: reads the version row if asked, then the log up to the greatest version row now due. */
  async function pass(check: boolean): Promise<void> {
    if (closed || !realtime) return
    if (!started) {
      const latest = await engine.currentRev()
      revs.skipTo(latest)
      observe(latest)
      observations.length = 0
      started = true
      since = latest
      return
    }
    if (check) observe(await engine.currentRev())
    const now = timers.now()
    while (observations.length > 0 && (observations[0] as { at: number }).at + graceMs <= now) due = (observations.shift() as { rev: number }).rev
    const gaps = revs.gaps(due)
    if (gaps.length > 0) await read((gaps[0] as [number, number])[0], (gaps[gaps.length - 1] as [number, number])[1])
    const next = observations[0]
    if (next !== undefined) armGrace(next.at + graceMs)
    deps.onLag?.(Math.max(0, observed - revs.watermark))
  }

  const enqueue = (check: boolean): void => {
    if (closed) return
    chain = chain.then(() => pass(check)).catch((error: unknown) => logger.warn({ err: error }, 'lastword: the change feed could not read the change log; it retries'))
  }

  const armGrace = (at: number): void => {
    if (closed || at >= graceAt) return
    if (graceTimer !== undefined) timers.clear(graceTimer)
    graceAt = at
    graceTimer = timers.set(() => {
      graceTimer = undefined
      graceAt = Infinity
      enqueue(false)
    }, Math.max(0, at - timers.now()))
  }

  const armCheck = (): void => {
    if (closed) return
    checkTimer = timers.set(() => {
      enqueue(true)
      wake()
      armCheck()
    }, checkIntervalMs)
  }

  const feed: ChangeFeed = {
    timers,
    watch() {
      if (watching || closed) return
      watching = true
      signal = engine.watchCommits({
        timers,
        pollIntervalMs,
        listen: options.listen !== false,
        logger,
        onCommit(rev) {
          // A notification names the version row after its commit: every rev up to it is committed.
          if (rev === undefined) enqueue(true)
          else {
            observe(rev)
            enqueue(false)
          }
          wake()
        },
        onResumed() {
          // Deaf for a while: whatever was committed meanwhile is under the version row now.
          enqueue(true)
          wake()
        },
      })
      armCheck()
    },
    startRealtime() {
      if (realtime || closed) return
      realtime = true
      feed.watch()
      enqueue(true)
    },
    local(changes, origin) {
      // Before realtime starts there are no sockets to keep anything from: nothing to remember either.
      const fresh = realtime ? changes.filter(mark) : changes
      if (fresh.length > 0) {
        stats.local += fresh.length
        deps.deliver(fresh, origin, 'local')
      }
      if (started && fresh.length > 0) {
        // The version row has passed these revs: any rev under them not delivered yet is another
        // process's, committed; it becomes due (no database work here: the pass runs after).
        observe(Math.max(...fresh.map((c) => c.rev)))
        if (revs.gaps(observed).length > 0) enqueue(false)
      }
      wake()
    },
    peer(first, last, changes) {
      if (closed) return
      if (changes !== null) {
        const fresh = changes.filter(mark)
        revs.add(first, last)
        if (fresh.length > 0) {
          stats.peer += fresh.length
          deps.deliver(fresh, undefined, 'cluster')
        }
        if (started) observe(last)
        return
      }
      // Too large to publish: read now (no grace: the publication did arrive), what is still missing.
      chain = chain
        .then(() => read(first, last))
        .catch((error: unknown) => logger.warn({ err: error, first, last }, 'lastword: could not read a large commit of another node; the feed retries'))
      if (started) observe(last)
    },
    setGrace(ms) {
      graceMs = Math.max(0, ms)
    },
    onWake(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    stats: () => ({ since, watermark: revs.watermark, observed, ...stats }),
    idle: () => chain,
    async close() {
      closed = true
      listeners.clear()
      if (checkTimer !== undefined) timers.clear(checkTimer)
      if (graceTimer !== undefined) timers.clear(graceTimer)
      await signal?.close()
      await chain
    },
  }
  return feed
}
