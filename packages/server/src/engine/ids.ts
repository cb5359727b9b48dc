/** Random ids the engine makes: its clock's node id and the uids of records created by services. */
import { randomBytes } from 'node:crypto'
import { nodeIdFromBytes } from '@lastword/core'

/** A random HLC node id (16 hex digits). */
export function randomNodeId(): string {
  return nodeIdFromBytes(randomBytes(8))
}

/** A UUIDv7 (RFC 9562): 48 bits of ms, then random bits; sorts by creation time. */
export function uuidv7(nowMs: number): string {
  const bytes = randomBytes(16)
  let ms = Math.max(0, Math.floor(nowMs))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f)
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
