/**
 * Laws of the conflict rule (resolveWrite), checked with fast-check over writes to one uid:
 *
 *  C1 order independence — folding resolveWrite over a multiset of writes, in any two delivery orders
 *     and with any write delivered more than once, ends in the same state: the write with the greatest
 *     version (deleted_at ?? updated_at). Creates, updates and deletes mixed.
 *  C2 idempotence — delivering the current state again is a no-op (R6).
 *  C3 the caller is told the winner — a superseded write reports exactly the stored state, and that
 *     state is newer than the write; a no-op is only ever the same write again. (Checked on every step
 *     of every fold in C1 and C2.)
 *  C4 tombstones are not resurrected by stale writes — once a tombstone is stored, only a write with a
 *     greater version replaces it.
 *
 * Writes have distinct versions unless they are the same write (HLC stamps are unique per writer).
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareVersions, resolveWrite } from './conflict-rules.js'
import { fcParams } from './fc-config.test-util.js'
import { versionOf, type RecordMeta } from './metadata.js'
import { formatStamp, type Stamp } from './stamp.js'

const NODES = ['0000000000000001', 'ffffffffffffff00'] as const

/** A stamp from a small space so that equal ms with different counters / nodes are frequent. */
const stampArb = fc
  .record({ ms: fc.integer({ min: 1, max: 6 }), counter: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom(...NODES) })
  .map((parts) => formatStamp(parts))

const EARLIEST = formatStamp({ ms: 0, counter: 0, node: '0000000000000000' })

/** A write whose version is `v`: a create/update (live) or a delete (tombstone). */
function writeAt(v: Stamp, deleted: boolean, row: number): RecordMeta & { row: number } {
  return deleted
    ? { uid: 'u', created_at: EARLIEST, updated_at: EARLIEST, deleted_at: v, row }
    : { uid: 'u', created_at: EARLIEST, updated_at: v, deleted_at: null, row }
}

/** A multiset of writes with distinct versions, some delivered twice, and two delivery orders. */
const deliveries = fc
  .uniqueArray(fc.record({ v: stampArb, deleted: fc.boolean() }), { minLength: 1, maxLength: 12, selector: (w) => w.v })
  .map((ws) => ws.map((w, i) => writeAt(w.v, w.deleted, i)))
  .chain((writes) =>
    fc
      .array(fc.constantFrom(...writes), { maxLength: 6 })
      .map((dupes) => [...writes, ...dupes.map((w) => ({ ...w }))]) // a redelivery is an equal copy, not the same object
      .chain((all) =>
        fc.tuple(
          fc.constant(writes),
          fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
          fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        ),
      ),
  )

type Write = RecordMeta & { row: number }

/** Folds writes into a stored state the way a store does: apply replaces, noop/supersede keep. */
function fold(writes: readonly Write[]): Write | null {
  let state: Write | null = null
  for (const write of writes) {
    const result = resolveWrite(state, write)
    if (result.kind === 'applied') state = write
    else if (result.kind === 'superseded') {
      // C3: the winner is exactly what is stored, and it is newer than the refused write.
      expect(result.winner).toBe(state)
      expect(compareVersions(write, state as Write)).toBeLessThan(0)
    } else {
      // A no-op is only ever the same write seen again.
      expect(write).toEqual(state)
    }
  }
  return state
}

describe('conflict rule laws', () => {
  it('C1: the final state is the greatest version, whatever the delivery order and duplicates', () => {
    fc.assert(
      fc.property(deliveries, ([writes, order1, order2]) => {
        const greatest = writes.reduce((a, b) => (versionOf(b) > versionOf(a) ? b : a))
        const final1 = fold(order1)
        const final2 = fold(order2)
        expect(final1).toEqual(greatest)
        expect(final2).toEqual(greatest)
      }),
      fcParams(1000),
    )
  })

  it('C2: delivering the stored state again is a no-op', () => {
    fc.assert(
      fc.property(deliveries, ([, order]) => {
        const state = fold(order) as Write
        expect(resolveWrite(state, { ...state })).toMatchObject({ kind: 'noop', rule: 'R6 same write seen twice' })
      }),
      fcParams(1000),
    )
  })

  it('C4: a stored tombstone is replaced only by a write with a greater version', () => {
    fc.assert(
      fc.property(stampArb, stampArb, fc.boolean(), (tombV, writeV, deleted) => {
        fc.pre(tombV !== writeV)
        const tombstone = writeAt(tombV, true, 0)
        const write = writeAt(writeV, deleted, 1)
        const result = resolveWrite(tombstone, write)
        expect(result.kind === 'applied').toBe(writeV > tombV)
        if (!deleted && writeV < tombV) expect(result.rule).toBe('R9 older write never resurrects')
      }),
      fcParams(1000),
    )
  })
})
