import { describe, expect, it } from 'vitest'
import { isNodeId, isUid } from '@lastword/core'
import { uuidv7 } from '../src/index.js'
import { randomNodeId } from '../src/ids.js'
import { createManualRuntime } from '../src/testing/index.js'

describe('ids', () => {
  it('makes RFC 9562 UUIDv7s that carry their time and sort by it', () => {
    const ms = Date.UTC(2025, 0, 2, 3, 4, 5, 678)
    const uid = uuidv7(ms)
    expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(Number.parseInt(uid.replace(/-/g, '').slice(0, 12), 16)).toBe(ms)
    expect(isUid(uid)).toBe(true)
    expect(uuidv7(ms + 1) > uuidv7(ms)).toBe(true)
    expect(new Set(Array.from({ length: 1_000 }, () => uuidv7(ms))).size).toBe(1_000)
  })

  it('lays the time out big-endian over 48 bits, at both ends of its range, with version and variant set', () => {
    const zeros = { now: () => 0, randomBytes: (n: number) => new Uint8Array(n) }
    const ones = { now: () => 0, randomBytes: (n: number) => new Uint8Array(n).fill(0xff) }
    expect(uuidv7(0, zeros)).toBe('00000000-0000-7000-8000-000000000000')
    expect(uuidv7(2 ** 48 - 1, ones)).toBe('ffffffff-ffff-7fff-bfff-ffffffffffff')
    expect(uuidv7(2 ** 48 + 5, zeros)).toBe('ffffffff-ffff-7000-8000-000000000000') // clamped
    expect(uuidv7(0x0123_4567_89ab, zeros)).toBe('01234567-89ab-7000-8000-000000000000')
  })

  it('makes a fresh 16-hex-digit node id per call', () => {
    const a = randomNodeId()
    expect(isNodeId(a)).toBe(true)
    expect(randomNodeId()).not.toBe(a)
  })

  it('takes its time and randomness from the runtime: a seeded runtime makes the same ids', () => {
    const ids = () => {
      const runtime = createManualRuntime({ start: Date.UTC(2025, 0, 1), seed: 42 })
      return [uuidv7(undefined, runtime), randomNodeId(runtime)]
    }
    const [uid, node] = ids()
    expect(ids()).toEqual([uid, node])
    expect(Number.parseInt(uid!.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2025, 0, 1))
  })
})
