import { describe, expect, it } from 'vitest'
import { advanceSeen, historyOfPoint, pointCovers } from './lineage.js'

const A = 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb'
const B = 'aaaaaaaaaaaaaaaa.cccccccccccccccc'

describe('points of one history (SPEC.md E5, R12)', () => {
  it('names the history of a point, and none of a malformed one', () => {
    expect(historyOfPoint(`${A}.12`)).toBe(A)
    expect(historyOfPoint('lw1.12.00')).toBeUndefined()
    expect(historyOfPoint(null)).toBeUndefined()
  })
  it('a point covers another of its history at or before it, never one of another history', () => {
    expect(pointCovers(`${A}.12`, `${A}.12`)).toBe(true)
    expect(pointCovers(`${A}.12`, `${A}.3`)).toBe(true)
    expect(pointCovers(`${A}.3`, `${A}.12`)).toBe(false)
    expect(pointCovers(`${B}.99`, `${A}.3`)).toBe(false) // after a restore, rev 99 of another segment says nothing
    expect(pointCovers(undefined, `${A}.3`)).toBe(false)
    expect(pointCovers(`${A}.9999999999999999`, `${A}.3`)).toBe(false) // past the safe integers
  })
  it('a scope remembers the furthest point of one history, and never lets another history replace it (B19)', () => {
    expect(advanceSeen(undefined, `${A}.3`)).toBe(`${A}.3`)
    expect(advanceSeen(`${A}.3`, `${A}.12`)).toBe(`${A}.12`)
    expect(advanceSeen(`${A}.12`, `${A}.3`)).toBe(`${A}.12`)
    // After a restart or a restore the server answers from another segment: the unsettled point stays,
    // so the server hears of it (and reconciles the scope in full if it lost it).
    expect(advanceSeen(`${A}.13`, `${B}.54`)).toBe(`${A}.13`)
    expect(advanceSeen('garbage', `${B}.54`)).toBe(`${B}.54`)
  })
})
