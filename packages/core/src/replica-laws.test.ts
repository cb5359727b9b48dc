/**
 * Laws of the client's replica rules (replica.ts), checked with fast-check over one uid:
 *
 *  RP1 newest wins, in any order — folding decideIncoming over server states (creates, updates, deletes,
 *      redeliveries) in two delivery orders ends at the greatest version both times, clean and acknowledged.
 *  RP2 never back — decideIncoming never lowers the local version, and only A2 changes it.
 *  RP3 a write made during a sync survives (trap 5) — a dirty local record is never made clean or
 *      replaced by an incoming state that is not strictly newer; for every push outcome, a record written
 *      again while its push was in flight stays dirty at its own version unless a readable winner at least
 *      as new settles it (newer: replaces it; the same version: the server has that write) — or P6
 *      re-stamps it, still dirty.
 *  RP4 removed stays removed (E6) — while a removal at version v is remembered, no state older than v
 *      comes back, and any state at or above v does.
 *  RP5 only what was pushed is settled — a push outcome removes a record, or clears its dirty flag, only
 *      when the local record is still at the version pushed (or a readable winner at least as new replaces it).
 *  RP6 re-stamping is valid — restampRecord gives stamps in core's order (assertMetaOrder), a version
 *      drawn from `next`, no stamp above it, and keeps every other field.
 *
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fcParams } from './fc-config.test-util.js'
import { assertMetaOrder, versionOf, type RecordState } from './metadata.js'
import { decideIncoming, decidePushOutcome, rememberRemoval, restampRecord, type ReplicaRecord } from './replica.js'
import { compareStamps, createHlc, formatStamp, type Stamp } from './stamp.js'
import type { PushOutcome } from './wire.js'

const NODES = ['0000000000000001', 'ffffffffffffff00'] as const
const stampArb = fc
  .record({ ms: fc.integer({ min: 2, max: 8 }), counter: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom(...NODES) })
  .map((parts) => formatStamp(parts))
const EARLIEST = formatStamp({ ms: 1, counter: 0, node: '0000000000000000' })

function stateAt(v: Stamp, deleted: boolean, n: number): RecordState {
  return deleted
    ? { uid: 'u', row: null, created_at: EARLIEST, updated_at: EARLIEST, deleted_at: v }
    : { uid: 'u', row: { n }, created_at: EARLIEST, updated_at: v, deleted_at: null }
}
const stateArb = fc.record({ v: stampArb, deleted: fc.boolean(), n: fc.nat(9) }).map(({ v, deleted, n }) => stateAt(v, deleted, n))
const replicaArb = fc
  .record({ state: stateArb, dirty: fc.boolean(), acknowledged: fc.boolean() })
  .map(({ state, dirty, acknowledged }): ReplicaRecord => ({ ...state, dirty, acknowledged }))

/** Stores a decision's write the way the client does. */
function step(held: ReplicaRecord | undefined, state: RecordState, removedAt?: Stamp): ReplicaRecord | undefined {
  return decideIncoming(held, state, removedAt).write ?? held
}

const cmp = (a: ReplicaRecord | RecordState, b: ReplicaRecord | RecordState): number => compareStamps(versionOf(a), versionOf(b))

describe('replica laws', () => {
  it('RP1: folding incoming states in any order ends at the greatest version, clean and acknowledged', () => {
    const deliveries = fc
      .uniqueArray(fc.record({ v: stampArb, deleted: fc.boolean() }), { minLength: 1, maxLength: 10, selector: (w) => w.v })
      .map((ws) => ws.map((w, i) => stateAt(w.v, w.deleted, i)))
      .chain((states) => {
        const all = [...states, ...states.slice(0, 3).map((x) => ({ ...x }))]
        return fc.tuple(
          fc.constant(states),
          fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
          fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        )
      })
    fc.assert(
      fc.property(deliveries, ([states, first, second]) => {
        const greatest = [...states].sort(cmp).at(-1) as RecordState
        for (const order of [first, second]) {
          const end = order.reduce<ReplicaRecord | undefined>((held, state) => step(held, state), undefined)
          expect(end).toEqual({ ...greatest, dirty: false, acknowledged: true })
        }
      }),
      fcParams(1000),
    )
  })

  it('RP2: an incoming state never lowers the local version, and only A2 changes it', () => {
    fc.assert(
      fc.property(replicaArb, stateArb, (held, state) => {
        const d = decideIncoming(held, state)
        const after = d.write ?? held
        expect(cmp(after, held)).toBeGreaterThanOrEqual(0)
        if (d.kind !== 'applied') expect(versionOf(after)).toBe(versionOf(held))
      }),
      fcParams(1000),
    )
  })

  it('RP3: a write made during a sync survives incoming states and every push outcome (trap 5)', () => {
    const outcomeArb = fc.oneof(
      fc.constant<PushOutcome>({ uid: 'u', status: 'applied' }),
      fc.constant<PushOutcome>({ uid: 'u', status: 'superseded', rule: 'R7 older write superseded', winner: null }),
      fc.constantFrom('PURGED', 'CLOCK_AHEAD', 'FORBIDDEN', 'INVALID_VALUE').map((code): PushOutcome => ({ uid: 'u', status: 'rejected', error: { code, message: code } as never })),
    )
    fc.assert(
      fc.property(replicaArb, stateArb, stateArb, outcomeArb, fc.option(stateArb), fc.boolean(), (held, sentState, incoming, outcome, winner, clockCorrected) => {
        const dirty = { ...held, dirty: true }
        // Incoming: a dirty record is replaced only by a strictly newer state.
        const d = decideIncoming(dirty, incoming)
        if (d.write !== null && d.kind !== 'applied') expect(versionOf(d.write)).toBe(versionOf(dirty))
        if (d.kind === 'applied') expect(cmp(incoming, dirty)).toBeGreaterThan(0)
        // Push: the record was written again after `sentState` was pushed.
        if (cmp(sentState, dirty) === 0) return
        const p = decidePushOutcome({ local: dirty, sent: sentState, outcome, winner, clockCorrected, next: () => formatStamp({ ms: 1, counter: 9, node: NODES[0] }) })
        expect(p.changedInFlight).toBe(true)
        expect(p.local.kind).not.toBe('remove')
        if (p.local.kind === 'put') {
          const put = p.local.record
          if (p.rule === 'P6 clock ahead: re-stamped') expect(put.dirty).toBe(true)
          else if (put.dirty) expect(versionOf(put)).toBe(versionOf(dirty))
          else expect(winner !== null && cmp(winner, dirty) >= 0).toBe(true)
        }
      }),
      fcParams(1000),
    )
  })

  it('RP4: while a removal at v is remembered, older states stay out and states at or above v come back', () => {
    fc.assert(
      fc.property(replicaArb, fc.option(stampArb, { nil: null }), fc.array(stateArb, { maxLength: 8 }), (removed, evictedAt, later) => {
        const removedAt = rememberRemoval(undefined, evictedAt, removed)
        let held: ReplicaRecord | undefined
        for (const state of later) {
          const before = held
          held = step(held, state, removedAt)
          if (before === undefined) {
            if (compareStamps(versionOf(state), removedAt) < 0) expect(held).toBeUndefined()
            else expect(held).toBeDefined()
          }
        }
        if (held !== undefined) expect(compareStamps(versionOf(held), removedAt)).toBeGreaterThanOrEqual(0)
      }),
      fcParams(1000),
    )
  })

  it('RP5: a push outcome removes or cleans a record only at the version pushed (or for a winner at least as new)', () => {
    const outcomeArb = fc.oneof(
      fc.constant<PushOutcome>({ uid: 'u', status: 'applied' }),
      fc.constant<PushOutcome>({ uid: 'u', status: 'superseded', rule: 'R8 older delete superseded', winner: null }),
      fc.constantFrom('PURGED', 'CLOCK_AHEAD', 'FORBIDDEN').map((code): PushOutcome => ({ uid: 'u', status: 'rejected', error: { code, message: code } as never })),
    )
    fc.assert(
      fc.property(replicaArb, stateArb, outcomeArb, fc.option(stateArb), fc.boolean(), (held, sent, outcome, winner, clockCorrected) => {
        const local = { ...held, dirty: true }
        const unchanged = cmp(local, sent) === 0
        const p = decidePushOutcome({ local, sent, outcome, winner, clockCorrected, next: () => formatStamp({ ms: 9, counter: 0, node: NODES[1] }) })
        if (p.local.kind === 'remove') expect(unchanged).toBe(true)
        if (p.local.kind === 'put' && !p.local.record.dirty && !unchanged) expect(winner !== null && cmp(winner, local) >= 0).toBe(true)
      }),
      fcParams(1000),
    )
  })

  it('RP6: re-stamping gives valid stamps, a version from `next`, none above it, and keeps the rest', () => {
    const recordArb = fc
      .tuple(fc.uniqueArray(stampArb, { minLength: 3, maxLength: 3 }), fc.boolean(), fc.integer({ min: 0, max: 20 }))
      .map(([stamps, deleted, wall]) => {
        const [a, b, c] = [...stamps].sort() as [Stamp, Stamp, Stamp]
        return { wall, record: { table: 't', uid: 'u', row: { n: 1 }, created_at: a, updated_at: b, deleted_at: deleted ? c : null, dirty: true, acknowledged: false } }
      })
    fc.assert(
      fc.property(recordArb, ({ record, wall }) => {
        const clock = createHlc({ node: NODES[0], now: () => wall })
        const made: Stamp[] = []
        const fixed = restampRecord(record, () => {
          const x = clock.next()
          made.push(x)
          return x
        })
        expect(() => assertMetaOrder(fixed)).not.toThrow()
        expect(made).toContain(versionOf(fixed))
        for (const x of [fixed.created_at, fixed.updated_at]) expect(compareStamps(x, versionOf(fixed))).toBeLessThanOrEqual(0)
        expect({ ...fixed, created_at: 0, updated_at: 0, deleted_at: fixed.deleted_at === null ? null : 0 }).toEqual({
          ...record,
          created_at: 0,
          updated_at: 0,
          deleted_at: record.deleted_at === null ? null : 0,
        })
      }),
      fcParams(1000),
    )
  })
})
