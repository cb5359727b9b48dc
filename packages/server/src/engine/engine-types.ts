/** The engine's public shapes: its options, its test and metrics seams, and what it offers beyond {@link SyncEngine}. */
import type { Hlc, Scope } from '@lastword/core'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { Authorize, CommittedChange, Limits, Logger, Principal, SyncEngine } from '../types.js'
import type { CommitWatch, CommitWatchOptions } from './dialect/types.js'
import type { HookStore } from './hook-store.js'
import type { ReadyResult } from './readiness.js'
import type { ScopeLockObserver } from './scope-lock.js'
import type { TableInput } from './tables.js'
import type { WriteHooks } from './write.js'
import type { BackfillHook } from './backfill.js'

/** A Drizzle database lastword can serve. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SyncDatabase = BetterSQLite3Database<any> | NodePgDatabase<any>

/** Seams for tests and metrics; none is needed in production. */
export interface EngineHooks extends WriteHooks {
  /** Sees each sync wait for, take and release the overlap lock; a returned promise holds an `acquire`. */
  onScopeLock?: ScopeLockObserver
  /**
   * Sees each client filter validated and compiled (by a sync, or for a subscription), with its size
   * (conditions plus `in` values): a counting seam for the rule that scope work is done once per
   * scope, never per commit (row S13).
   */
  onFilterCompiled?: (event: { table: string; size: number }) => void
  /** Called before each backfill batch with the rows backfilled so far; a throw interrupts the backfill there (backfill.ts). */
  beforeBackfillBatch?: BackfillHook
}

/** Options of {@link createEngine}. */
export interface EngineOptions<P extends Principal = Principal> {
  /** A Drizzle database: `drizzle-orm/better-sqlite3` or `drizzle-orm/node-postgres` (a `pg.Pool` for concurrency). */
  db: SyncDatabase
  /** The synced tables by the name clients use: each a Drizzle table with one text, varchar or uuid primary key (engine/table-key.ts). */
  tables: Record<string, TableInput<P>>
  /** Authorization of reads (a filter AND-ed with the client's) and writes (per record). None: everything allowed. */
  authorize?: Authorize<P>
  limits?: Partial<Limits>
  logger?: Logger
  /** The server's wall clock, ms. */
  now?: () => number
  hooks?: EngineHooks
}

/** The engine: {@link SyncEngine} plus what tests and the transport may want to look at. */
export interface Engine extends SyncEngine {
  readonly limits: Readonly<Limits>
  /** The server's hybrid logical clock (services stamp with it; accepted stamps advance it). */
  readonly clock: Hlc
  /** The effective scopes holding the overlap lock of a table right now. */
  activeScopes(table: string): Scope[]
  /** The rev the database stands at: the version row, every rev up to it committed. */
  currentRev(): Promise<number>
  /** The point of its history the database stands at, `<db>.<segment>.<rev>` (SPEC.md R12). */
  currentPoint(): Promise<string>
  /**
   * Committed changes with rev in (`after`, `upTo`], each with its logged rev, rebuilt from the change
   * log and the record's current state (its latest rev, which may be later), in rev order, for a server node that missed
   * their publication (`cluster/`). Reads at most `limit` log entries; `scannedTo` is the rev read up to
   * (`upTo` once everything was read). Changes whose record was purged since are left out.
   */
  changesSince(after: number, upTo: number, limit: number): Promise<{ entries: Array<{ rev: number; change: CommittedChange }>; scannedTo: number }>
  /** The readiness check (readiness.ts): database reachable, lastword's tables migrated. Never throws. */
  ready(options?: { timeoutMs?: number }): Promise<ReadyResult>
  /** The database's signal that another connection committed (`Driver.watchCommits`), for the change feed. */
  watchCommits(options: CommitWatchOptions): CommitWatch | null
  /** The change hooks' cursors, reads and locks (hook-store.ts). */
  readonly hookStore: HookStore
}
