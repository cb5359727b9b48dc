/**
 * Applies one sync page in ONE store transaction with its checkpoint (or full-reconciliation cursor), so
 * an interrupted sync resumes from what it stored (invariant I10). Push outcomes (P1–P7), rows and
 * tombstones (A1–A4), evictions and purges (E1–E4, E6) are decided by core; this module reads and writes:
 * every record the page names is read in one pass, decided in memory, and written together.
 */
import { advanceSeen, assertStamp, decidePushOutcome, type ClockSample, type RecordState, type SyncPage } from '@lastword/core'
import type { StoredRecord, StoredScope } from '../store/types.js'
import type { SyncContext } from './context.js'
import { greatestVersion, readRecords } from './records.js'
import { correctClock, outcomeState } from './outcome-reading.js'
import { applyIncoming, lazily, loadBatch, removeErased, removeUnlessHeld, withKnownAt } from './replica-store.js'
import type { BuiltRequest } from './request-builder.js'
import type { ScopeEntry } from './scope-registry.js'
import type { ClockEvent, SyncReport } from './types.js'

/** What one page did, for the run's report and its decision to run once more. */
export interface PageResult {
  pushed: number
  superseded: SyncReport['superseded']
  rejected: SyncReport['rejected']
  restamped: string[]
  outdated: string[]
  evicted: string[]
  purged: string[]
  /** Pushed records written again while in flight: still dirty, pushed by one more run. */
  changedInFlight: number
  /** The server refused this client's clock in this page (the clock was corrected), or `null`. */
  clockRefused: Extract<ClockEvent, { kind: 'refused' }> | null
  /** P9: a record the server knew was dropped for its deleted parent; the table's scopes now reconcile in full. */
  reconcile: boolean
  /** Every record the page named, as stored once it was applied (`undefined`: not stored): live queries patch from these. */
  states: ReadonlyMap<string, StoredRecord | undefined>
}

/**
 * Applies `page`, the answer to `built`, for `entry`. A drift refusal corrects the clock from the
 * page's offset `sample` (or, without one, from the refusing side's time and `receivedAt`, local ms).
 */
export async function applyPage(ctx: SyncContext, entry: ScopeEntry, built: BuiltRequest, page: SyncPage, sample: ClockSample | null, receivedAt: number): Promise<PageResult> {
  const { store, clock } = ctx.deps
  const { table } = entry
  // Everything that is not a store request happens before the transaction opens (it would commit).
  const incoming = readRecords(page.columns, page.rows as unknown[][], page.tombstones)
  const winners = new Map<string, RecordState>()
  let clockRefused: PageResult['clockRefused'] = null
  for (const outcome of page.outcomes) {
    const state = outcomeState(outcome)
    if (state !== null) winners.set(outcome.uid, state)
    if (clockRefused === null) clockRefused = correctClock(clock, outcome, sample, receivedAt)
  }
  const top = greatestVersion([...incoming, ...winners.values()])
  if (top !== null) clock.receive(top)
  const finished = !page.hasMore && page.mode !== 'resync'

  const named = [
    ...page.outcomes.flatMap((o) => (built.pushed.has(o.uid) ? [o.uid] : [])),
    ...incoming.map((r) => r.uid),
    ...page.evict.map(([uid]) => uid),
    ...page.purged,
    ...page.erased,
    ...page.push,
  ]

  return store.transaction('readwrite', async (tx) => {
    // Built afresh on each attempt: the store may run this again on a reopened connection.
    const batch = await loadBatch(tx, table, named)
    const result: PageResult = { pushed: 0, superseded: [], rejected: [], restamped: [], outdated: [], evicted: [], purged: [], changedInFlight: 0, clockRefused, reconcile: false, states: batch.states() }
    for (const outcome of page.outcomes) {
      const sent = built.pushed.get(outcome.uid)
      if (sent === undefined) continue
      const local = await batch.getRecord(table, outcome.uid)
      const decision = decidePushOutcome<StoredRecord>({
        local,
        sent,
        outcome,
        winner: winners.get(outcome.uid) ?? null,
        clockCorrected: clockRefused !== null,
        removedAt: ctx.removals.removedAt(table, outcome.uid),
        next: () => clock.next(),
      })
      if (decision.changedInFlight) result.changedInFlight++
      if (decision.reconcile === true) result.reconcile = true
      if (decision.local.kind === 'put') await batch.putRecord(withKnownAt({ ...decision.local.record, table }, page.knownAt, local))
      else if (decision.local.kind === 'remove') await batch.deleteRecord(table, outcome.uid)
      const report = decision.report
      if (report === null) continue
      if (report.kind === 'pushed') result.pushed++
      else if (report.kind === 'superseded') result.superseded.push({ uid: outcome.uid, winnerStamp: report.winnerStamp, rule: report.rule })
      else if (report.kind === 'purged') result.purged.push(outcome.uid)
      else if (report.kind === 'restamped') result.restamped.push(outcome.uid)
      else if (report.kind === 'outdated') result.outdated.push(outcome.uid)
      else result.rejected.push({ uid: outcome.uid, error: report.error })
    }
    for (const record of incoming) await applyIncoming(batch, table, record, ctx.removals, page.knownAt)
    // Erased on request: gone for good, dirty or not (reported with the purged).
    for (const uid of page.erased) if (await removeErased(batch, table, uid, ctx.removals)) result.purged.push(uid)
    const others = lazily(() => ctx.registry.otherScopes(tx, table, entry.key))
    for (const [uid, version, digest] of page.evict) {
      if (await removeUnlessHeld(batch, table, uid, assertStamp(version), others, ctx.removals, digest)) result.evicted.push(uid)
    }
    for (const uid of page.purged) if (await removeUnlessHeld(batch, table, uid, null, others, ctx.removals)) result.purged.push(uid)
    for (const uid of page.push) {
      const local = await batch.getRecord(table, uid)
      // A record the server refused is the app's to retry or discard (P7; a record of a refused unit
      // pushed alone would land half the unit, U1): a reconciliation that lacks it does not push it (B26).
      if (local !== undefined && !local.dirty && local.rejected === undefined) await batch.putRecord({ ...local, dirty: true })
    }
    // The page's records, the scope's checkpoint and the clock: one transaction (I10).
    await batch.flush()
    const scope: StoredScope = (await tx.getScope(entry.key)) ?? { key: entry.key, table, where: entry.where, checkpoint: null, fullCursor: null, syncedAt: null }
    // What realtime brought past the checkpoint: settled once a pull that sent it was answered (the server
    // found it in its history; the new checkpoint is past it), or by a full reconciliation (its entries
    // carry each record's point). A push-only answer settles nothing, nor a pull that sent an older one.
    const settled = page.mode !== 'incremental' || (built.request.pull !== false && page.checkpoint !== null && scope.seen === built.request.seen)
    if (scope.seen !== undefined && settled) delete scope.seen
    // A push-only answer acknowledges records at a point past the checkpoint (which it leaves): every
    // scope of the table remembers it, so a restored server that lost that point makes them reconcile.
    if (built.request.pull === false && page.knownAt !== null && page.outcomes.length > 0) {
      for (const other of await tx.listScopes(table)) {
        if (other.key === scope.key) continue
        const seen = advanceSeen(other.seen, page.knownAt)
        if (seen !== other.seen) await tx.putScope({ ...other, seen })
      }
      scope.seen = advanceSeen(scope.seen, page.knownAt)
    }
    // A child was dropped by P9 after \`lw:push\` since this request was built: keep its table reconciling (B25).
    if ((ctx.state.reconcileEpoch.get(table) ?? 0) !== built.epoch) result.reconcile = true
    if (result.reconcile) {
      // P9: the server's state of a dropped child comes back by a full reconciliation of every scope of
      // its table (this one at once: the run runs again), as `discard` does for a refused edit.
      for (const other of await tx.listScopes(table)) {
        if (other.key !== scope.key && (other.checkpoint !== null || other.fullCursor !== null)) await tx.putScope({ ...other, checkpoint: null, fullCursor: null })
      }
    }
    if (page.mode === 'resync' || result.reconcile) {
      scope.checkpoint = null
      scope.fullCursor = null
    } else if (page.checkpoint !== null) {
      scope.checkpoint = page.checkpoint
      scope.fullCursor = null
    } else {
      scope.fullCursor = page.cursor
    }
    if (finished) scope.syncedAt = clock.now()
    await tx.putScope(scope)
    await clock.persist(tx)
    return result
  })
}
