/**
 * Row S13, attack 4: many costly subscriptions must not make every commit expensive. One socket keeps
 * 24 live subscriptions (the limit is 64; 24 keep the test short and still cost seconds per commit
 * when filters are validated per delivery), each filtering on `in` 1,000 values of 1 KB, then commits
 * to the table 8 times. Checks, on a real server on loopback (SQLite):
 *  - liveness: a bystander tenant's trivial sync is answered, and its own commit reaches its realtime
 *    subscriber, each within 5 s while the attacker's commits fan out;
 *  - bounded work: a client's filter is validated and compiled when the sync or subscription carrying
 *    it is made, never again per commit — counted through the engine's `onFilterCompiled` seam, by
 *    size (conditions plus `in` values): the commits compile nothing but their own empty filters.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteHarness, type TestDb } from '../fixtures/db.js'
import { collectChanges, record, syncRequest, waitFor } from '../transport/harness.js'
import { costlyValues, startScopeCostServer } from './scope-cost-fixture.js'

const SUBSCRIPTIONS = 24
const COMMITS = 8
const LIVENESS_MS = 5_000

describe('S13 subscription fan-out (SQLite)', () => {
  let t: TestDb
  beforeEach(async () => {
    t = await sqliteHarness.open()
  })
  afterEach(async () => {
    await t.close()
  })

  it('costly subscriptions are compiled once; a bystander is served while commits fan out', async () => {
    const compiled: number[] = []
    const server = await startScopeCostServer(t, { hooks: { onFilterCompiled: (event) => void compiled.push(event.size) } })
    try {
      const attacker = await server.connect('mallory')
      for (let batch = 0; batch < SUBSCRIPTIONS; batch += 8) {
        const replies = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            syncRequest(attacker, { table: 'notes', where: { body: { in: costlyValues(1_000, `s${batch + i}`) } }, checkpoint: null, push: [], subscription: `s${batch + i}` }, 60_000),
          ),
        )
        expect(replies.every((r) => r.ok)).toBe(true)
      }
      const writer = await server.connect('bob')
      const listener = await server.connect('bob')
      const seen = collectChanges(listener)
      expect((await syncRequest(listener, { table: 'notes', where: {}, checkpoint: null, push: [], subscription: 'mine' })).ok).toBe(true)
      const before = compiled.length

      // Commits by the attacker, each fanning out to its costly subscriptions.
      const commits = Array.from({ length: COMMITS }, (_, i) =>
        syncRequest(attacker, { table: 'notes', where: {}, checkpoint: null, push: [record({ body: `mine ${i}` })] }, 120_000).catch((error: unknown) => ({
          ok: false as const,
          error,
        })),
      )
      const mine = record({ body: 'bystander note' })
      const answer = await syncRequest(writer, { table: 'notes', where: {}, checkpoint: null, push: [mine] }, LIVENESS_MS).catch((error: unknown) => {
        throw new Error(`the bystander's sync was not answered within ${LIVENESS_MS} ms (${String(error)})`)
      })
      expect(answer.ok).toBe(true)
      await waitFor(() => seen.some((e) => e.rows.some((r) => r[0] === mine.uid)), LIVENESS_MS, "the bystander's realtime delivery")
      expect((await Promise.all(commits)).every((r) => r.ok)).toBe(true)

      // Bounded work: each costly filter was compiled when its subscription was made (by the sync, and
      // once for the subscription), and the commits compiled only their own (empty) filters.
      expect(compiled.slice(0, before).filter((size) => size >= 1_000).length).toBe(2 * SUBSCRIPTIONS)
      const during = compiled.slice(before)
      expect(during.filter((size) => size >= 1_000)).toEqual([])
      expect(during.length).toBe(COMMITS + 1)
      // Isolation held: the bystander saw only its own note.
      expect(seen.flatMap((e) => e.rows.map((r) => r[0]))).toEqual([mine.uid])
    } finally {
      await server.close()
    }
  }, 60_000)
})
