import { describe, expect, it } from 'vitest'
import {
  CONFLICT_TABLE,
  assertSameWrite,
  compareVersions,
  isNewer,
  isPurgedWrite,
  isSameContent,
  resolveWrite,
  ruleFor,
  storedKind,
  type IncomingKind,
  type Order,
  type StoredKind,
} from './conflict-rules.js'
import type { TableDescriptor } from './descriptor.js'
import type { RecordMeta } from './metadata.js'
import { formatStamp } from './stamp.js'

const NODE = '0123456789abcdef'
const s = (ms: number) => formatStamp({ ms, counter: 0, node: NODE })

const live = (updated: number, created = 1): RecordMeta => ({ uid: 'u', created_at: s(created), updated_at: s(updated), deleted_at: null })
const tomb = (deleted: number, updated = 1): RecordMeta => ({ uid: 'u', created_at: s(1), updated_at: s(updated), deleted_at: s(deleted) })

/** A stored state of kind `kind` at version 10 (or none). */
function stored(kind: StoredKind): RecordMeta | null {
  return kind === 'absent' ? null : kind === 'live' ? live(10) : tomb(10, 5)
}

/** An incoming write of kind `kind` whose version is newer / equal / older than 10. */
function incoming(kind: IncomingKind, order: Order): RecordMeta {
  const v = order === 'newer' ? 20 : order === 'equal' ? 10 : 5
  return kind === 'live' ? live(v) : tomb(v, 1)
}

const EXPECTED: Record<StoredKind, Record<IncomingKind, Record<Order, [string, 'apply' | 'noop' | 'supersede']>>> = {
  absent: {
    live: { newer: ['R1 create', 'apply'], equal: ['R1 create', 'apply'], older: ['R1 create', 'apply'] },
    tombstone: {
      newer: ['R2 tombstone for an unknown uid', 'apply'],
      equal: ['R2 tombstone for an unknown uid', 'apply'],
      older: ['R2 tombstone for an unknown uid', 'apply'],
    },
  },
  live: {
    live: { newer: ['R3 later update wins', 'apply'], equal: ['R6 same write seen twice', 'noop'], older: ['R7 older write superseded', 'supersede'] },
    tombstone: { newer: ['R4 later delete wins', 'apply'], equal: ['R6 same write seen twice', 'noop'], older: ['R8 older delete superseded', 'supersede'] },
  },
  tombstone: {
    live: {
      newer: ['R5 later write brings the record back', 'apply'],
      equal: ['R6 same write seen twice', 'noop'],
      older: ['R9 older write never resurrects', 'supersede'],
    },
    tombstone: { newer: ['R4 later delete wins', 'apply'], equal: ['R6 same write seen twice', 'noop'], older: ['R8 older delete superseded', 'supersede'] },
  },
}

const STORED: StoredKind[] = ['absent', 'live', 'tombstone']
const INCOMING: IncomingKind[] = ['live', 'tombstone']
const ORDERS: Order[] = ['newer', 'equal', 'older']

describe('isPurgedWrite (R10)', () => {
  it('refuses a write of an acknowledged uid the server no longer knows, with the evidence of its purge, and nothing else', () => {
    expect(isPurgedWrite(null, { acknowledged: true }, true)).toBe(true)
    expect(isPurgedWrite(undefined, { acknowledged: true }, true)).toBe(true)
    expect(isPurgedWrite(null, { acknowledged: false }, true)).toBe(false) // an offline create
    expect(isPurgedWrite(null, {}, true)).toBe(false)
    expect(isPurgedWrite(live(10), { acknowledged: true }, true)).toBe(false)
    expect(isPurgedWrite(tomb(10), { acknowledged: true }, true)).toBe(false) // the tombstone decides (R9/R5)
  })

  it('R12: without evidence (acknowledged by a history the server does not share) the write is a create, not PURGED', () => {
    expect(isPurgedWrite(null, { acknowledged: true }, false)).toBe(false)
    expect(isPurgedWrite(undefined, { acknowledged: true }, false)).toBe(false)
  })
})

describe('CONFLICT_TABLE', () => {
  it('holds exactly the rules SPEC.md documents', () => {
    for (const st of STORED)
      for (const inc of INCOMING)
        for (const o of ORDERS) {
          const rule = CONFLICT_TABLE[st][inc][o]
          expect([rule.id, rule.decision], `${st}/${inc}/${o}`).toEqual(EXPECTED[st][inc][o])
        }
  })

  it('names R1..R9, each once per meaning', () => {
    const ids = new Set<string>()
    for (const st of STORED) for (const inc of INCOMING) for (const o of ORDERS) ids.add(CONFLICT_TABLE[st][inc][o].id)
    expect([...ids].map((id) => id.slice(0, 2)).sort()).toEqual(['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'R9'])
  })
})

describe('resolveWrite: every reachable cell of the table', () => {
  // `absent` has no version: a write against nothing is always "newer" (the other absent cells exist
  // only so the table type is total).
  const cells = STORED.flatMap((st) =>
    INCOMING.flatMap((inc) => (st === 'absent' ? (['newer'] as Order[]) : ORDERS).map((o) => [st, inc, o] as const)),
  )

  it.each(cells)('stored %s, incoming %s, %s', (st, inc, o) => {
    const before = stored(st)
    const write = incoming(inc, o)
    const [id, decision] = EXPECTED[st][inc][o]
    expect(ruleFor(before, write)).toEqual({ id, decision })
    const result = resolveWrite(before, write)
    expect(result.rule).toBe(id)
    if (decision === 'apply') expect(result).toEqual({ kind: 'applied', rule: id })
    if (decision === 'noop') expect(result).toEqual({ kind: 'noop', rule: id })
    if (decision === 'supersede') expect(result).toEqual({ kind: 'superseded', rule: id, winner: before })
    expect(isNewer(write, before)).toBe(decision === 'apply')
  })

  it('treats undefined like absent', () => {
    expect(resolveWrite(undefined, live(1))).toEqual({ kind: 'applied', rule: 'R1 create' })
    expect(storedKind(undefined)).toBe('absent')
  })
})

describe('the conflict rule in words', () => {
  it('a later write wins', () => {
    expect(resolveWrite(live(10), live(11)).kind).toBe('applied')
  })

  it('a later delete wins', () => {
    expect(resolveWrite(live(10), tomb(11, 10)).kind).toBe('applied')
  })

  it('an older, stale edit never resurrects a tombstone, and the caller is told the winner', () => {
    const tombstone = tomb(10, 5)
    const stale = live(9) // edited offline before the delete, pushed after it
    const result = resolveWrite(tombstone, stale)
    expect(result).toEqual({ kind: 'superseded', rule: 'R9 older write never resurrects', winner: tombstone })
  })

  it('a later edit does bring the record back', () => {
    expect(resolveWrite(tomb(10, 5), live(11))).toEqual({ kind: 'applied', rule: 'R5 later write brings the record back' })
  })

  it('an equal version is the same write seen twice: a no-op', () => {
    expect(resolveWrite(live(10), live(10)).kind).toBe('noop')
    expect(resolveWrite(tomb(10), tomb(10)).kind).toBe('noop')
  })

  it('compares versions (deleted_at ?? updated_at), not created_at', () => {
    // created later but updated earlier: older
    expect(compareVersions(live(5, 5), live(6, 1))).toBeLessThan(0)
    // a tombstone's version is its deleted_at, even if its updated_at is old
    expect(compareVersions(tomb(20, 1), live(10))).toBeGreaterThan(0)
    expect(resolveWrite(live(10), tomb(20, 1)).kind).toBe('applied')
  })

  it('stamps order by counter and node within one millisecond', () => {
    const a: RecordMeta = { uid: 'u', created_at: s(1), updated_at: formatStamp({ ms: 5, counter: 1, node: NODE }), deleted_at: null }
    const b: RecordMeta = { ...a, updated_at: formatStamp({ ms: 5, counter: 1, node: 'fedcba9876543210' }) }
    const c: RecordMeta = { ...a, updated_at: formatStamp({ ms: 5, counter: 2, node: '0000000000000000' }) }
    expect(resolveWrite(a, b).kind).toBe('applied')
    expect(resolveWrite(b, a).kind).toBe('superseded')
    expect(resolveWrite(b, c).kind).toBe('applied')
  })
})

describe('equal version, different content (R11)', () => {
  const table: TableDescriptor = {
    name: 't',
    columns: [
      { name: 'title', type: 'text', nullable: false, writable: true },
      { name: 'meta', type: 'json', nullable: true, writable: true },
    ],
  }
  const liveRow = (title: string, meta: unknown = null) => ({ deleted_at: null, row: { title, meta } })
  const gone = { deleted_at: s(9), row: null }

  it('takes the same content again (a duplicate delivery stays a no-op)', () => {
    expect(isSameContent(table, liveRow('a', { x: 1, y: [1, 2] }), liveRow('a', { y: [1, 2], x: 1 }))).toBe(true)
    expect(isSameContent(table, gone, gone)).toBe(true)
    // A column the stored image lacks (added since) counts as null.
    expect(isSameContent(table, { deleted_at: null, row: { title: 'a' } }, liveRow('a'))).toBe(true)
  })

  it('refuses other content at one version with INVALID_STAMP', () => {
    expect(isSameContent(table, liveRow('a'), liveRow('b'))).toBe(false)
    expect(isSameContent(table, liveRow('a', { x: 1 }), liveRow('a', { x: 2 }))).toBe(false)
    expect(isSameContent(table, liveRow('a'), gone)).toBe(false)
    expect(isSameContent(table, gone, liveRow('a'))).toBe(false)
    expect(() => assertSameWrite(table, liveRow('a'), liveRow('b'))).toThrow(expect.objectContaining({ code: 'INVALID_STAMP' }))
    expect(() => assertSameWrite(table, liveRow('a'), liveRow('a'))).not.toThrow()
  })
})
