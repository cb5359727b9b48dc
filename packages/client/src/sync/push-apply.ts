/**
 * Applies the answer to one `lw:push` in ONE store transaction: each record's outcome decided by core's
 * `decidePushOutcome` (P1–P9) as for a push answered by `lw:sync` (page-apply.ts), with the point of the
 * server's history the answer was read at (R12); and every scope of each table that got an outcome
 * remembers that point as `seen` (B16: records acknowledged past its checkpoint); a table with a child
 * dropped by P9 reconciles in full (PD5).
 */
import { advanceSeen, decidePushOutcome, type ClockSample, type PushAnswer, type PushOutcome, type RecordState } from '@lastword/core'
import type { StoredRecord } from '../store/types.js'
import type { SyncContext } from './context.js'
import type { PushPlan } from './push-plan.js'
import { greatestVersion } from './records.js'
import { correctClock, outcomeState } from './outcome-reading.js'
import { withKnownAt } from './replica-store.js'
import type { ClockEvent, SyncReport } from './types.js'

/** What one table's records of the push came to. */
export interface TablePushResult {
  table: string
  pushed: number
  superseded: SyncReport['superseded']
  rejected: SyncReport['rejected']
  restamped: string[]
  outdated: string[]
  purged: string[]
  /** Each pushed record's outcome, and the winner when the server gave one (for the `edit` event). */
  outcomes: { outcome: PushOutcome; winner: RecordState | null }[]
  /** The records as stored once the answer was applied. */
  states: Map<string, StoredRecord | undefined>
  /** P9: an acknowledged record was dropped; every scope of the table now reconciles in full (PD5). */
  reconcile: boolean
}

/** What the whole answer came to. */
export interface PushResult {
  tables: Map<string, TablePushResult>
  changedInFlight: number
  clockRefused: Extract<ClockEvent, { kind: 'refused' }> | null
  /** Tables whose scopes were reset to reconcile in full (P9: a child the server knew was dropped, B25). */
  reconcile: Set<string>
}

/** Applies `answer`, the answer to `plan`; a drift refusal corrects the clock from `sample` (or the refusing side's time). */
export async function applyPushAnswer(ctx: SyncContext, plan: PushPlan, answer: PushAnswer, sample: ClockSample | null, receivedAt: number): Promise<PushResult> {
  const { store, clock } = ctx.deps
  const pairs: { sent: StoredRecord; outcome: PushOutcome; winner: RecordState | null }[] = []
  let clockRefused: PushResult['clockRefused'] = null
  // Units whose culprit is not a refusal for the client (U1): a schema it will upgrade to (P8), a clock it
  // corrects (P6). Their other records, answered UNIT_REFUSED, stay dirty and go again with the unit.
  const waiting = new Set<number>()
  answer.units.forEach((unit, u) => {
    if (unit.outcomes.some((o) => o.status === 'rejected' && (o.error.code === 'SCHEMA_OUTDATED' || (o.error.code === 'CLOCK_AHEAD' && typeof o.error.details?.['now'] === 'number')))) waiting.add(u)
  })
  plan.units.forEach((unit, u) => {
    const outcomes = answer.units[u]?.outcomes ?? []
    unit.records.forEach((sent, i) => {
      const outcome = outcomes[i]
      // An outcome for another uid than the one sent there is not this record's: it stays dirty.
      if (outcome === undefined || outcome.uid !== sent.uid) return
      if (waiting.has(u) && outcome.status === 'rejected' && outcome.error.code === 'UNIT_REFUSED') return
      const winner = outcomeState(outcome)
      if (clockRefused === null) clockRefused = correctClock(clock, outcome, sample, receivedAt)
      pairs.push({ sent, outcome, winner })
    })
  })
  const top = greatestVersion(pairs.flatMap((p) => (p.winner === null ? [] : [p.winner])))
  if (top !== null) clock.receive(top)

  return store.transaction('readwrite', async (tx) => {
    const tables = new Map<string, TablePushResult>()
    let changedInFlight = 0
    const reconcile = new Set<string>()
    for (const { sent, outcome, winner } of pairs) {
      const table = sent.table
      let result = tables.get(table)
      if (result === undefined) tables.set(table, (result = { table, pushed: 0, superseded: [], rejected: [], restamped: [], outdated: [], purged: [], outcomes: [], states: new Map(), reconcile: false }))
      result.outcomes.push({ outcome, winner })
      const local = await tx.getRecord(table, sent.uid)
      const decision = decidePushOutcome<StoredRecord>({ local, sent, outcome, winner, clockCorrected: clockRefused !== null, removedAt: ctx.removals.removedAt(table, sent.uid), next: () => clock.next() })
      if (decision.changedInFlight) changedInFlight++
      if (decision.reconcile === true) result.reconcile = true
      if (decision.local.kind === 'put') {
        const record = withKnownAt({ ...decision.local.record, table }, answer.knownAt, local)
        await tx.putRecord(record)
        result.states.set(sent.uid, record)
      } else if (decision.local.kind === 'remove') {
        await tx.deleteRecord(table, sent.uid)
        result.states.set(sent.uid, undefined)
      } else result.states.set(sent.uid, local)
      const report = decision.report
      if (report === null) continue
      if (report.kind === 'pushed') result.pushed++
      else if (report.kind === 'superseded') result.superseded.push({ uid: sent.uid, winnerStamp: report.winnerStamp, rule: report.rule })
      else if (report.kind === 'purged') result.purged.push(sent.uid)
      else if (report.kind === 'restamped') result.restamped.push(sent.uid)
      else if (report.kind === 'outdated') result.outdated.push(sent.uid)
      else result.rejected.push({ uid: sent.uid, error: report.error })
    }
    // Records acknowledged at a point past every checkpoint of their table: its scopes remember it (B16).
    // P9 (PD5): a dropped child's table reconciles in full, every scope of it (the pusher then syncs the
    // held ones at once), so the server's state of the child comes back, as after `discard`.
    for (const [table, result] of tables) {
      if (answer.knownAt === null && !result.reconcile) continue
      for (const scope of await tx.listScopes(table)) {
        const seen = answer.knownAt === null ? scope.seen : advanceSeen(scope.seen, answer.knownAt)
        const reset = result.reconcile && (scope.checkpoint !== null || scope.fullCursor !== null)
        if (seen === scope.seen && !reset) continue
        const next = { ...scope, ...(reset ? { checkpoint: null, fullCursor: null } : {}) }
        if (seen !== undefined) next.seen = seen
        await tx.putScope(next)
      }
    }
    // P9: the server's state of a dropped child comes back by a full reconciliation of every scope of its
    // table, as after a page of lw:sync (page-apply.ts) and `discard` (B25: lw:push left the checkpoints,
    // and a child whose server state had been pulled before the refusal never came back).
    for (const table of reconcile) {
      for (const scope of await tx.listScopes(table)) {
        if (scope.checkpoint !== null || scope.fullCursor !== null) await tx.putScope({ ...scope, checkpoint: null, fullCursor: null })
      }
    }
    await clock.persist(tx)
    return { tables, changedInFlight, clockRefused, reconcile }
  })
}
