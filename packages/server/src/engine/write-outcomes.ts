/**
 * The answers of a write (ARCHITECTURE.md, "Push"): one outcome per pushed record, in push order —
 * rejected with its reason, applied (a `noop` included: the same write seen twice), or superseded with
 * the winner when the caller may read it (attack V9).
 */
import { isFieldMerge, matches, toLastwordError, type PushOutcome, type Resolution, type WireRecord } from '@lastword/core'
import type { ServerRecord } from './store.js'
import { fieldWireRecord } from './fields.js'
import type { Prepared, WriteContext } from './write.js'

/** A record's refusal as its outcome; the uid is cut to a uid's length, never echoed whole. */
export function rejectedOutcome(uid: unknown, error: unknown): PushOutcome {
  const wire = toLastwordError(error).toWire()
  const safeUid = typeof uid === 'string' ? uid.slice(0, 64) : String(uid).slice(0, 64)
  return { uid: safeUid, status: 'rejected', error: wire.details === undefined ? { code: wire.code, message: wire.message } : wire }
}

/** Every record's outcome, in push order. */
export function outcomesOf(
  ctx: WriteContext,
  size: number,
  refusedUpFront: ReadonlyMap<number, PushOutcome>,
  prepared: Prepared,
  resolutions: readonly Resolution<ServerRecord>[],
  records: readonly WireRecord[],
  states: readonly (ServerRecord | undefined)[] = [],
): PushOutcome[] {
  const field = isFieldMerge(ctx.table.descriptor)
  const outcomes: PushOutcome[] = new Array<PushOutcome>(size)
  for (const [index, outcome] of refusedUpFront) outcomes[index] = outcome
  for (const [index, error] of prepared.rejected) outcomes[index] = rejectedOutcome(records[index]?.uid, error)
  prepared.accepted.forEach((a, i) => {
    const resolution = resolutions[i] as Resolution<ServerRecord>
    const uid = a.candidate.meta.uid
    if (resolution.kind !== 'superseded') {
      // `noop` is the same write seen twice: for the writer it is applied (ARCHITECTURE.md). On a
      // field-merge table the merged state goes with it (it may hold columns the writer never saw), to a
      // caller who may read it (V9).
      const state = states[i]
      const readable = state !== undefined && state.deleted_at === null && (ctx.readScope === null || (state.image !== null && matches(state.image, ctx.readScope)))
      outcomes[a.candidate.index] = field && readable ? { uid, status: 'applied', state: fieldWireRecord(ctx.table, state) } : { uid, status: 'applied' }
      return
    }
    const winner = resolution.winner
    // V9: the winning state goes back only to a caller who may read it.
    const visible = ctx.readScope === null || (winner.image !== null && matches(winner.image, ctx.readScope))
    if (field) {
      outcomes[a.candidate.index] = { uid, status: 'superseded', rule: resolution.rule, winner: visible ? fieldWireRecord(ctx.table, winner) : null }
      return
    }
    outcomes[a.candidate.index] = {
      uid,
      status: 'superseded',
      rule: resolution.rule,
      winner: visible
        ? { uid, created_at: winner.created_at, updated_at: winner.updated_at, deleted_at: winner.deleted_at, row: winner.deleted_at === null ? winner.image : null }
        : null,
    }
  })
  return outcomes
}
