/**
 * Database lineage (SPEC.md section 7, "Lineage"; rule R12): which history a client's knowledge comes
 * from. A database has an id (drawn at its first `migrate()`), and its history is cut into segments
 * (one opened at every `migrate()` and every `markRestored()`, each with the rev it starts at and, once
 * a later one opened, the rev it ended at). A checkpoint and every acknowledged record the client holds
 * name a point of that history: `<db>.<segment>.<rev>`. A restored backup no longer knows the segments
 * opened after the backup and ends the segment it was in at the backup's rev; another database knows
 * none of them. So "is this point part of my history?" tells a restore, a replaced database and a
 * staging copy from a database that merely purged.
 */
import { LastwordError } from './errors.js'

/** Which database and which segment of its history. Both ids are 16 lowercase hex digits. */
export interface Lineage {
  db: string
  segment: string
}

/** A point of a database's history: a rev of one segment. */
export interface LineagePoint extends Lineage {
  rev: number
}

/** What a database knows of its own history, as far as the points being judged need it. */
export interface LineageHistory {
  db: string
  /** The rev the database stands at (the end of its open segment). */
  rev: number
  /** Segments by id: the rev each starts at and the rev it ended at (`null`: the open one). */
  segments: ReadonlyMap<string, { from: number; to: number | null }>
}

const ID = '[0-9a-f]{16}'
const REV = '(0|[1-9]\\d{0,15})'
/** The text of a lineage point; also the wire schema's pattern. */
export const LINEAGE_POINT_PATTERN = new RegExp(`^(${ID})\\.(${ID})\\.${REV}$`)
/** The text of a lineage (`<db>.<segment>`). */
export const LINEAGE_PATTERN = new RegExp(`^(${ID})\\.(${ID})$`)

/** `<db>.<segment>.<rev>`. */
export function formatLineagePoint(point: LineagePoint): string {
  const text = `${point.db}.${point.segment}.${String(point.rev)}`
  if (!Number.isSafeInteger(point.rev) || !LINEAGE_POINT_PATTERN.test(text)) {
    throw new LastwordError('CHECKPOINT_INVALID', 'A lineage point is two ids of 16 lowercase hex digits and a non-negative rev')
  }
  return text
}

/** Parses `<db>.<segment>.<rev>`; anything else is `CHECKPOINT_INVALID`. */
export function parseLineagePoint(text: unknown): LineagePoint {
  const match = typeof text === 'string' ? LINEAGE_POINT_PATTERN.exec(text) : null
  const rev = match === null ? Number.NaN : Number(match[3])
  if (match === null || !Number.isSafeInteger(rev)) throw new LastwordError('CHECKPOINT_INVALID', 'Malformed lineage point')
  return { db: match[1] as string, segment: match[2] as string, rev }
}

/** `<db>.<segment>`. */
export function formatLineage(lineage: Lineage): string {
  return `${lineage.db}.${lineage.segment}`
}

/** Parses `<db>.<segment>`; anything else is `CHECKPOINT_INVALID`. */
export function parseLineage(text: unknown): Lineage {
  const match = typeof text === 'string' ? LINEAGE_PATTERN.exec(text) : null
  if (match === null) throw new LastwordError('CHECKPOINT_INVALID', 'Malformed lineage')
  return { db: match[1] as string, segment: match[2] as string }
}

/** Why a point is not part of a database's history (`null`: it is). */
export type LineageBreak = 'other-database' | 'restored'

/**
 * Whether `point` is part of `history`: the same database, a segment it knows, and a rev no later than
 * that segment reached (the rev it ended at, or the database's rev for the open one). A segment the
 * database knows was opened in its own history, so every rev before the segment's end is shared — also
 * one below the segment's start (a page boundary of an older record, say). `other-database`: another
 * id; `restored`: a segment it does not know (opened after the backup it was restored from, or on a
 * copy) or a rev past the end of a segment it knows.
 */
export function lineageBreak(point: LineagePoint, history: LineageHistory): LineageBreak | null {
  if (point.db !== history.db) return 'other-database'
  const segment = history.segments.get(point.segment)
  if (segment === undefined) return 'restored'
  return point.rev <= (segment.to ?? history.rev) ? null : 'restored'
}

/**
 * R12 — purge only on evidence. A record the client holds as acknowledged and the server does not know
 * (or the principal may no longer read: I13 plans both alike) may be taken as purged — dropped by the
 * client in full reconciliation, refused `PURGED` on a push (R10) — only when the client's knowledge of
 * it (`knownAt`, the point of the server's history its acknowledged state was read at) is part of the
 * server's history. Within one history the server loses a record only by purging it after retention,
 * erasing it, or no longer letting the principal read it, and each of them means "drop it". Outside it
 * (restored from an older backup, another database at the same URL, a copy), nothing proves the record
 * gone: it is offered back, with its original stamps. A point that does not parse proves nothing.
 */
export function isPurgeProven(entry: { acknowledged: boolean; knownAt: string | null | undefined }, history: LineageHistory): boolean {
  if (!entry.acknowledged || entry.knownAt === null || entry.knownAt === undefined) return false
  let point: LineagePoint
  try {
    point = parseLineagePoint(entry.knownAt)
  } catch {
    return false
  }
  return lineageBreak(point, history) === null
}

/** The segment ids the given points name (at most one per point; malformed ones left out), to look up. */
export function segmentsNamed(points: Iterable<string | null | undefined>): string[] {
  const out = new Set<string>()
  for (const text of points) {
    const match = typeof text === 'string' ? LINEAGE_POINT_PATTERN.exec(text) : null
    if (match !== null) out.add(match[2] as string)
  }
  return [...out].sort()
}

/** `<db>.<segment>` of a point's text: the history its rev was counted in (`undefined`: none, or malformed). */
export function historyOfPoint(text: string | null | undefined): string | undefined {
  const match = typeof text === 'string' ? LINEAGE_POINT_PATTERN.exec(text) : null
  return match === null ? undefined : `${match[1] as string}.${match[2] as string}`
}

/**
 * Whether point `a` covers point `b`: the same history, and at least as far. Revs of two histories never
 * compare (SPEC.md E5, R12), so a point of another history covers nothing; a missing or malformed one neither.
 */
export function pointCovers(a: string | null | undefined, b: string): boolean {
  const history = historyOfPoint(a)
  if (history === undefined || history !== historyOfPoint(b)) return false
  try {
    return parseLineagePoint(a).rev >= parseLineagePoint(b).rev
  } catch {
    return false // a rev past the safe integers proves nothing
  }
}

/**
 * The point a scope remembers (`seen`) once it learned of records at `point`: `point` when it knew none or
 * `point` is further along the same history; otherwise what it had. A point of another history never
 * replaces the one remembered (B19): that one has not reached the server yet, and if the server lost it (a
 * restore) only sending it makes the scope reconcile in full — which also covers `point`.
 */
export function advanceSeen(current: string | null | undefined, point: string): string {
  if (current === null || current === undefined || historyOfPoint(current) === undefined) return point
  if (historyOfPoint(current) !== historyOfPoint(point)) return current
  return pointCovers(current, point) ? current : point
}
