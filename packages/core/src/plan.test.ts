import { describe, expect, it } from 'vitest'
import { classifyChange, computePlan, decideEviction, decideRealtime, emptyPlan, isEmptyPlan, type ClientEntry, type ServerEntry, type SyncPlan } from './plan.js'
import { formatStamp, type Stamp } from './stamp.js'

const s = (ms: number): Stamp => formatStamp({ ms, counter: 0, node: '0123456789abcdef' })
const srv = (ms: number, deleted = false, inScope = true, readable = true): ServerEntry => ({ version: s(ms), deleted, inScope, readable })
const cli = (ms: number, deleted = false, acknowledged = true, purgeProven = acknowledged): ClientEntry => ({ version: s(ms), deleted, acknowledged, purgeProven })

function plan(server: Record<string, ServerEntry>, client: Record<string, ClientEntry>): SyncPlan {
  return computePlan(new Map(Object.entries(server)), new Map(Object.entries(client)))
}

/** The plan with only `list` set to `uids`. */
function only(list: keyof SyncPlan, uids: string[]): SyncPlan {
  return { ...emptyPlan(), [list]: uids }
}

describe('emptyPlan / isEmptyPlan', () => {
  it('an empty plan is empty; any uid in any list is not', () => {
    expect(isEmptyPlan(emptyPlan())).toBe(true)
    for (const list of Object.keys(emptyPlan()) as (keyof SyncPlan)[]) expect(isEmptyPlan(only(list, ['a']))).toBe(false)
  })

  it('has the seed\'s five lists plus deleteDatabase and evictClient', () => {
    expect(Object.keys(emptyPlan()).sort()).toEqual(
      ['addClient', 'addDatabase', 'deleteClient', 'deleteDatabase', 'evictClient', 'updateClient', 'updateDatabase'].sort(),
    )
  })
})

describe('computePlan: each list', () => {
  it('nothing to do when both sides agree', () => {
    expect(isEmptyPlan(plan({ a: srv(5), b: srv(6, true) }, { a: cli(5), b: cli(6, true) }))).toBe(true)
    expect(isEmptyPlan(plan({}, {}))).toBe(true)
  })

  it('addClient: a live in-scope server row the client lacks', () => {
    expect(plan({ a: srv(5) }, {})).toEqual(only('addClient', ['a']))
  })

  it('nothing for a server tombstone, or an out-of-scope row, the client lacks', () => {
    expect(isEmptyPlan(plan({ a: srv(5, true), b: srv(5, false, false), c: srv(5, true, false) }, {}))).toBe(true)
  })

  it('updateClient: the server row is newer than the client\'s', () => {
    expect(plan({ a: srv(6) }, { a: cli(5) })).toEqual(only('updateClient', ['a']))
    // a newer server row brings back a record the client holds as an older tombstone
    expect(plan({ a: srv(6) }, { a: cli(5, true) })).toEqual(only('updateClient', ['a']))
  })

  it('deleteClient: the server tombstone is newer than the client\'s row', () => {
    expect(plan({ a: srv(6, true) }, { a: cli(5) })).toEqual(only('deleteClient', ['a']))
  })

  it('deleteClient: acknowledged once, unknown to the server now, and the purge proven (R12)', () => {
    expect(plan({}, { a: cli(5, false, true) })).toEqual(only('deleteClient', ['a']))
    expect(plan({}, { a: cli(5, true, true) })).toEqual(only('deleteClient', ['a']))
  })

  it('R12: acknowledged and unknown without evidence of a purge (a restored backup, another database): pushed back', () => {
    // The old rule dropped both (deleteClient): the only copies of records the server lost.
    expect(plan({}, { a: cli(5, false, true, false) })).toEqual(only('addDatabase', ['a']))
    expect(plan({}, { a: cli(5, true, true, false) })).toEqual(only('deleteDatabase', ['a']))
    // Unreadable plans like unknown (I13): the server authorizes the push.
    expect(plan({ a: srv(6, false, false, false) }, { a: cli(5, false, true, false) })).toEqual(only('addDatabase', ['a']))
  })

  it('deleteClient: a local tombstone the server never saw (created and deleted offline) is just dropped', () => {
    expect(plan({}, { a: cli(5, true, false) })).toEqual(only('deleteClient', ['a']))
  })

  it('addDatabase: never acknowledged and unknown to the server (an offline create)', () => {
    expect(plan({}, { a: cli(5, false, false) })).toEqual(only('addDatabase', ['a']))
  })

  it('updateDatabase: the client row is newer than the server\'s', () => {
    expect(plan({ a: srv(5) }, { a: cli(6) })).toEqual(only('updateDatabase', ['a']))
    // a later client write brings back a server tombstone
    expect(plan({ a: srv(5, true) }, { a: cli(6) })).toEqual(only('updateDatabase', ['a']))
  })

  it('deleteDatabase: the client tombstone is newer than the server\'s state', () => {
    expect(plan({ a: srv(5) }, { a: cli(6, true) })).toEqual(only('deleteDatabase', ['a']))
    expect(plan({ a: srv(5, true) }, { a: cli(6, true) })).toEqual(only('deleteDatabase', ['a']))
  })

  it('a newer client write is pushed even if the server copy left the scope (the server authorizes it)', () => {
    expect(plan({ a: srv(5, false, false) }, { a: cli(6) })).toEqual(only('updateDatabase', ['a']))
    expect(plan({ a: srv(5, false, false) }, { a: cli(6, true) })).toEqual(only('deleteDatabase', ['a']))
  })

  it('evictClient: the record left the client\'s scope; never a delete on the server', () => {
    expect(plan({ a: srv(6, false, false) }, { a: cli(5) })).toEqual(only('evictClient', ['a']))
    expect(plan({ a: srv(5, false, false) }, { a: cli(5) })).toEqual(only('evictClient', ['a']))
    expect(plan({ a: srv(6, true, false) }, { a: cli(5) })).toEqual(only('evictClient', ['a']))
  })

  it('a record the principal may not read plans like an unknown uid (I13): no eviction, no version compared', () => {
    const hidden = srv(6, false, false, false)
    // Acknowledged once, or a tombstone: as if purged.
    expect(plan({ a: hidden }, { a: cli(5, false, true) })).toEqual(only('deleteClient', ['a']))
    expect(plan({ a: srv(6, true, false, false) }, { a: cli(9, true, false) })).toEqual(only('deleteClient', ['a']))
    // Never acknowledged and live: as an offline create, whatever the versions.
    expect(plan({ a: hidden }, { a: cli(9, false, false) })).toEqual(only('addDatabase', ['a']))
    expect(plan({ a: hidden }, { a: cli(5, false, false) })).toEqual(only('addDatabase', ['a']))
    // Not listed by the client: nothing.
    expect(plan({ a: hidden }, {})).toEqual(only('addClient', []))
  })

  it('plans uids such as constructor, __proto__ and toString like any other', () => {
    const server = new Map<string, ServerEntry>([
      ['constructor', srv(5)],
      ['__proto__', srv(6)],
    ])
    const client = new Map<string, ClientEntry>([
      ['__proto__', cli(5)],
      ['toString', cli(5, false, false)],
      ['hasOwnProperty', cli(5, false, true)],
    ])
    expect(computePlan(server, client)).toEqual({
      ...emptyPlan(),
      addClient: ['constructor'],
      updateClient: ['__proto__'],
      addDatabase: ['toString'],
      deleteClient: ['hasOwnProperty'],
    })
  })

  it('sorts every list by uid', () => {
    const server = new Map<string, ServerEntry>([
      ['c', srv(5)],
      ['a', srv(5)],
      ['b', srv(5)],
    ])
    expect(computePlan(server, new Map()).addClient).toEqual(['a', 'b', 'c'])
  })
})

describe('classifyChange: what an incremental pull sends for one changed record', () => {
  // [couldHaveHeld, matchesNow, deleted] → action (the table in SPEC.md)
  it.each([
    [true, true, false, 'row'],
    [false, true, false, 'row'], // a move-in
    [true, false, false, 'evict'], // a move-out
    [false, false, false, 'none'], // never the uid of a record the client could not see
    [true, true, true, 'tombstone'],
    [true, false, true, 'tombstone'],
    [false, true, true, 'tombstone'],
    [false, false, true, 'none'], // another tenant's deletion never leaks
  ] as const)('couldHaveHeld=%s matchesNow=%s deleted=%s → %s', (couldHaveHeld, matchesNow, deleted, action) => {
    expect(classifyChange({ couldHaveHeld, matchesNow, deleted })).toBe(action)
  })
})

describe('decideEviction: what the client does with an eviction or a purge', () => {
  const v1 = s(1_000)
  const v2 = s(2_000)
  const held = (version: Stamp, more: Partial<{ deleted: boolean; dirty: boolean; acknowledged: boolean }> = {}) => ({
    version,
    deleted: false,
    dirty: false,
    acknowledged: true,
    ...more,
  })
  it('E1: nothing held, or a dirty copy, stays', () => {
    expect(decideEviction(undefined, v2)).toBe('keep')
    expect(decideEviction(undefined, null)).toBe('keep')
    expect(decideEviction(held(v1, { dirty: true }), v2)).toBe('keep')
    expect(decideEviction(held(v2, { dirty: true }), v1)).toBe('keep')
  })
  it('E1: a purge removes an acknowledged record even when dirty, keeps a dirty one never acknowledged', () => {
    expect(decideEviction(held(v1), null)).toBe('remove')
    expect(decideEviction(held(v1, { dirty: true }), null)).toBe('remove')
    expect(decideEviction(held(v1, { dirty: true, deleted: true }), null)).toBe('remove')
    expect(decideEviction(held(v1, { acknowledged: false, dirty: true }), null)).toBe('keep')
    expect(decideEviction(held(v1, { acknowledged: false, deleted: true, dirty: true }), null)).toBe('keep') // created and deleted offline: pushed
    expect(decideEviction(held(v1, { acknowledged: false, deleted: true }), null)).toBe('remove')
  })
  it('E2: an older local copy is stale and goes, whatever other scopes it seems to match', () => {
    expect(decideEviction(held(v1), v2)).toBe('remove')
    expect(decideEviction(held(v1, { deleted: true }), v2)).toBe('remove')
  })
  it('E3: a newer local copy stays (the eviction is late)', () => {
    expect(decideEviction(held(v2), v1)).toBe('keep')
  })
  it('E4: the same version is matched against the other scopes', () => {
    expect(decideEviction(held(v2), v2)).toBe('other-scopes')
  })
  it('E4, field merge: a copy of the same version with another column-stamp digest is a stale state and goes', () => {
    expect(decideEviction({ ...held(v2), digest: '0123456789abcd' }, v2, '0123456789abcd')).toBe('other-scopes')
    expect(decideEviction({ ...held(v2), digest: '0123456789abcd' }, v2, 'ffffffffffffff')).toBe('remove')
    // Without a digest on either side (a row table, a copy stored without stamps): as E4.
    expect(decideEviction(held(v2), v2, 'ffffffffffffff')).toBe('other-scopes')
    expect(decideEviction({ ...held(v2), digest: '0123456789abcd' }, v2)).toBe('other-scopes')
    // Dirty copies and newer ones are untouched by the digest.
    expect(decideEviction({ ...held(v2, { dirty: true }), digest: '0123456789abcd' }, v2, 'ffffffffffffff')).toBe('keep')
  })
})

describe('decideRealtime: an event against what the pulls and earlier events covered', () => {
  it('applies events entirely past what the table covered', () => {
    expect(decideRealtime({ firstRev: 5, rev: 7 }, { scope: 4, table: 4 })).toBe('apply')
    expect(decideRealtime({ firstRev: 9, rev: 9 }, { scope: 4, table: 8 })).toBe('apply')
  })
  it('skips an event its own pull covered', () => {
    expect(decideRealtime({ firstRev: 3, rev: 4 }, { scope: 4, table: 4 })).toBe('skip')
    expect(decideRealtime({ firstRev: 1, rev: 1 }, { scope: 9, table: 12 })).toBe('skip')
  })
  it('pulls instead when the event straddles its checkpoint', () => {
    expect(decideRealtime({ firstRev: 4, rev: 5 }, { scope: 4, table: 4 })).toBe('skip-and-pull')
  })
  it('pulls instead when another scope or an earlier event covered it (a record of it may be stale here)', () => {
    expect(decideRealtime({ firstRev: 12, rev: 12 }, { scope: 0, table: 14 })).toBe('skip-and-pull')
  })
  it('applies nothing while the scope awaits its first page, and pulls after it (T02 seed 698883329)', () => {
    expect(decideRealtime({ firstRev: 1, rev: 3 }, { scope: null, table: null })).toBe('skip-and-pull')
    expect(decideRealtime({ firstRev: 12, rev: 12 }, { scope: null, table: 4 })).toBe('skip-and-pull')
  })
  it('applies nothing while an overlapping scope awaits its first page, and pulls unless its own pull covered it (B13)', () => {
    expect(decideRealtime({ firstRev: 5, rev: 7 }, { scope: 4, table: 4, overlapAwaitsFirstPage: true })).toBe('skip-and-pull')
    expect(decideRealtime({ firstRev: 3, rev: 4 }, { scope: 4, table: 4, overlapAwaitsFirstPage: true })).toBe('skip')
    expect(decideRealtime({ firstRev: 5, rev: 7 }, { scope: 4, table: 4, overlapAwaitsFirstPage: false })).toBe('apply')
  })
  it('decides nothing from revs of another history, and pulls (B15, T20 seed 902632790)', () => {
    // Restored: rev 40 of the new segment is news to a checkpoint at rev 56 of the lost one.
    expect(decideRealtime({ firstRev: 40, rev: 40 }, { scope: 56, table: 56, otherHistory: true })).toBe('skip-and-pull')
    expect(decideRealtime({ firstRev: 60, rev: 61 }, { scope: 56, table: 56, otherHistory: true })).toBe('skip-and-pull')
    expect(decideRealtime({ firstRev: 40, rev: 40 }, { scope: 56, table: 56, otherHistory: false })).toBe('skip')
  })
})
