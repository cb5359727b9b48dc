/**
 * Checkpoint tokens (SPEC.md section 7): the server `rev` a client has seen for a scope plus a
 * hash of the effective scope (the client's filter AND what `authorize` allowed). When the hash no
 * longer matches — a membership was revoked, say — the server answers with full reconciliation.
 */
import { LastwordError } from './errors.js'
import type { Lineage } from './lineage.js'

/** A decoded checkpoint. */
export interface Checkpoint {
  /** Every change up to this rev was sent. */
  rev: number
  /**
   * Between the pages of a paged incremental pull: the rev the client's other holdings date from (< `rev`),
   * so the next page asks "could the client have held it?" since then. Absent: since `rev`.
   */
  since?: number
  scopeHash: string
  /**
   * The database and segment of its history the rev belongs to (SPEC.md section 7, "Lineage"). Every
   * token the server writes has one (`lw2`); a token without one (`lw1`) is judged outside the
   * server's history, so it leads to full reconciliation.
   */
  lineage?: Lineage
}

// rev: canonical decimal (no leading zeros) up to 16 digits, so every safe integer round-trips.
const REV = '(0|[1-9]\\d{0,15})'
const TOKEN_PATTERN = new RegExp(`^lw1\\.${REV}(?:~${REV})?\\.([0-9a-f]{14})$`)
const TOKEN2_PATTERN = new RegExp(`^lw2\\.([0-9a-f]{16})\\.([0-9a-f]{16})\\.${REV}(?:~${REV})?\\.([0-9a-f]{14})$`)
const ID_PATTERN = /^[0-9a-f]{16}$/
const HASH_PATTERN = /^[0-9a-f]{14}$/

/** Encodes a checkpoint as an opaque token. */
export function encodeCheckpoint(checkpoint: Checkpoint): string {
  if (!Number.isSafeInteger(checkpoint.rev) || checkpoint.rev < 0) {
    throw new LastwordError('CHECKPOINT_INVALID', `A checkpoint rev must be a non-negative integer, got ${String(checkpoint.rev)}`)
  }
  // Refuse here what decodeCheckpoint would refuse: a token must always decode to what was encoded.
  if (typeof checkpoint.scopeHash !== 'string' || !HASH_PATTERN.test(checkpoint.scopeHash)) {
    throw new LastwordError('CHECKPOINT_INVALID', 'A checkpoint scopeHash must be 14 lowercase hex digits (from hashString)')
  }
  const { since } = checkpoint
  if (since !== undefined && (!Number.isSafeInteger(since) || since < 0 || since >= checkpoint.rev)) {
    throw new LastwordError('CHECKPOINT_INVALID', `A checkpoint's since must be a non-negative integer below its rev, got ${String(since)}`)
  }
  const { lineage } = checkpoint
  if (lineage !== undefined && (!ID_PATTERN.test(lineage.db) || !ID_PATTERN.test(lineage.segment))) {
    throw new LastwordError('CHECKPOINT_INVALID', 'A checkpoint lineage is two ids of 16 lowercase hex digits')
  }
  const prefix = lineage === undefined ? 'lw1' : `lw2.${lineage.db}.${lineage.segment}`
  return since === undefined ? `${prefix}.${checkpoint.rev}.${checkpoint.scopeHash}` : `${prefix}.${checkpoint.rev}~${since}.${checkpoint.scopeHash}`
}

/** Decodes a checkpoint token; anything malformed is `CHECKPOINT_INVALID`. */
export function decodeCheckpoint(token: unknown): Checkpoint {
  const v2 = typeof token === 'string' ? TOKEN2_PATTERN.exec(token) : null
  if (v2 !== null) {
    const rest = decodeCheckpoint(`lw1.${v2[3] as string}${v2[4] === undefined ? '' : `~${v2[4]}`}.${v2[5] as string}`)
    return { ...rest, lineage: { db: v2[1] as string, segment: v2[2] as string } }
  }
  const match = typeof token === 'string' ? TOKEN_PATTERN.exec(token) : null
  if (match === null) {
    throw new LastwordError('CHECKPOINT_INVALID', 'Malformed checkpoint token; drop it and sync without one (full reconciliation)')
  }
  const rev = Number(match[1])
  if (!Number.isSafeInteger(rev)) throw new LastwordError('CHECKPOINT_INVALID', 'Checkpoint rev out of range')
  if (match[2] === undefined) return { rev, scopeHash: match[3] as string }
  const since = Number(match[2])
  if (!Number.isSafeInteger(since) || since >= rev) throw new LastwordError('CHECKPOINT_INVALID', 'Checkpoint since out of range')
  return { rev, since, scopeHash: match[3] as string }
}

/**
 * A 53-bit non-cryptographic hash of a string as 14 hex digits (cyrb53). Used to notice that an
 * effective scope changed, not to protect anything: the server recomputes the scope every time.
 */
export function hashString(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  const value = 4294967296 * (2097151 & h2) + (h1 >>> 0)
  return value.toString(16).padStart(14, '0')
}
