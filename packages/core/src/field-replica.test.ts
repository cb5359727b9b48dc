/**
 * A5 (SPEC.md section 6, "The client's replica"; section 3a): on a field-merge table a live server state
 * joins the live local record column by column, and an applied push's merged state settles which
 * written columns are still the client's to push (P1/P2).
 */
import { describe, expect, it } from 'vitest'
import { decideIncoming, decidePushOutcome, restampRecord, type ReplicaRecord } from './replica.js'
import type { RecordState } from './metadata.js'
import { formatStamp, type Stamp } from './stamp.js'

const s = (ms: number): Stamp => formatStamp({ ms, counter: 0, node: '00000000000000aa' })

const base: ReplicaRecord = {
  uid: 'a',
  created_at: s(1),
  updated_at: s(1),
  deleted_at: null,
  row: { title: 'milk', done: false },
  fields: { title: s(1), done: s(1) },
  dirty: false,
  acknowledged: true,
}
/** The local record after renaming at `ms`, not yet pushed. */
const renamed = (ms: number): ReplicaRecord => ({ ...base, updated_at: s(ms), row: { title: 'oat milk', done: false }, fields: { title: s(ms), done: s(1) }, dirty: true, changed: ['title'] })
/** A server state where `done` was ticked at `ms`. */
const ticked = (ms: number, title: [string, number] = ['milk', 1]): RecordState => ({
  uid: 'a',
  created_at: s(1),
  updated_at: s(Math.max(ms, title[1])),
  deleted_at: null,
  row: { title: title[0], done: true },
  fields: { title: s(title[1]), done: s(ms) },
})

describe('A5: a server state joins the local record column by column', () => {
  it('a newer state of another column keeps the local edit, still dirty', () => {
    const decision = decideIncoming(renamed(3), ticked(5))
    expect(decision).toMatchObject({ kind: 'applied', rule: 'A5 columns joined' })
    expect(decision.write).toMatchObject({ updated_at: s(5), row: { title: 'oat milk', done: true }, dirty: true, changed: ['title'] })
  })

  it('a state with the local column at a later stamp takes it; nothing left to push: clean', () => {
    const decision = decideIncoming(renamed(3), ticked(5, ['tea', 4]))
    expect(decision.write).toMatchObject({ row: { title: 'tea', done: true }, dirty: false })
    expect(decision.write).not.toHaveProperty('changed')
  })

  it('a clean record takes the newer columns; an older state changes nothing (A4)', () => {
    expect(decideIncoming(base, ticked(5)).write).toMatchObject({ row: { title: 'milk', done: true }, dirty: false })
    const newer = decideIncoming(base, ticked(5)).write as ReplicaRecord
    expect(decideIncoming(newer, ticked(3))).toMatchObject({ kind: 'kept', write: null })
    expect(decideIncoming(newer, { ...ticked(5) })).toMatchObject({ kind: 'same', write: null })
  })

  it('tombstones are not joined: a newer live state replaces a local tombstone, an older one leaves it (R5, R9)', () => {
    const tomb: ReplicaRecord = { ...base, deleted_at: s(4), dirty: true }
    expect(decideIncoming(tomb, ticked(3))).toMatchObject({ kind: 'kept' })
    expect(decideIncoming(tomb, ticked(5))).toMatchObject({ kind: 'applied', rule: 'A2 newer state replaces', write: { deleted_at: null, dirty: false } })
  })

  it('P1/P2 with a merged state: the columns pushed are acknowledged, a column written since stays dirty', () => {
    const sent = renamed(3)
    const merged = ticked(5, ['oat milk', 3])
    const clean = decidePushOutcome({ local: sent, sent, outcome: { uid: 'a', status: 'applied' }, winner: merged, clockCorrected: false, next: () => s(9) })
    expect(clean).toMatchObject({ rule: 'P1 applied and unchanged: clean', local: { kind: 'put', record: { row: { title: 'oat milk', done: true }, dirty: false } } })
    const since: ReplicaRecord = { ...sent, updated_at: s(6), row: { title: 'oat milk', done: false, note: 'x' }, fields: { ...sent.fields, note: s(6) }, changed: ['title', 'note'] }
    // The server's state stamps every column of the table (here `note` too, at its creation).
    const full = { ...merged, row: { ...merged.row, note: null }, fields: { ...merged.fields, note: s(1) } }
    const dirty = decidePushOutcome({ local: since, sent, outcome: { uid: 'a', status: 'applied' }, winner: full, clockCorrected: false, next: () => s(9) })
    expect(dirty).toMatchObject({ rule: 'P2 applied but written since: acknowledged, still dirty', local: { kind: 'put', record: { dirty: true, changed: ['note'], row: { title: 'oat milk', done: true, note: 'x' } } } })
    // A column the server's state does not stamp is one the table no longer has (dropped, SV3): not this
    // client's to push any more, or the record would stay dirty for good.
    const dropped = decidePushOutcome({ local: since, sent, outcome: { uid: 'a', status: 'applied' }, winner: merged, clockCorrected: false, next: () => s(9) })
    expect(dropped).toMatchObject({ rule: 'P1 applied and unchanged: clean', local: { kind: 'put', record: { dirty: false } } })
  })

  it('P6 re-stamping a field-merge record leaves no column stamp above its new version', () => {
    const ahead = renamed(90)
    const restamped = restampRecord(ahead, () => s(10))
    expect(restamped).toMatchObject({ updated_at: s(10), fields: { title: s(10), done: s(1) } })
  })
})
