// The client's replica rules, one case per rule id (SPEC.md §6: A1–A4, P1–P10, E6, re-stamping).
import { describe, expect, it } from 'vitest'
import { assertMetaOrder, versionOf, type RecordState } from './metadata.js'
import {
  classifyPushOutcome,
  decideIncoming,
  decidePushOutcome,
  isOlderThanRemoval,
  rememberRemoval,
  restampRecord,
  type PushOutcomeInput,
  type ReplicaRecord,
} from './replica.js'
import { createHlc, formatStamp, type Stamp } from './stamp.js'
import type { PushOutcome } from './wire.js'

const node = '00000000000000aa'
const s = (ms: number, counter = 0): Stamp => formatStamp({ ms, counter, node })

function local(version: Stamp, extra: Partial<ReplicaRecord> = {}): ReplicaRecord & { table: string } {
  return { table: 'todos', uid: 'u', row: { title: 'local' }, created_at: s(1), updated_at: version, deleted_at: null, dirty: false, acknowledged: true, ...extra }
}
function incoming(version: Stamp, deleted = false): RecordState {
  return deleted
    ? { uid: 'u', row: null, created_at: s(1), updated_at: s(1), deleted_at: version }
    : { uid: 'u', row: { title: 'server' }, created_at: s(1), updated_at: version, deleted_at: null }
}

describe('decideIncoming (A1–A4)', () => {
  it('A2: a newer state replaces the local one, clean and acknowledged (a dirty older write loses)', () => {
    const d = decideIncoming(local(s(5), { dirty: true, acknowledged: false, rejected: { code: 'FORBIDDEN', message: 'x' } }), incoming(s(6)))
    expect(d).toEqual({ kind: 'applied', rule: 'A2 newer state replaces', write: { ...incoming(s(6)), dirty: false, acknowledged: true } })
    expect(decideIncoming(undefined, incoming(s(6), true)).write).toMatchObject({ row: null, deleted_at: s(6) })
  })

  it('A3: the same version acknowledges a dirty or unacknowledged copy, and writes nothing otherwise', () => {
    const dirty = local(s(5), { dirty: true, acknowledged: false })
    expect(decideIncoming(dirty, incoming(s(5)))).toEqual({ kind: 'same', rule: 'A3 same write acknowledges', write: { ...dirty, dirty: false, acknowledged: true } })
    expect(decideIncoming(local(s(5)), incoming(s(5))).write).toBeNull()
  })

  it('A3 (SV2): a copy missing columns a schema change added takes the server\'s row of the same write, completed', () => {
    const partial = local(s(5), { row: { title: 'local', note: null }, unknown: ['note'] })
    const server: RecordState = { uid: 'u', row: { title: 'local', note: 'from B' }, created_at: s(1), updated_at: s(5), deleted_at: null }
    const d = decideIncoming(partial, server)
    expect(d.write).toEqual({ table: 'todos', uid: 'u', row: { title: 'local', note: 'from B' }, created_at: s(1), updated_at: s(5), deleted_at: null, dirty: false, acknowledged: true })
    expect('unknown' in (d.write ?? {})).toBe(false)
  })

  it('A4: an older state leaves the local one as it is, dirty (trap 5)', () => {
    expect(decideIncoming(local(s(7), { dirty: true }), incoming(s(6)))).toEqual({ kind: 'kept', rule: 'A4 local state newer', write: null })
  })

  it('A1 (E6): an older state of a record removed at a newer version stays out; an equal or newer one applies', () => {
    expect(decideIncoming(undefined, incoming(s(4)), s(5)).rule).toBe('A1 removed since at a newer version')
    expect(decideIncoming(undefined, incoming(s(5)), s(5)).kind).toBe('applied')
    expect(decideIncoming(undefined, incoming(s(6)), s(5)).kind).toBe('applied')
    // The removal matters only while nothing is held: a held record is decided by its version.
    expect(decideIncoming(local(s(3)), incoming(s(4)), s(5)).kind).toBe('applied')
  })
})

describe('removals (E6)', () => {
  it('remembers the eviction version, or the removed copy’s own for a purge, and never goes down', () => {
    expect(rememberRemoval(undefined, s(5), local(s(3)))).toBe(s(5))
    expect(rememberRemoval(undefined, null, local(s(3)))).toBe(s(3))
    expect(rememberRemoval(s(9), s(5), local(s(3)))).toBe(s(9))
    expect(isOlderThanRemoval(incoming(s(4)), s(5))).toBe(true)
    expect(isOlderThanRemoval(incoming(s(5)), s(5))).toBe(false)
    expect(isOlderThanRemoval(incoming(s(4)), undefined)).toBe(false)
  })
})

const applied = (uid = 'u'): PushOutcome => ({ uid, status: 'applied' })
const rejected = (code: string): PushOutcome => ({ uid: 'u', status: 'rejected', error: { code: code as never, message: code } })
function input(over: Partial<PushOutcomeInput<ReplicaRecord>>): PushOutcomeInput<ReplicaRecord> {
  return { local: local(s(5), { dirty: true }), sent: local(s(5)), outcome: applied(), winner: null, clockCorrected: false, next: () => s(100), ...over }
}

describe('decidePushOutcome (P1–P8)', () => {
  it('P1: applied and unchanged → clean, acknowledged, earlier refusal cleared', () => {
    const d = decidePushOutcome(input({ local: local(s(5), { dirty: true, acknowledged: false, rejected: { code: 'FORBIDDEN', message: 'x' } }) }))
    expect(d.rule).toBe('P1 applied and unchanged: clean')
    expect(d.local).toEqual({ kind: 'put', record: local(s(5), { dirty: false, acknowledged: true }) })
    expect(d).toMatchObject({ report: { kind: 'pushed' }, changedInFlight: false })
  })

  it('P2: applied but written during the push → acknowledged, still dirty with the newer write (trap 5)', () => {
    const d = decidePushOutcome(input({ local: local(s(6), { dirty: true, acknowledged: false }) }))
    expect(d.local).toEqual({ kind: 'put', record: local(s(6), { dirty: true, acknowledged: true }) })
    expect(d).toMatchObject({ rule: 'P2 applied but written since: acknowledged, still dirty', report: { kind: 'pushed' }, changedInFlight: true })
    expect(decidePushOutcome(input({ local: undefined })).local).toEqual({ kind: 'none' })
  })

  it('P3: superseded with a readable winner → the winner is applied as an incoming state', () => {
    const outcome: PushOutcome = { uid: 'u', status: 'superseded', rule: 'R7 older write superseded', winner: null }
    const d = decidePushOutcome(input({ outcome, winner: incoming(s(8)) }))
    expect(d.local).toEqual({ kind: 'put', record: { ...incoming(s(8)), dirty: false, acknowledged: true } })
    expect(d.report).toEqual({ kind: 'superseded', winnerStamp: s(8), rule: 'R7 older write superseded' })
    // A write made during the push newer than the winner stays (A4).
    expect(decidePushOutcome(input({ outcome, winner: incoming(s(8)), local: local(s(9), { dirty: true }) })).local).toEqual({ kind: 'none' })
  })

  it('P4: superseded by a hidden winner → an unchanged copy is removed, a changed one stays', () => {
    const outcome: PushOutcome = { uid: 'u', status: 'superseded', rule: 'R9 older write never resurrects', winner: null }
    expect(decidePushOutcome(input({ outcome }))).toMatchObject({ rule: 'P4 superseded by a hidden winner', local: { kind: 'remove' }, report: { winnerStamp: null } })
    expect(decidePushOutcome(input({ outcome, local: local(s(6), { dirty: true }) })).local).toEqual({ kind: 'none' })
  })

  it('P5: PURGED → an unchanged copy is removed and reported; a changed one stays, unreported', () => {
    expect(decidePushOutcome(input({ outcome: rejected('PURGED') }))).toMatchObject({ local: { kind: 'remove' }, report: { kind: 'purged' } })
    expect(decidePushOutcome(input({ outcome: rejected('PURGED'), local: local(s(6), { dirty: true }) }))).toMatchObject({ local: { kind: 'none' }, report: null })
  })

  it('P6: CLOCK_AHEAD once the clock is corrected → a dirty copy is re-stamped; uncorrected it is P7', () => {
    const d = decidePushOutcome(input({ outcome: rejected('CLOCK_AHEAD'), clockCorrected: true, next: () => s(3) }))
    expect(d).toMatchObject({ rule: 'P6 clock ahead: re-stamped', local: { kind: 'put', record: { updated_at: s(3), dirty: true, restamped: true } }, report: { kind: 'restamped' } })
    expect(decidePushOutcome(input({ outcome: rejected('CLOCK_AHEAD'), clockCorrected: true, local: local(s(5)) })).local).toEqual({ kind: 'none' })
    expect(decidePushOutcome(input({ outcome: rejected('CLOCK_AHEAD') })).rule).toBe('P7 rejected: kept, marked')
  })

  it('P7: any other refusal → reported, an unchanged copy kept with the error and no longer dirty', () => {
    const d = decidePushOutcome(input({ outcome: rejected('FORBIDDEN') }))
    expect(d.local).toEqual({ kind: 'put', record: local(s(5), { dirty: false, rejected: { code: 'FORBIDDEN', message: 'FORBIDDEN' } }) })
    expect(d.report).toEqual({ kind: 'rejected', error: { code: 'FORBIDDEN', message: 'FORBIDDEN' } })
    // An unknown code is normalised, never trusted.
    expect(decidePushOutcome(input({ outcome: rejected('NOPE') })).report).toMatchObject({ kind: 'rejected', error: { code: 'INTERNAL' } })
  })

  it('P8: SCHEMA_OUTDATED → nothing changes locally: the record stays dirty until the client upgrades (SV3)', () => {
    const d = decidePushOutcome(input({ outcome: rejected('SCHEMA_OUTDATED'), local: local(s(5), { dirty: true }) }))
    expect(d).toMatchObject({ rule: 'P8 schema outdated: kept dirty', local: { kind: 'none' }, report: { kind: 'outdated', error: { code: 'SCHEMA_OUTDATED' } } })
  })

  it('P9: PARENT_DELETED → reported, an unchanged copy removed; the server knew it: its scopes reconcile (PD5)', () => {
    const d = decidePushOutcome(input({ outcome: rejected('PARENT_DELETED') }))
    expect(d).toEqual({
      rule: 'P9 parent deleted: dropped, reconciled',
      local: { kind: 'remove' },
      report: { kind: 'rejected', error: { code: 'PARENT_DELETED', message: 'PARENT_DELETED' } },
      reconcile: true,
      changedInFlight: false,
    })
    // Never acknowledged (an offline create): the server has nothing to bring back.
    expect(decidePushOutcome(input({ outcome: rejected('PARENT_DELETED'), local: local(s(5), { acknowledged: false }) }))).not.toHaveProperty('reconcile')
    // Written again while in flight: the newer write stays, dirty (trap 5), and is judged when pushed.
    expect(decidePushOutcome(input({ outcome: rejected('PARENT_DELETED'), local: local(s(6), { dirty: true }) }))).toMatchObject({ local: { kind: 'none' }, report: { kind: 'rejected' } })
  })

  it('P10 (B29): applied and unchanged, but an eviction at a newer version was kept against the dirty copy (E1) → removed, as E2', () => {
    // The eviction (the server moved the record out at s(7)) came while the push of s(5) was in flight.
    const d = decidePushOutcome(input({ removedAt: s(7) }))
    expect(d).toEqual({ rule: 'P10 applied, evicted since: removed', local: { kind: 'remove' }, report: { kind: 'pushed' }, changedInFlight: false })
    // An eviction at or below the version pushed says nothing newer (E3/E4 for a clean copy): P1.
    expect(decidePushOutcome(input({ removedAt: s(5) })).rule).toBe('P1 applied and unchanged: clean')
    expect(decidePushOutcome(input({ removedAt: s(4) })).rule).toBe('P1 applied and unchanged: clean')
    // Written again since: the newer write stays dirty and is judged when pushed (trap 5).
    expect(decidePushOutcome(input({ removedAt: s(7), local: local(s(6), { dirty: true }) }))).toMatchObject({ rule: 'P2 applied but written since: acknowledged, still dirty', local: { kind: 'put' } })
  })

  it('classifies every status and the codes it singles out', () => {
    expect(classifyPushOutcome(rejected('PARENT_DELETED'), false)).toBe('parent-deleted')
    expect(classifyPushOutcome(rejected('SCHEMA_OUTDATED'), false)).toBe('outdated')
    expect(classifyPushOutcome(applied(), false)).toBe('applied')
    expect(classifyPushOutcome({ uid: 'u', status: 'superseded', rule: 'r', winner: null }, false)).toBe('superseded')
    expect(classifyPushOutcome(rejected('PURGED'), false)).toBe('purged')
    expect(classifyPushOutcome(rejected('CLOCK_AHEAD'), true)).toBe('clock-ahead')
    expect(classifyPushOutcome(rejected('CLOCK_AHEAD'), false)).toBe('rejected')
    expect(() => classifyPushOutcome({ uid: 'u', status: 'lost' } as never, false)).toThrow(/Undecided/)
  })
})

describe('restampRecord', () => {
  const ahead = (ms: number) => formatStamp({ ms, counter: 0, node })
  it('keeps a tombstone valid when its update stamp was ahead too', () => {
    const clock = createHlc({ node, now: () => 1_000 })
    const record = { ...local(ahead(9_000_001)), created_at: ahead(9_000_000), deleted_at: ahead(9_000_002), dirty: true }
    const fixed = restampRecord(record, () => clock.next())
    expect(() => assertMetaOrder(fixed)).not.toThrow()
    expect(fixed.deleted_at).not.toBeNull()
    expect(versionOf(fixed) < ahead(9_000_000)).toBe(true)
    expect(fixed.table).toBe('todos') // the caller's own fields pass through
  })

  it('re-stamps a live record below the refused stamps', () => {
    const clock = createHlc({ node, now: () => 1_000 })
    const fixed = restampRecord({ ...local(ahead(9_000_001)), created_at: ahead(9_000_000) }, () => clock.next())
    expect(() => assertMetaOrder(fixed)).not.toThrow()
    expect(fixed.updated_at < ahead(9_000_000)).toBe(true)
  })
})
