/**
 * What one node tells the others after a commit: the revs it committed and, unless too large, the
 * committed changes themselves (the images realtime needs to decide per socket). Nodes are trusted, but
 * what comes through the adapter is still checked for shape before any socket sees it.
 */
import { LINEAGE_POINT_PATTERN, isStamp } from '@lastword/core'
import type { CommittedChange } from '../types.js'

/** The inter-server event lastword publishes after each commit (`io.serverSideEmit`). */
export const COMMITTED_EVENT = 'lw:committed'

export interface CommittedMessage {
  /** Format version. */
  v: 1
  /** The publishing node's id. */
  node: string
  /** The transaction's revs, `first … last`. */
  first: number
  last: number
  /** The changes as JSON, or `null` when over `maxPayloadBytes`: receivers then read them from the database. */
  changes: string | null
}

/** Builds the message of one commit; the changes are left out when their JSON is over `maxBytes`. */
export function encodeCommitted(node: string, changes: readonly CommittedChange[], maxBytes: number): CommittedMessage | null {
  let first = Infinity
  let last = -Infinity
  for (const change of changes) {
    first = Math.min(first, change.rev)
    last = Math.max(last, change.rev)
  }
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) return null
  let json: string | null
  try {
    json = JSON.stringify(changes)
    if (Buffer.byteLength(json) > maxBytes) json = null
  } catch {
    json = null // a value JSON cannot carry (a bigint column): the receivers read the rows themselves
  }
  return { v: 1, node, first, last, changes: json }
}

/** Parses a received message; `null` if it is not one. */
export function decodeCommitted(raw: unknown): { message: CommittedMessage; changes: CommittedChange[] | null } | null {
  if (typeof raw !== 'object' || raw === null) return null
  const m = raw as Partial<CommittedMessage>
  if (m.v !== 1 || typeof m.node !== 'string' || !Number.isSafeInteger(m.first) || !Number.isSafeInteger(m.last)) return null
  if ((m.first as number) < 1 || (m.last as number) < (m.first as number)) return null
  const message = m as CommittedMessage
  if (message.changes === null) return { message, changes: null }
  if (typeof message.changes !== 'string') return null
  let parsed: unknown
  try {
    parsed = JSON.parse(message.changes)
  } catch {
    return null
  }
  if (!Array.isArray(parsed) || !parsed.every(isChange)) return null
  return { message, changes: parsed }
}

const isRow = (value: unknown): boolean => value === null || (typeof value === 'object' && !Array.isArray(value))

function isChange(value: unknown): value is CommittedChange {
  if (typeof value !== 'object' || value === null) return false
  const c = value as Partial<CommittedChange>
  const meta = c.meta
  return (
    typeof c.table === 'string' &&
    typeof c.uid === 'string' &&
    Number.isSafeInteger(c.rev) &&
    typeof meta === 'object' &&
    meta !== null &&
    meta.uid === c.uid &&
    isStamp(meta.created_at) &&
    isStamp(meta.updated_at) &&
    (meta.deleted_at === null || isStamp(meta.deleted_at)) &&
    isRow(c.before) &&
    isRow(c.after) &&
    isRow(c.lastImage) &&
    (c.knownAt === undefined || (typeof c.knownAt === 'string' && LINEAGE_POINT_PATTERN.test(c.knownAt))) &&
    (c.fields === undefined || (typeof c.fields === 'object' && c.fields !== null && !Array.isArray(c.fields) && Object.values(c.fields).every(isStamp)))
  )
}
