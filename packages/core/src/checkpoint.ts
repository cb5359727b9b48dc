/**
 * Checkpoint tokens (design.md, "Sync protocol"): the server `rev` a client has seen for a scope plus a
 * hash of the effective scope (the client's filter AND what `authorize` allowed). When the hash no
 * longer matches — a membership was revoked, say — the server answers with full reconciliation.
 */
import { LastwordError } from './errors.js'

/** A decoded checkpoint. */
export interface Checkpoint {
  rev: number
  scopeHash: string
}

// rev: canonical decimal (no leading zeros) up to 16 digits, so every safe integer round-trips.
const TOKEN_PATTERN = /^lw1\.(0|[1-9]\d{0,15})\.([0-9a-f]{14})$/
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
  return `lw1.${checkpoint.rev}.${checkpoint.scopeHash}`
}

/** Decodes a checkpoint token; anything malformed is `CHECKPOINT_INVALID`. */
export function decodeCheckpoint(token: unknown): Checkpoint {
  const match = typeof token === 'string' ? TOKEN_PATTERN.exec(token) : null
  if (match === null) {
    throw new LastwordError('CHECKPOINT_INVALID', 'Malformed checkpoint token; drop it and sync without one (full reconciliation)')
  }
  const rev = Number(match[1])
  if (!Number.isSafeInteger(rev)) throw new LastwordError('CHECKPOINT_INVALID', 'Checkpoint rev out of range')
  return { rev, scopeHash: match[2] as string }
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
