/**
 * The cluster's bookkeeping: which revs a node has delivered (gaps are missed publications), and the
 * message one node sends the others after a commit.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { formatStamp } from '@lastword/core'
import { createRevTracker } from '../../src/feed/revs.js'
import { decodeCommitted, encodeCommitted } from '../../src/cluster/message.js'
import type { CommittedChange } from '../../src/types.js'

describe('rev tracker', () => {
  it('advances the watermark over contiguous revs and reports the gaps', () => {
    const t = createRevTracker(10)
    t.add(11, 12)
    expect(t.watermark).toBe(12)
    t.add(15, 15)
    t.add(18, 20)
    expect(t.watermark).toBe(12)
    expect(t.gaps(25)).toEqual([
      [13, 14],
      [16, 17],
      [21, 25],
    ])
    expect(t.gaps(16)).toEqual([
      [13, 14],
      [16, 16],
    ])
    t.add(13, 17)
    expect(t.watermark).toBe(20)
    expect(t.gaps(20)).toEqual([])
    t.add(5, 8) // below the watermark: nothing changes
    expect(t.watermark).toBe(20)
    t.skipTo(30)
    expect(t.watermark).toBe(30)
    t.add(31, 31)
    expect(t.watermark).toBe(31)
  })

  it('says whether a rev was delivered: at or under the watermark, or in a delivered range above it', () => {
    const t = createRevTracker(10)
    t.add(15, 16)
    expect([9, 10, 11, 14, 15, 16, 17].map((r) => t.has(r))).toEqual([true, true, false, false, true, true, false])
  })

  it('whatever the order of deliveries, the watermark is the longest delivered prefix and gaps are exactly what is missing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 5 })), { maxLength: 40 }), (blocks) => {
        const t = createRevTracker()
        const delivered = new Set<number>()
        for (const [first, n] of blocks) {
          t.add(first, first + n)
          for (let r = first; r <= first + n; r++) delivered.add(r)
        }
        let prefix = 0
        while (delivered.has(prefix + 1)) prefix++
        expect(t.watermark).toBe(prefix)
        const missing: number[] = []
        for (const [lo, hi] of t.gaps(70)) for (let r = lo; r <= hi; r++) missing.push(r)
        const expected = Array.from({ length: 70 - prefix }, (_, i) => prefix + 1 + i).filter((r) => !delivered.has(r))
        expect(missing).toEqual(expected)
      }),
    )
  })
})

describe('lw:committed messages', () => {
  const stamp = formatStamp({ ms: 1_700_000_000_000, counter: 0, node: '0123456789abcdef' })
  const change = (rev: number, body = 'x'): CommittedChange => ({
    table: 'items',
    uid: `u${rev}`,
    rev,
    meta: { uid: `u${rev}`, created_at: stamp, updated_at: stamp, deleted_at: null },
    before: null,
    after: { title: body },
    lastImage: null,
  })

  it('round-trips the changes with their rev range', () => {
    const message = encodeCommitted('n1', [change(7), change(8)], 10_000)
    expect(message).toMatchObject({ v: 1, node: 'n1', first: 7, last: 8 })
    expect(decodeCommitted(JSON.parse(JSON.stringify(message)))?.changes).toEqual([change(7), change(8)])
  })

  it('leaves out changes over the size limit (receivers read them from the database)', () => {
    const message = encodeCommitted('n1', [change(3, 'y'.repeat(2_000))], 1_000)
    expect(message?.changes).toBeNull()
    expect(decodeCommitted(message)).toEqual({ message, changes: null })
  })

  it('refuses what is not a well-formed message', () => {
    for (const bad of [null, 1, {}, { v: 2, node: 'n', first: 1, last: 1, changes: null }, { v: 1, node: 'n', first: 3, last: 2, changes: null }]) {
      expect(decodeCommitted(bad)).toBeNull()
    }
    const tampered = { v: 1, node: 'n', first: 1, last: 1, changes: JSON.stringify([{ ...change(1), meta: { uid: 'other' } }]) }
    expect(decodeCommitted(tampered)).toBeNull()
  })
})
