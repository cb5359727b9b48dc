/**
 * One unit of `lw:push` (SPEC.md section 12) in ONE database transaction spanning its tables: the
 * write path of write.ts (steps 1 and 2 per table, step 3's halves from `writePart` and `commitPart`)
 * with the app rows written in the client's causal order between them.
 *
 * - The unit's records are split by table into parts (a table's records in unit order), each validated,
 *   composed and authorized as one table's push is.
 * - In the transaction, every part first holds its stored metadata; then the rows of all parts are
 *   written in the unit's order (a record's place: the first place of its uid), with the app's foreign
 *   keys deferred to commit where the dialect defers them (`Dialect.deferConstraints`); then every part
 *   commits its metadata, change log and revs (the version row, once taken, is held until commit: the
 *   unit's revs are consecutive).
 * - When the database refuses a row (at its statement, or a deferred check at commit), the transaction
 *   runs again isolated: each row under its own savepoint, checks not deferred (a constraint the schema
 *   declares deferred is checked right after the row, `Dialect.checkDeferredNow`), and a refused row
 *   tried again after the others (it may need a parent written later in the unit) until nothing more lands.
 * - U1 (atomic unit): any record refused — before the transaction or in it — and nothing of the unit is
 *   written: the culprits keep their own codes, every other record is `UNIT_REFUSED` naming the first
 *   culprit's table and uid. A non-atomic unit's records are refused one by one, as one table's push.
 */
import { LastwordError, maxStamp, versionOf, type PushOutcome, type Stamp, type WireRecord } from '@lastword/core'
import type { CommittedChange } from '../types.js'
import { readMeta, type ServerRecord } from './store.js'
import { RestartError, run, type Tx } from './tx.js'
import { outcomesOf, rejectedOutcome } from './write-outcomes.js'
import { RowsRefusedError, isLive, optimistically, writeRows } from './write-rows.js'
import { validateRecord } from './write-input.js'
import { dropRefused, prepare, replay } from './write-decide.js'
import { MAX_RESTARTS, changesOf, commitPart, liveWrites, withoutCapture, writePart, type Candidate, type Planned, type Prepared, type TxResult, type WriteContext } from './write.js'
import { refuseOrphans } from './foreign-keys.js'
import { codeOf, type Driver } from './dialect/types.js'

/** One table's records of a unit: its write context and, for each record, its place in the unit. */
export interface UnitPart {
  ctx: WriteContext
  records: WireRecord[]
  /** `places[i]`: the place of `records[i]` in the unit's order. */
  places: number[]
}

/** The result of a unit: one outcome per record in unit order, and what it committed. */
export interface UnitResult {
  outcomes: PushOutcome[]
  changes: CommittedChange[]
  acceptedMax: Stamp | null
}

/** Refusals found inside the transaction of an atomic unit: thrown to roll it back (by part, record index). */
class UnitRefusedError extends RestartError {
  constructor(readonly culprits: Map<number, Map<number, LastwordError>>) {
    super()
  }
}

interface HeldPart {
  prepared: Prepared
  resolutions: TxResult['resolutions']
  finals: TxResult['finals']
  states: TxResult['states']
  uids: string[]
  stored: ReadonlyMap<string, ServerRecord>
}

/** Applies one unit (its parts over `driver`, the lease's when the dialect locks tables). */
export async function applyUnit(driver: Driver, parts: readonly UnitPart[], atomic: boolean, size: number): Promise<UnitResult> {
  const { dialect } = driver
  // Step 1 per record, per part.
  const candidates: Candidate[][] = []
  const upFront: Map<number, PushOutcome>[] = []
  const culpritsUpFront = new Map<number, Map<number, LastwordError>>()
  parts.forEach((part, p) => {
    const mine: Candidate[] = []
    const refused = new Map<number, PushOutcome>()
    part.records.forEach((record, index) => {
      try {
        mine.push(validateRecord(part.ctx, record, index))
      } catch (error) {
        refused.set(index, rejectedOutcome((record as { uid?: unknown } | null)?.uid, error))
        addCulprit(culpritsUpFront, p, index, error)
      }
    })
    candidates.push(mine)
    upFront.push(refused)
  })
  if (atomic && culpritsUpFront.size > 0) return refusedUnit(parts, size, culpritsUpFront)

  let isolate = false
  for (let attempt = 1; ; attempt++) {
    // Step 2 per part, against the stored state read now.
    const plans: Planned[] = []
    for (const [p, part] of parts.entries()) {
      const mine = candidates[p] as Candidate[]
      const uids = [...new Set(mine.map((c) => c.meta.uid))]
      const stored = uids.length === 0 ? new Map<string, ServerRecord>() : await part.ctx.driver.once(() => readMeta(dialect, part.ctx.table.name, uids))
      const prepared = await prepare(part.ctx, mine, stored)
      const expected = new Map(uids.map((uid) => [uid, stored.get(uid)?.rev ?? 0]))
      plans.push({ prepared, stored, expected, preview: replay(part.ctx.table, prepared.accepted, stored) })
    }
    if (atomic) {
      const culprits = new Map<number, Map<number, LastwordError>>()
      plans.forEach((plan, p) => plan.prepared.rejected.forEach((error, index) => addCulprit(culprits, p, index, error)))
      if (culprits.size > 0) return refusedUnit(parts, size, culprits)
    }
    let results: TxResult[]
    if (plans.every((plan) => plan.preview.finals.length === 0)) {
      // Nothing would change (a duplicate delivery, or only stale writes): no transaction, no rev.
      results = plans.map((plan) => ({ prepared: plan.prepared, resolutions: plan.preview.resolutions, finals: [], states: plan.preview.states, lastRev: 0 }))
    } else {
      try {
        results = await driver.write(() => unitTx(parts, candidates, plans, atomic, isolate))
      } catch (error) {
        if (error instanceof UnitRefusedError) return refusedUnit(parts, size, error.culprits)
        const refusedRows = error instanceof RowsRefusedError || (!(error instanceof RestartError) && dialect.isRowError(error))
        if (refusedRows && !isolate) {
          // A row refused at its statement, or a deferred check at commit: find the culprits one by one.
          isolate = true
          attempt--
          continue
        }
        if (!(error instanceof RestartError)) throw error
        if (attempt >= MAX_RESTARTS) throw new LastwordError('TRANSIENT', 'These records kept changing while the push was applied; retry it')
        continue
      }
    }
    const outcomes = new Array<PushOutcome>(size)
    const changes: CommittedChange[] = []
    let acceptedMax: Stamp | null = null
    parts.forEach((part, p) => {
      const result = results[p] as TxResult
      const own = outcomesOf(part.ctx, part.records.length, upFront[p] as Map<number, PushOutcome>, result.prepared, result.resolutions, part.records, result.states)
      own.forEach((outcome, i) => (outcomes[part.places[i] as number] = outcome))
      changes.push(...changesOf(part.ctx.table, result))
      for (const a of result.prepared.accepted) acceptedMax = maxStamp(acceptedMax, versionOf(a.candidate.meta))
    })
    // Commit listeners get the unit's changes in rev order.
    changes.sort((a, b) => a.rev - b.rev)
    return { outcomes, changes, acceptedMax }
  }
}

/** The unit's transaction: hold every part, write the rows in causal order, then commit every part. */
function* unitTx(parts: readonly UnitPart[], candidates: readonly Candidate[][], plans: readonly Planned[], atomic: boolean, isolate: boolean): Tx<TxResult[]> {
  const dialect = (parts[0] as UnitPart).ctx.driver.dialect
  // Checked at commit where the dialect can (isolated: at each row, so its savepoint can undo it).
  if (!isolate) yield* run(dialect.deferConstraints())
  const held: HeldPart[] = []
  for (const [p, part] of parts.entries()) held.push(yield* writePart(part.ctx, candidates[p] as Candidate[], plans[p] as Planned, isolate, false))
  // PD1 across the unit: a parent the unit itself writes (in any of its tables) counts as it leaves it.
  const leaves = new Map<string, Map<string, { deleted_at: unknown }>>()
  held.forEach((h, p) => {
    const name = (parts[p] as UnitPart).ctx.table.name
    const states = leaves.get(name) ?? new Map<string, { deleted_at: unknown }>()
    for (const f of h.finals) states.set(f.uid, f.state)
    leaves.set(name, states)
  })
  for (const [p, h] of held.entries()) {
    const table = (parts[p] as UnitPart).ctx.table
    const orphans = yield* refuseOrphans(dialect, table, liveWrites(h.finals), (parent, uid) => leaves.get(parent)?.get(uid))
    if (orphans.size > 0) held[p] = { ...h, ...dropRefused(table, h.prepared, h.stored, orphans) }
  }
  if (atomic) {
    // A record refused when authorized again inside the transaction (its stored row moved), or by PD1.
    const culprits = new Map<number, Map<number, LastwordError>>()
    held.forEach((h, p) => h.prepared.rejected.forEach((error, index) => addCulprit(culprits, p, index, error)))
    if (culprits.size > 0) throw new UnitRefusedError(culprits)
  }
  const failed = yield* writeUnitRows(parts, held, isolate)
  if (failed.size > 0) {
    if (atomic) {
      const culprits = new Map<number, Map<number, LastwordError>>()
      for (const [p, byUid] of failed) {
        const h = held[p] as HeldPart
        for (const a of h.prepared.accepted) {
          const error = byUid.get(a.candidate.meta.uid)
          if (error !== undefined) addCulprit(culprits, p, a.candidate.index, error)
        }
      }
      throw new UnitRefusedError(culprits)
    }
    // Independent records: the refused ones are rejected, the rest of the part is decided again without them.
    for (const [p, byUid] of failed) {
      const h = held[p] as HeldPart
      const rejected = new Map(h.prepared.rejected)
      for (const a of h.prepared.accepted) {
        const error = byUid.get(a.candidate.meta.uid)
        if (error !== undefined) rejected.set(a.candidate.index, error)
      }
      const prepared = { accepted: h.prepared.accepted.filter((a) => !byUid.has(a.candidate.meta.uid)), rejected }
      held[p] = { ...h, prepared, ...replay((parts[p] as UnitPart).ctx.table, prepared.accepted, h.stored) }
    }
  }
  const results: TxResult[] = []
  for (const [p, part] of parts.entries()) results.push(yield* commitPart(part.ctx, held[p] as HeldPart))
  return results
}

/**
 * The app rows of every part, in the unit's order (a final state at the first place of its uid).
 * Optimistically, consecutive rows of one table in one statement; a refusal ends the transaction with
 * {@link RowsRefusedError}. Isolated: each row under a savepoint, refused rows tried again while others
 * land. Returns the rows still refused, by part and uid.
 */
function* writeUnitRows(parts: readonly UnitPart[], held: readonly HeldPart[], isolate: boolean): Tx<Map<number, Map<string, LastwordError>>> {
  const dialect = (parts[0] as UnitPart).ctx.driver.dialect
  const order: { p: number; place: number; final: HeldPart['finals'][number] }[] = []
  held.forEach((h, p) => {
    const part = parts[p] as UnitPart
    const firstPlace = new Map<string, number>()
    part.records.forEach((record, i) => {
      if (!firstPlace.has(record.uid)) firstPlace.set(record.uid, part.places[i] as number)
    })
    // A tombstone of a record that was not live writes no row.
    for (const final of h.finals) if (final.state.deleted_at === null || isLive(final.initial)) order.push({ p, place: firstPlace.get(final.uid) ?? 0, final })
  })
  order.sort((a, b) => a.place - b.place)
  const failed = new Map<number, Map<string, LastwordError>>()
  if (!isolate) {
    for (let i = 0; i < order.length; ) {
      const p = (order[i] as (typeof order)[number]).p
      const batch: HeldPart['finals'] = []
      while (i < order.length && (order[i] as (typeof order)[number]).p === p) batch.push((order[i++] as (typeof order)[number]).final)
      const table = (parts[p] as UnitPart).ctx.table
      yield* optimistically(dialect, withoutCapture(dialect, table, batch.map((f) => f.uid), writeRows(dialect, table, batch)))
    }
    return failed
  }
  const single = dialect.savepoint('lw_unit_row')
  let pending = order
  const reasons = new Map<(typeof order)[number], string>()
  for (;;) {
    const next: typeof order = []
    for (const item of pending) {
      yield* run(single.begin)
      try {
        const table = (parts[item.p] as UnitPart).ctx.table
        yield* withoutCapture(dialect, table, [item.final.uid], writeRows(dialect, table, [item.final]))
        // A constraint the database would check only at COMMIT, checked now: the savepoint can still undo the row.
        yield* dialect.checkDeferredNow(table, item.final.uid)
        yield* run(single.release)
      } catch (rowError) {
        if (!dialect.isRowError(rowError)) throw rowError
        yield* run(single.rollback)
        yield* run(single.release)
        reasons.set(item, codeOf(rowError) ?? 'constraint')
        next.push(item)
      }
    }
    // Nothing more landed: what is left is refused for good.
    if (next.length === 0 || next.length === pending.length) {
      for (const item of next) {
        let byUid = failed.get(item.p)
        if (byUid === undefined) failed.set(item.p, (byUid = new Map()))
        const table = (parts[item.p] as UnitPart).ctx.table.name
        byUid.set(item.final.uid, new LastwordError('INVALID_VALUE', `The database refused this row of "${table}" (a constraint of the table)`, { reason: reasons.get(item) ?? 'constraint' }))
      }
      return failed
    }
    pending = next
  }
}

function addCulprit(culprits: Map<number, Map<number, LastwordError>>, part: number, index: number, error: unknown): void {
  let byIndex = culprits.get(part)
  if (byIndex === undefined) culprits.set(part, (byIndex = new Map()))
  byIndex.set(index, error instanceof LastwordError ? error : new LastwordError('INTERNAL', 'Refused'))
}

/** U1: an atomic unit refused — the culprits with their own codes, every other record `UNIT_REFUSED`. */
function refusedUnit(parts: readonly UnitPart[], size: number, culprits: Map<number, Map<number, LastwordError>>): UnitResult {
  const outcomes = new Array<PushOutcome>(size)
  let first: { place: number; table: string; uid: string } | null = null
  for (const [p, byIndex] of culprits) {
    const part = parts[p] as UnitPart
    for (const [index, error] of byIndex) {
      const place = part.places[index] as number
      const record = part.records[index] as WireRecord
      const outcome = rejectedOutcome(record?.uid, error)
      outcomes[place] = outcome
      if (first === null || place < first.place) first = { place, table: part.ctx.table.name, uid: outcome.uid }
    }
  }
  const culprit = first as { table: string; uid: string }
  parts.forEach((part) => {
    part.records.forEach((record, i) => {
      const place = part.places[i] as number
      if (outcomes[place] !== undefined) return
      const error = new LastwordError('UNIT_REFUSED', 'Not written: another record of this transaction was refused', { table: culprit.table, uid: culprit.uid })
      outcomes[place] = rejectedOutcome(record.uid, error)
    })
  })
  return { outcomes, changes: [], acceptedMax: null }
}
