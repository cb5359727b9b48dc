/**
 * Equal version, different content (SPEC.md R11): a push that reuses a record's stored version with
 * other content cannot come from an honest clock. Before the fix it was answered `applied` (R6, "the
 * same write seen twice") while the old content stayed, so the client and the server disagreed at one
 * version for ever. Checks, through the real wire on better-sqlite3: another row, and a tombstone, at
 * the stored version are each refused `INVALID_STAMP` and write nothing; the same write again is still
 * `applied` (I5, a duplicate delivery).
 */
import type { WireRecord } from '@lastword/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteHarness } from '../fixtures/db.js'
import { newUid, stamp, syncOk, type ClientSocket } from '../transport/harness.js'
import { startAttackServer, todo, type AttackServer } from './fixture.js'

describe('R11 equal version, different content', () => {
  let server: AttackServer
  let alice: ClientSocket

  beforeEach(async () => {
    server = await startAttackServer(sqliteHarness)
    alice = await server.open('alice')
  })
  afterEach(async () => {
    await server.close()
  })

  const push = async (...records: WireRecord[]) => (await syncOk(alice, { table: 'todos', push: records })).outcomes

  it('refuses other content at the stored version with INVALID_STAMP and keeps the stored write', async () => {
    const uid = newUid()
    const first = todo(uid, 'first')
    expect(await push(first)).toEqual([{ uid, status: 'applied' }])
    const before = await server.db.snapshot()

    const otherRow = { ...first, row: { title: 'second', done: true } }
    const early = stamp('00000000000000aa', Date.now() - 60_000)
    const tombstone = { uid, created_at: early, updated_at: early, deleted_at: first.updated_at, row: null }
    for (const record of [otherRow, tombstone]) {
      const [outcome] = await push(record)
      expect(outcome).toMatchObject({ uid, status: 'rejected', error: { code: 'INVALID_STAMP' } })
    }
    expect(await server.db.snapshot()).toBe(before)

    // A duplicate delivery of the same write is still the same write seen twice.
    expect(await push(first)).toEqual([{ uid, status: 'applied' }])
    expect(await server.db.snapshot()).toBe(before)
  })
})
