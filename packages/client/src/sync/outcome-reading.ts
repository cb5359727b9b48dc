/**
 * What a push outcome of a `lw:push` answer (push-apply.ts) tells the client beyond its status: the
 * server's state it carries, and a drift refusal's clock correction.
 */
import type { ClockSample, PushOutcome, RecordState } from '@lastword/core'
import type { ClientClock } from '../clock.js'
import { fromWireRecord } from './records.js'
import type { ClockEvent } from './types.js'

/** The server's state an outcome carries: a superseded write's winner, or a field-merge table's merged state after an applied push (core's P1/P2 join it, A5). */
export function outcomeState(outcome: PushOutcome): RecordState | null {
  if (outcome.status === 'superseded' && outcome.winner !== null) return fromWireRecord(outcome.winner)
  if (outcome.status === 'applied' && outcome.state !== undefined) return fromWireRecord(outcome.state)
  return null
}

/**
 * P6: a `CLOCK_AHEAD` refusal that says the server's time corrects the clock, from the answer's offset
 * `sample` (or, without one, from the refusing side's time and `receivedAt`, local ms). Returns the
 * refusal to report, or `null` when the outcome is no such refusal (nothing changed).
 */
export function correctClock(clock: ClientClock, outcome: PushOutcome, sample: ClockSample | null, receivedAt: number): Extract<ClockEvent, { kind: 'refused' }> | null {
  if (outcome.status !== 'rejected' || outcome.error.code !== 'CLOCK_AHEAD') return null
  const now = outcome.error.details?.['now']
  const stampMs = outcome.error.details?.['stampMs']
  if (typeof now !== 'number' || !Number.isFinite(now)) return null
  const before = clock.offset()
  clock.correct(sample, now, receivedAt)
  // The skew is what the server measured: how far the refused stamp was ahead of its clock; the
  // offset's own move when the refusal does not say.
  const skewMs = typeof stampMs === 'number' && Number.isFinite(stampMs) ? stampMs - now : before - clock.offset()
  return { kind: 'refused', skewMs, at: now, offsetMs: clock.offset() }
}
