/**
 * Laws of the field-level merge (field-merge.ts, SPEC.md section 3a), checked with fast-check over the
 * writes of one record to a table of three columns: creates (every column), edits (some columns, each
 * at the write's stamp) and deletes (no columns), every write with its own stamp.
 *
 *  FM1 commutative — join(a, b) = join(b, a).
 *  FM2 idempotent — join(a, a) = a, and delivering a write the state already holds changes nothing.
 *  FM3 associative — join(join(a, b), c) = join(a, join(b, c)); hence folding mergeFieldWrite over a
 *      multiset of writes in any two delivery orders, with duplicates, ends in the same state.
 *  FM4 the state is the rule in words — each column holds the value of the write with the greatest
 *      stamp for it; the record is a tombstone exactly when the greatest delete is later than every
 *      edit; a record brought back keeps the columns as they were at the delete, overlaid with newer
 *      edits (the per-column rule, whatever the order).
 *  FM5 a replica joins live server states in any order to the same record (A5, field-replica.ts), never
 *      lowering a column's stamp.
 *
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fcParams } from './fc-config.test-util.js'
import { joinFieldRecords, mergeFieldWrite, sameFieldState, type FieldRecord } from './field-merge.js'
import { compareStamps, formatStamp, type Stamp } from './stamp.js'
import { decideIncoming, type ReplicaRecord } from './replica.js'

const COLUMNS = ['title', 'done', 'note'] as const
const NODES = ['0000000000000001', 'ffffffffffffff00'] as const

interface Write {
  kind: 'create' | 'edit' | 'delete'
  stamp: Stamp
  columns: readonly string[]
  value: number
}

const stampArb = fc
  .record({ ms: fc.integer({ min: 2, max: 8 }), counter: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom(...NODES) })
  .map((parts) => formatStamp(parts))
const CREATED = formatStamp({ ms: 1, counter: 0, node: '0000000000000000' })

const writeArb = (stamp: Stamp, value: number): fc.Arbitrary<Write> =>
  fc.oneof(
    fc.constant<Write>({ kind: 'create', stamp, columns: COLUMNS, value }),
    fc.subarray([...COLUMNS], { minLength: 1 }).map<Write>((columns) => ({ kind: 'edit', stamp, columns, value })),
    fc.constant<Write>({ kind: 'delete', stamp, columns: [], value }),
  )

const writesArb = fc
  .uniqueArray(stampArb, { minLength: 1, maxLength: 10 })
  .chain((stamps) => fc.tuple(...stamps.map((s, i) => writeArb(s, i))))

/** A write as it is pushed: the columns its writer changed, with their stamps; a delete carries none. */
function toRecord(w: Write): FieldRecord {
  if (w.kind === 'delete') return { uid: 'u', created_at: CREATED, updated_at: CREATED, deleted_at: w.stamp, row: null, fields: {} }
  const row: Record<string, unknown> = {}
  const fields: Record<string, Stamp> = {}
  for (const c of w.columns) {
    row[c] = `${c}-${w.value}`
    fields[c] = w.stamp
  }
  return { uid: 'u', created_at: w.kind === 'create' ? w.stamp : CREATED, updated_at: w.stamp, deleted_at: null, row, fields }
}

function fold(writes: readonly FieldRecord[]): FieldRecord | null {
  let state: FieldRecord | null = null
  for (const write of writes) {
    const merge = mergeFieldWrite(state, write)
    // A no-op changes nothing; only a change is written.
    if (merge.kind === 'noop') expect(merge.changed).toBe(false)
    if (merge.changed || state === null) state = merge.state
    else expect(sameFieldState(merge.state, state)).toBe(true)
  }
  return state
}

/** Two delivery orders of the writes with some delivered twice. */
const deliveriesArb = writesArb.chain((writes) => {
  const records = writes.map(toRecord)
  return fc
    .array(fc.constantFrom(...records), { maxLength: 5 })
    .map((dupes) => [...records, ...dupes.map((r) => ({ ...r, fields: { ...r.fields }, row: r.row === null ? null : { ...r.row } }))])
    .chain((all) =>
      fc.tuple(
        fc.constant(writes),
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
      ),
    )
})

const stateArb = writesArb.map((ws) => fold(ws.map(toRecord)) as FieldRecord)

describe('field merge laws', () => {
  it('FM1: join is commutative', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        expect(sameFieldState(joinFieldRecords(a, b), joinFieldRecords(b, a))).toBe(true)
      }),
      fcParams(1000),
    )
  })

  it('FM2: join is idempotent, and a write the state holds changes nothing', () => {
    fc.assert(
      fc.property(deliveriesArb, ([writes, order]) => {
        const state = fold(order) as FieldRecord
        expect(sameFieldState(joinFieldRecords(state, state), state)).toBe(true)
        for (const w of writes) expect(mergeFieldWrite(state, toRecord(w)).changed).toBe(false)
      }),
      fcParams(1000),
    )
  })

  it('FM3: join is associative; any two delivery orders (with duplicates) end in the same state', () => {
    fc.assert(
      fc.property(stateArb, stateArb, stateArb, (a, b, c) => {
        expect(sameFieldState(joinFieldRecords(joinFieldRecords(a, b), c), joinFieldRecords(a, joinFieldRecords(b, c)))).toBe(true)
      }),
      fcParams(1000),
    )
    fc.assert(
      fc.property(deliveriesArb, ([, order1, order2]) => {
        expect(sameFieldState(fold(order1) as FieldRecord, fold(order2) as FieldRecord)).toBe(true)
      }),
      fcParams(1000),
    )
  })

  it('FM4: each column is its latest write; a tombstone exactly when the latest delete follows every edit', () => {
    fc.assert(
      fc.property(deliveriesArb, ([writes, order]) => {
        const state = fold(order) as FieldRecord
        const edits = writes.filter((w) => w.kind !== 'delete')
        const deletes = writes.filter((w) => w.kind === 'delete')
        const latest = (ws: readonly Write[]): Write | undefined => ws.reduce<Write | undefined>((a, b) => (a === undefined || compareStamps(b.stamp, a.stamp) > 0 ? b : a), undefined)
        const lastEdit = latest(edits)
        const lastDelete = latest(deletes)
        const deleted = lastDelete !== undefined && (lastEdit === undefined || compareStamps(lastDelete.stamp, lastEdit.stamp) > 0)
        expect(state.deleted_at).toBe(deleted ? lastDelete?.stamp : null)
        for (const column of COLUMNS) {
          const w = latest(edits.filter((e) => e.columns.includes(column)))
          if (w === undefined) expect(state.fields[column]).toBeUndefined()
          else {
            expect(state.fields[column]).toBe(w.stamp)
            expect(state.row?.[column]).toBe(`${column}-${w.value}`)
          }
        }
      }),
      fcParams(1000),
    )
  })

  it('FM5: a replica joins live server states in any order to the same record, never lowering a column', () => {
    const liveStates = fc.array(stateArb.filter((st) => st.deleted_at === null && Object.keys(st.fields).length === COLUMNS.length), { minLength: 1, maxLength: 5 })
    fc.assert(
      fc.property(liveStates.chain((states) => fc.tuple(fc.constant(states), fc.shuffledSubarray(states, { minLength: states.length, maxLength: states.length }))), ([order1, order2]) => {
        const replay = (states: readonly FieldRecord[]): ReplicaRecord => {
          let local: ReplicaRecord | undefined
          for (const st of states) {
            const before = local
            const decision = decideIncoming(local, { ...st, row: { ...st.row } })
            if (decision.write !== null) local = decision.write
            if (before?.fields !== undefined) for (const c of COLUMNS) expect(compareStamps(local?.fields?.[c] as Stamp, before.fields[c] as Stamp)).toBeGreaterThanOrEqual(0)
          }
          return local as ReplicaRecord
        }
        const a = replay(order1)
        const b = replay(order2)
        expect(a.fields).toEqual(b.fields)
        expect(a.row).toEqual(b.row)
        expect(a.updated_at).toBe(b.updated_at)
      }),
      fcParams(1000),
    )
  })
})
