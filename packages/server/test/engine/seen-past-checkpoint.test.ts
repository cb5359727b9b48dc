/**
 * B16: realtime never moves a checkpoint, so a client can hold records of a point past its checkpoint.
 * After a restore to a backup taken between the two, the checkpoint is part of the restored history and
 * an incremental pull would be answered — missing what the client took from the lost future. The
 * request's `seen` names that point; a point the database's history does not hold makes the pull a
 * full reconciliation (R12), one it holds changes nothing.
 */
import { describe, expect, it } from 'vitest'
import { sqliteHarness } from '../fixtures/db.js'
import { live, principal, request, stamp, todo } from './helpers.js'
import { tenantEngine } from './tenant-engine.js'

describe('an incremental pull with a point seen past its checkpoint', () => {
  const fx = tenantEngine(() => sqliteHarness.open())
  const A = principal('alice', 'A')

  it('is answered when the point is of this history, and asks for a resync when it is not', async () => {
    const first = await fx.engine.sync(A, request('todos', { full: { cursor: null, entries: [], complete: true } }))
    const checkpoint = first.checkpoint as string
    await fx.engine.sync(A, request('todos', { push: [live('r1', stamp(1), todo({ title: 'r1' }))] }))
    const point = await fx.engine.currentPoint()
    const [db, segment, rev] = point.split('.') as [string, string, string]
    const inHistory = await fx.engine.sync(A, request('todos', { checkpoint, seen: point }))
    expect(inHistory.mode).toBe('incremental')
    // Past the end of this segment: a future this database does not hold (it was restored from a backup).
    const lost = await fx.engine.sync(A, request('todos', { checkpoint, seen: `${db}.${segment}.${Number(rev) + 50}` }))
    expect(lost).toMatchObject({ mode: 'resync', reason: 'restored' })
    const other = await fx.engine.sync(A, request('todos', { checkpoint, seen: `${'f'.repeat(16)}.${segment}.1` }))
    expect(other).toMatchObject({ mode: 'resync', reason: 'other-database' })
  })
})
