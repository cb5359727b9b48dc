/**
 * Identifiers made on the client: record uids (UUIDv7, so an offline create needs no server) and node
 * ids (one per client instance: each tab is its own writer, design.md "Stamps").
 */
import { nodeIdFromBytes } from '@lastword/core'

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  globalThis.crypto.getRandomValues(bytes)
  return bytes
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix time in ms, then version and variant bits around 74 random bits.
 * Time-ordered, so uid order roughly follows creation order.
 *
 * @param ms the time to embed (defaults to `Date.now()`); the client passes its corrected clock.
 */
export function uuidv7(ms: number = Date.now()): string {
  const bytes = randomBytes(16)
  const time = Math.max(0, Math.min(Math.floor(ms), 0xffff_ffff_ffff))
  // 48-bit big-endian time: split in two because bit operators work on 32 bits.
  const high = Math.floor(time / 0x1_0000_0000)
  const low = time >>> 0
  bytes[0] = (high >>> 8) & 0xff
  bytes[1] = high & 0xff
  bytes[2] = (low >>> 24) & 0xff
  bytes[3] = (low >>> 16) & 0xff
  bytes[4] = (low >>> 8) & 0xff
  bytes[5] = low & 0xff
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f) // version 7
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f) // variant 10
  let out = ''
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-'
    out += HEX[bytes[i] as number]
  }
  return out
}

/** A fresh node id: 16 lowercase hex digits from `crypto.getRandomValues`. */
export function randomNodeId(): string {
  return nodeIdFromBytes(randomBytes(8))
}

/** A short random id for realtime subscriptions (client-chosen, unique per socket). */
export function randomSubscriptionId(): string {
  return `s${nodeIdFromBytes(randomBytes(8))}`
}
