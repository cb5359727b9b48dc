/**
 * Laws of lineage (lineage.ts, rule R12), checked with fast-check against a model of a database's life:
 * writes, restarts (`migrate()` opens a segment), backups, restores (the restored copy's next
 * `migrate()` or `markRestored()` opens a segment), and another database at the same URL.
 *
 *  LN1 soundness and completeness — a point issued at any moment (a checkpoint, a record's `knownAt`)
 *      is judged part of the current database's history (`lineageBreak` is `null`) only when the writes
 *      up to its rev are the current database's writes up to that rev; and it is, whenever they are and
 *      the database knows the point's segment: a restart never breaks a point, a restore breaks the
 *      points past the backup, another database breaks every point. (A point of a segment opened after
 *      the backup but before any write in it is broken although its writes are shared: the safe side.)
 *  LN2 purge evidence — `isPurgeProven` holds exactly for an acknowledged entry whose `knownAt` LN1
 *      accepts; anything malformed, missing or unacknowledged proves nothing.
 *
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fcParams } from './fc-config.test-util.js'
import { formatLineagePoint, isPurgeProven, lineageBreak, parseLineagePoint, type LineageHistory, type LineagePoint } from './lineage.js'

/** A database as the model sees it: its id, segments, and the identity of each write (index = rev - 1). */
interface Db {
  db: string
  segments: Map<string, { from: number; to: number | null }>
  current: string
  writes: number[]
}

type Op = { kind: 'write' } | { kind: 'restart' } | { kind: 'backup' } | { kind: 'restore'; which: number } | { kind: 'replace' } | { kind: 'issue' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'write' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'backup' as const }) },
  { weight: 2, arbitrary: fc.nat(9).map((which) => ({ kind: 'restore' as const, which })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'replace' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'issue' as const }) },
)

let ids = 0
const nextId = (): string => (++ids).toString(16).padStart(16, '0')

function fresh(): Db {
  const segment = nextId()
  return { db: nextId(), segments: new Map([[segment, { from: 0, to: null }]]), current: segment, writes: [] }
}

/** What `migrate()` and `markRestored()` do: end the open segment at the current rev, open another. */
function openSegment(d: Db): void {
  const rev = d.writes.length
  const open = d.segments.get(d.current)
  if (open !== undefined) open.to = rev
  d.current = nextId()
  d.segments.set(d.current, { from: rev, to: null })
}

function copy(d: Db): Db {
  return { db: d.db, segments: new Map([...d.segments].map(([k, v]) => [k, { ...v }])), current: d.current, writes: [...d.writes] }
}

const historyOf = (d: Db): LineageHistory => ({ db: d.db, rev: d.writes.length, segments: d.segments })

/** Runs the ops; returns every point issued with the writes it had seen, and the final database. */
function run(ops: readonly Op[]): { issued: Array<{ point: LineagePoint; seen: number[]; db: string }>; db: Db } {
  let d = fresh()
  const backups: Db[] = []
  const issued: Array<{ point: LineagePoint; seen: number[]; db: string }> = []
  let writeId = 0
  for (const o of ops) {
    if (o.kind === 'write') d.writes.push(++writeId)
    else if (o.kind === 'restart') openSegment(d)
    else if (o.kind === 'backup') backups.push(copy(d))
    else if (o.kind === 'restore') {
      const b = backups[o.which % Math.max(1, backups.length)]
      if (b === undefined) continue
      d = copy(b)
      openSegment(d) // the restart after a restore, or markRestored()
    } else if (o.kind === 'replace') d = fresh()
    else issued.push({ point: { db: d.db, segment: d.current, rev: d.writes.length }, seen: [...d.writes], db: d.db })
  }
  return { issued, db: d }
}

describe('lineage laws', () => {
  it('LN1: a point is part of the history exactly when the writes up to its rev are the same', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { issued, db } = run(ops)
        for (const { point, seen } of issued) {
          const shared = db.db === point.db && seen.length <= db.writes.length && seen.every((w, i) => db.writes[i] === w)
          const judged = lineageBreak(point, historyOf(db)) === null
          if (judged) expect(shared, `judged shared: ${JSON.stringify(point)}`).toBe(true)
          if (shared && db.segments.has(point.segment)) expect(judged, `judged broken: ${JSON.stringify(point)}`).toBe(true)
          expect(parseLineagePoint(formatLineagePoint(point))).toEqual(point)
        }
      }),
      fcParams(1000),
    )
  })

  it('LN2: isPurgeProven holds exactly for an acknowledged entry whose point is part of the history', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, acknowledged) => {
        const { issued, db } = run([...ops, { kind: 'issue' }])
        for (const { point } of issued) {
          const knownAt = formatLineagePoint(point)
          expect(isPurgeProven({ acknowledged, knownAt }, historyOf(db))).toBe(acknowledged && lineageBreak(point, historyOf(db)) === null)
        }
        expect(isPurgeProven({ acknowledged: true, knownAt: null }, historyOf(db))).toBe(false)
        expect(isPurgeProven({ acknowledged: true, knownAt: undefined }, historyOf(db))).toBe(false)
        expect(isPurgeProven({ acknowledged: true, knownAt: 'lw1.5.x' }, historyOf(db))).toBe(false)
      }),
      fcParams(1000),
    )
  })

  it('names the break: another database, or a restore', () => {
    const d = fresh()
    d.writes.push(1, 2, 3)
    const point = { db: d.db, segment: d.current, rev: 3 }
    const backup = copy(d)
    backup.writes.pop()
    openSegment(backup)
    expect(lineageBreak(point, historyOf(backup))).toBe('restored')
    expect(lineageBreak({ ...point, rev: 2 }, historyOf(backup))).toBeNull()
    expect(lineageBreak(point, historyOf(fresh()))).toBe('other-database')
    const restarted = copy(d)
    openSegment(restarted)
    restarted.writes.push(4)
    expect(lineageBreak(point, historyOf(restarted))).toBeNull() // a restart is not a restore
  })
})
