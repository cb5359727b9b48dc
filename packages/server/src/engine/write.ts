/**
 * The write path shared by pushes and services (ARCHITECTURE.md, "Push").
 *
 * 1. Validate each record on its own (uid, stamps, drift, row); a bad one is `rejected` and never
 *    stops the others (attack V10).
 * 2. Read the stored state of every uid (one statement), compose the resulting rows (server columns
 *    from the principal on create, kept on update) and ask `authorize` about each (write-decide.ts).
 * 3. In ONE transaction: hold the stored metadata (the dialect's protocol), check it is what was
 *    authorized (else authorize again, or start over where the dialect cannot), decide each record with core's `resolveWrite`, write the app
 *    rows, then the metadata, the change log and the version row as the last step (trap 1).
 */
import {
  LastwordError,
  maxStamp,
  versionOf,
  type PushOutcome,
  type RecordMeta,
  type Resolution,
  type Scope,
  type Stamp,
  type WireRecord,
  type LineageHistory,
  type Lineage,
  type SchemaMapping,
  type FieldRecord,
  type FieldStamps,
} from '@lastword/core'
import type { Authorize, CommittedChange, Logger, Principal } from '../types.js'
import type { Dialect, Driver, MetaWrite } from './dialect/types.js'
import { openLineage } from './lineage.js'
import { committedChange, readMeta, type ServerRecord } from './store.js'
import type { SyncedTable } from './tables.js'
import { RestartError, call, type Tx } from './tx.js'
import { outcomesOf, rejectedOutcome } from './write-outcomes.js'
import { RowsRefusedError, isLive as live, writeRowsIsolated } from './write-rows.js'
import { validateRecord } from './write-input.js'
import { dropRefused, prepare, replay } from './write-decide.js'
import { refuseOrphans, type LiveWrite } from './foreign-keys.js'

/** Test seams inside a write transaction. On SQLite they must return synchronously. */
export interface WriteHooks {
  /** Just before the version row is taken (the transaction has written its rows). */
  beforeVersionRow?: (info: { table: string; uids: string[] }) => void | Promise<void>
  /** After the version row is taken, before commit. */
  afterVersionRow?: (info: { table: string; uids: string[]; firstRev: number; lastRev: number }) => void | Promise<void>
}

/** Everything one write needs. */
export interface WriteContext {
  driver: Driver
  table: SyncedTable
  /** `null` for the app itself (`system`): no authorization, server columns may be given. */
  principal: Principal | null
  authorize: Authorize | undefined
  /** What the caller may read (for superseded winners); `null` = everything. */
  readScope: Scope | null
  now: number
  maxDriftMs: number
  hooks: WriteHooks
  logger: Logger
  /** The database's history as far as the pushed records' `knownAt` name it (R12); `null`: nothing is proven purged. */
  history: LineageHistory | null
  /**
   * The push states its schema version (SPEC.md section 11): rows are partial (a column left out keeps its
   * stored value), and `mapping` maps them from an older version (`undefined`: the current one).
   */
  schema?: { from: number; mapping: SchemaMapping | undefined }
}

/** The result of a write, with what it committed. */
export interface WriteResult {
  outcomes: PushOutcome[]
  changes: CommittedChange[]
  /** The greatest stamp among accepted records (for the server's clock), or `null`. */
  acceptedMax: Stamp | null
}

export interface Candidate {
  index: number
  meta: RecordMeta
  /** The sender says the server acknowledged this uid once (R10). */
  acknowledged: boolean
  /** R12: the sender's knowledge of the record is part of this database's history, so a uid unknown now was purged. */
  purgeProven: boolean
  /** Normalised values the writer may set (`null` for a tombstone). */
  row: Record<string, unknown> | null
  /** Field-merge tables: the columns the push stamps (`{}` for a tombstone, `null` for a whole-row write); `null` on row tables. */
  fields: FieldStamps | null
}

export interface Accepted {
  candidate: Candidate
  /** The resulting row, server columns included (`null` for a tombstone). */
  after: Record<string, unknown> | null
  /** Field-merge tables: the write as core's merge takes it (its columns and their stamps). */
  field?: FieldRecord
}

export interface Prepared {
  accepted: Accepted[]
  rejected: Map<number, LastwordError>
}

export interface Final {
  uid: string
  initial: ServerRecord | undefined
  state: ServerRecord
  order: number
}

export const MAX_RESTARTS = 10

export interface TxResult {
  prepared: Prepared
  resolutions: Resolution<ServerRecord>[]
  finals: Final[]
  /** Each accepted write's resulting state (field-merge outcomes carry it). */
  states: (ServerRecord | undefined)[]
  lastRev: number
  /** The open segment the revs were committed in (`undefined` when nothing was). */
  lineage?: Lineage
}

/** What `applyWrites` decided before the transaction, against the metadata it read then. */
export interface Planned {
  prepared: Prepared
  /** The metadata read before the transaction. */
  stored: ReadonlyMap<string, ServerRecord>
  /** Each uid's rev in `stored` (0: absent). */
  expected: ReadonlyMap<string, number>
  /** `replay(prepared.accepted, stored)`: the decisions as they would be if nothing changed before the transaction. */
  preview: ReturnType<typeof replay>
}

/** Step 3: the transaction — its rows, then its metadata and the version row ({@link commitPart}). */
function* writeTx(ctx: WriteContext, candidates: readonly Candidate[], plan: Planned, isolate: boolean): Tx<TxResult> {
  const part = yield* writePart(ctx, candidates, plan, isolate)
  return yield* commitPart(ctx, part)
}

/**
 * The first half of step 3, for one table: holds the stored metadata, authorizes again if it moved, and
 * writes the app rows (`rows` false: the caller writes them, a push unit in its causal order). Shared by
 * a one-table write and a push unit spanning tables (write-unit.ts), whose parts all run before any commits.
 */
export function* writePart(ctx: WriteContext, candidates: readonly Candidate[], plan: Planned, isolate: boolean, rows = true): Tx<Omit<TxResult, 'lastRev'> & { uids: string[]; stored: ReadonlyMap<string, ServerRecord> }> {
  const { expected } = plan
  const { driver, table } = ctx
  const uids = [...expected.keys()]
  let stored = plan.stored
  let prepared = plan.prepared
  // Unless a rev moved, the stored state is the one everything was decided against (every write of a
  // record gives it a new rev): the replay done before the transaction stands.
  let { resolutions, finals, states } = plan.preview
  const { dialect } = driver
  // The dialect's concurrency protocol: hold what was read until commit, and say whether it moved.
  const held = yield* dialect.holdStored(table.name, expected)
  if (held.stored !== null) stored = held.stored
  if (held.moved) {
    // Someone wrote these uids since they were authorized: the before-rows changed.
    ctx.logger.debug({ table: table.name }, 'lastword: rows changed since they were authorized; authorizing again')
    // A dialect that cannot await authorize inside its transaction starts over instead.
    if (held.stored === null) throw new RestartError()
    prepared = yield* call(() => prepare(ctx, candidates, stored))
    ;({ resolutions, finals, states } = replay(table, prepared.accepted, stored))
  }
  if (!rows) return { prepared, resolutions, finals, states, uids, stored }
  // PD1: a write leaving a child live under a deleted parent is refused before any row is written (a
  // push unit spanning tables checks it in write-unit.ts, where the parents it writes itself are known).
  const own = new Map(finals.map((f) => [f.uid, f.state]))
  const orphans = yield* refuseOrphans(dialect, table, liveWrites(finals), (parent, uid) => (parent === table.name ? own.get(uid) : undefined))
  if (orphans.size > 0) ({ prepared, resolutions, finals, states } = dropRefused(table, prepared, stored, orphans))
  const failed = yield* withoutCapture(dialect, table, finals.map((f) => f.uid), writeRowsIsolated(dialect, table, finals, isolate))
  if (failed.size > 0) ({ prepared, resolutions, finals, states } = dropRefused(table, prepared, stored, failed))
  return { prepared, resolutions, finals, states, uids, stored }
}

/** The live states a transaction's final states leave, as PD1 checks them. */
export function liveWrites(finals: readonly Final[]): LiveWrite[] {
  return finals.filter((f) => f.state.deleted_at === null).map((f) => ({ uid: f.uid, image: f.state.image }))
}

/**
 * Runs `body` (writes of the app rows of `table`) as the engine's own writes: the capture triggers skip
 * them (the metadata the engine writes keeps the writers' stamps), and the mark is gone before commit.
 */
export function* withoutCapture<T>(dialect: Dialect, table: SyncedTable, uids: readonly string[], body: Tx<T>): Tx<T> {
  if (!table.capture) return yield* body
  yield* dialect.captureOff(table.name, uids)
  const result = yield* body
  yield* dialect.captureOn(table.name)
  return result
}

/**
 * The second half of step 3, for one table: drops what was held for unwritten uids, then writes the
 * metadata and the change log and takes the version row (trap 1; a unit's tables one after the other,
 * their revs consecutive: the version row, once taken, is held until commit).
 */
export function* commitPart(ctx: WriteContext, part: Omit<TxResult, 'lastRev'> & { uids: string[]; stored: ReadonlyMap<string, ServerRecord> }): Tx<TxResult> {
  const { driver, table } = ctx
  const { dialect } = driver
  const { prepared, resolutions, finals, states, uids, stored } = part
  const written = new Set(finals.map((f) => f.uid))
  yield* dialect.releaseUnwritten(table.name, uids.filter((uid) => !written.has(uid) && !stored.has(uid)))
  if (finals.length === 0) return { prepared, resolutions, finals, states, lastRev: 0 }
  const finalUids = finals.map((f) => f.uid)
  if (ctx.hooks.beforeVersionRow !== undefined) {
    const hook = ctx.hooks.beforeVersionRow
    yield* call(() => hook({ table: table.name, uids: finalUids }))
  }
  const writes: MetaWrite[] = finals.map((f) => ({
    uid: f.uid,
    created_at: f.state.created_at,
    updated_at: f.state.updated_at,
    deleted_at: f.state.deleted_at,
    image: f.state.image === null ? null : JSON.stringify(f.state.image),
    before: live(f.initial) && f.initial?.image != null ? JSON.stringify(f.initial.image) : null,
    fields: f.state.fields === null ? null : JSON.stringify(f.state.fields),
  }))
  const lastRev = yield* dialect.commitChanges(table.name, writes, ctx.now)
  // The open segment, held by the version row this transaction took (openSegment takes it first).
  const lineage = yield* openLineage()
  if (ctx.hooks.afterVersionRow !== undefined) {
    const hook = ctx.hooks.afterVersionRow
    yield* call(() => hook({ table: table.name, uids: finalUids, firstRev: lastRev - finals.length + 1, lastRev }))
  }
  return { prepared, resolutions, finals, states, lastRev, lineage }
}

/** Applies records under the conflict rule in one transaction; one outcome per record, in order. */
export async function applyWrites(ctx: WriteContext, records: readonly WireRecord[]): Promise<WriteResult> {
  const refusedUpFront = new Map<number, PushOutcome>()
  const candidates: Candidate[] = []
  records.forEach((record, index) => {
    try {
      candidates.push(validateRecord(ctx, record, index))
    } catch (error) {
      refusedUpFront.set(index, rejectedOutcome((record as { uid?: unknown } | null)?.uid, error))
    }
  })
  const uids = [...new Set(candidates.map((c) => c.meta.uid))]
  if (candidates.length === 0) return { outcomes: outcomesOf(ctx, records.length, refusedUpFront, { accepted: [], rejected: new Map() }, [], records), changes: [], acceptedMax: null }

  // After the database refused a batch of rows, the next attempts find the refused rows one by one.
  let isolate = false
  for (let attempt = 1; ; attempt++) {
    const stored = await ctx.driver.once(() => readMeta(ctx.driver.dialect, ctx.table.name, uids))
    const prepared = await prepare(ctx, candidates, stored)
    const preview = replay(ctx.table, prepared.accepted, stored)
    let result: TxResult
    if (preview.finals.length === 0) {
      // Nothing would change (a duplicate delivery, or only stale writes): no transaction, no rev.
      result = { prepared, resolutions: preview.resolutions, finals: [], states: preview.states, lastRev: 0 }
    } else {
      const expected = new Map(uids.map((uid) => [uid, stored.get(uid)?.rev ?? 0]))
      const plan: Planned = { prepared, stored, expected, preview }
      try {
        result = await ctx.driver.write(() => writeTx(ctx, candidates, plan, isolate))
      } catch (error) {
        // A row refused at its statement, or a constraint declared deferred at COMMIT: find the culprits one by one.
        const refusedRows = error instanceof RowsRefusedError || (!(error instanceof RestartError) && ctx.driver.dialect.isRowError(error))
        if (refusedRows && !isolate) {
          isolate = true
          attempt--
          continue
        }
        if (!(error instanceof RestartError)) throw error
        if (attempt >= MAX_RESTARTS) {
          throw new LastwordError('TRANSIENT', 'These records kept changing while the push was applied; retry it')
        }
        continue
      }
    }
    const outcomes = outcomesOf(ctx, records.length, refusedUpFront, result.prepared, result.resolutions, records, result.states)
    const changes = changesOf(ctx.table, result)
    let acceptedMax: Stamp | null = null
    for (const a of result.prepared.accepted) acceptedMax = maxStamp(acceptedMax, versionOf(a.candidate.meta))
    return { outcomes, changes, acceptedMax }
  }
}

/** What one table's part of a transaction committed, as the commit listeners get it (revs in commit order). */
export function changesOf(table: SyncedTable, result: TxResult): CommittedChange[] {
  const firstRev = result.lastRev - result.finals.length + 1
  return result.finals.map((f, i) => committedChange(table.name, f.state, firstRev + i, live(f.initial) ? (f.initial?.image ?? null) : null, result.lineage))
}
