// Pushes in progress: one record version is never pushed by two requests at once.
import { describe, expect, it } from 'vitest'
import { createPushesInProgress } from '../../src/sync/pushes-in-progress.js'
import { todo } from './fixture.js'

describe('pushes in progress', () => {
  it('holds a version until released; a newer version of the record is another push', () => {
    const pushes = createPushesInProgress()
    const v1 = todo('a', 1, { dirty: true })
    const v2 = todo('a', 2, { dirty: true })
    pushes.take([v1])
    expect(pushes.has(v1)).toBe(true)
    expect(pushes.has(v2)).toBe(false)
    expect(pushes.has({ ...v1, table: 'other' })).toBe(false)
    pushes.release([v1])
    expect(pushes.has(v1)).toBe(false)
  })

  it('does not release a newer version another request took meanwhile', () => {
    const pushes = createPushesInProgress()
    const v1 = todo('a', 1, { dirty: true })
    const v2 = todo('a', 2, { dirty: true })
    pushes.take([v1])
    pushes.take([v2])
    pushes.release([v1])
    expect(pushes.has(v2)).toBe(true)
  })
})
