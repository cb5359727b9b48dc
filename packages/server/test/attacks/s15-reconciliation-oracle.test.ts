/**
 * S15, the full-reconciliation oracle (docs/test-matrix.md, invariant I13): a client listing uids in a
 * full reconciliation must learn nothing about records outside its principal's read scope. Before the
 * fix, listing another tenant's uid answered `evict: [[uid, version]]` — the record exists, and its
 * version stamp (whose node id was the writer's clientId) — while an unknown uid answered `purged` or
 * `push`. Checks, through the real wire on better-sqlite3: another tenant's live record and its
 * tombstone answer exactly like a uid that never existed, for every flag combination a client can send;
 * a record that left the client's own filter (still readable) is still evicted with its version (B1);
 * one that left the principal's read scope still leaves the client (as `purged`, without a version).
 */
import type { SyncPage } from '@lastword/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteHarness } from '../fixtures/db.js'
import { newUid, stamp, syncOk, type ClientSocket } from '../transport/harness.js'
import { deleted, startAttackServer, todo, type AttackServer } from './fixture.js'

/** What a page says about the listed uids, with each uid replaced by its position in `uids`. */
function answerAbout(page: SyncPage, uids: readonly string[]): unknown {
  const name = (uid: unknown): string => `uid${uids.indexOf(uid as string)}`
  return {
    rows: page.rows.map((r) => name(r[0])),
    tombstones: page.tombstones.map((t) => name(t[0])),
    evict: page.evict.map(([uid, version]) => [name(uid), version]),
    purged: page.purged.map(name),
    push: page.push.map(name),
  }
}

describe('S15 full-reconciliation oracle', () => {
  let server: AttackServer
  let alice: ClientSocket
  let mallory: ClientSocket

  beforeEach(async () => {
    server = await startAttackServer(sqliteHarness)
    alice = await server.open('alice')
    mallory = await server.open('mallory')
  })
  afterEach(async () => {
    await server.close()
  })

  const full = (socket: ClientSocket, entries: Array<[string, string, boolean, boolean, string | null]>, where: Record<string, unknown> = {}) =>
    syncOk(socket, { table: 'todos', where, full: { cursor: null, entries: [...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1)), complete: true } })

  it("answers another tenant's uids exactly like uids that never existed", async () => {
    const live = newUid()
    const tomb = newUid()
    const created = todo(tomb, 'to delete')
    await syncOk(alice, { table: 'todos', push: [todo(live, 'secret'), created, deleted(created)] })
    const older = stamp('00000000000000cc', Date.now() - 3_600_000)
    const newer = stamp('00000000000000cc')
    // With and without the evidence of R12 (a point of this database's history, or none).
    const point = await server.sync.engine.currentPoint()
    for (const [version, knownAt] of [[older, point], [newer, point], [older, null], [newer, null]] as const) {
      for (const [isDeleted, acknowledged] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        const unknownLive = newUid()
        const unknownTomb = newUid()
        // Listed one by one, so that uid order says nothing either.
        for (const [real, unknown] of [[live, unknownLive], [tomb, unknownTomb]] as const) {
          const a = answerAbout(await full(mallory, [[real, version, isDeleted, acknowledged, knownAt]]), [real])
          const b = answerAbout(await full(mallory, [[unknown, version, isDeleted, acknowledged, knownAt]]), [unknown])
          expect({ version, isDeleted, acknowledged, knownAt, answer: a }).toEqual({ version, isDeleted, acknowledged, knownAt, answer: b })
        }
      }
    }
  })

  it("answers an acknowledged push of another tenant's uid like one of a uid never seen (PURGED)", async () => {
    const uid = newUid()
    await syncOk(alice, { table: 'todos', push: [todo(uid, 'secret')] })
    const before = await server.db.snapshot()
    const knownAt = await server.sync.engine.currentPoint()
    const probe = (target: string) => ({ ...todo(target, 'probe', '00000000000000cc'), acknowledged: true, knownAt })
    const unknown = newUid()
    const [real] = (await syncOk(mallory, { table: 'todos', push: [probe(uid)] })).outcomes
    const [never] = (await syncOk(mallory, { table: 'todos', push: [probe(unknown)] })).outcomes
    expect(JSON.stringify(real).replaceAll(uid, 'UID')).toBe(JSON.stringify(never).replaceAll(unknown, 'UID'))
    expect(real).toMatchObject({ status: 'rejected', error: { code: 'PURGED' } })
    expect(await server.db.snapshot()).toBe(before)
    // The documented residual (docs/guarantees.md, I13): a create of an existing uid is refused where a
    // fresh uid would be created — uids are one namespace per table.
    const [create] = (await syncOk(mallory, { table: 'todos', push: [todo(uid, 'create', '00000000000000cc')] })).outcomes
    expect(create).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } })
  })

  it('still evicts, with its version, a record that left the filter but stays readable (B1)', async () => {
    const uid = newUid()
    const record = todo(uid, 'open')
    await syncOk(alice, { table: 'todos', push: [record] })
    await server.sync.service('todos').update(uid, { done: true })
    const page = await full(alice, [[uid, record.updated_at, false, true, await server.sync.engine.currentPoint()]], { done: false })
    expect(page.evict).toHaveLength(1)
    expect(page.evict[0]?.[0]).toBe(uid)
    expect(page.evict[0]?.[1]).not.toBe(record.updated_at)
  })

  it('a record that left the read scope still leaves the client, without its version', async () => {
    const uid = newUid()
    const record = todo(uid, 'mine')
    await syncOk(alice, { table: 'todos', push: [record] })
    await server.sync.service('todos').update(uid, { tenant: 'bob' })
    const page = await full(alice, [[uid, record.updated_at, false, true, await server.sync.engine.currentPoint()]])
    expect(answerAbout(page, [uid])).toEqual({ rows: [], tombstones: [], evict: [], purged: ['uid0'], push: [] })
  })
})
