/**
 * S17, values the database refuses (docs/test-matrix.md, invariant I12), on PostgreSQL: the `integer`
 * type accepted any safe integer, but PostgreSQL's `integer` is int4. A 5,000-record push carrying 2^31
 * was written as one batch, refused by the database, rolled back and redone with one savepoint per row —
 * all under the table's exclusive advisory lock (about 5 s; three such pushes held another tenant's sync
 * 15 s). Column descriptors now carry their width (read from the Drizzle columns) and core's
 * normalizeValue checks it at the edge. Checks, through the real wire: each out-of-range record is
 * refused INVALID_VALUE naming its column before any transaction (the database never refuses it: its
 * error would carry the SQLSTATE instead), the others are applied, the descriptor on `lw:hello` carries
 * `bits: 32`, and a bystander's trivial syncs, repeated while three such pushes run, are each answered
 * within a generous liveness bound (10 s).
 */
import { describe, expect, it } from 'vitest'
import type { WireRecord } from '@lastword/core'
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { connected, newClientId, newUid, sleep, stamp, syncRequest } from '../transport/harness.js'
import { startAttackServer } from './fixture.js'

const available = await requirePostgres()
const RECORDS = 5_000
const LIVENESS_MS = 10_000

describe.skipIf(!available)('S17 integer width (postgres)', () => {
  it('refuses out-of-range integers per record at the edge; the rest apply; a bystander stays served', async () => {
    const server = await startAttackServer(pgHarness(8))
    try {
      const hello = connected(server.socket('bystander'))
      const descriptor = (await hello).tables.find((t) => t.name === 'todos')
      expect(descriptor?.columns.find((c) => c.name === 'priority')).toMatchObject({ type: 'integer', bits: 32 })
      const bystander = await server.open('bystander')
      const attackers = await Promise.all([0, 1, 2].map((i) => server.open(`attacker${i}`, newClientId())))

      const pushOf = (): WireRecord[] =>
        Array.from({ length: RECORDS }, (_, i) => {
          const s = stamp()
          return { uid: newUid(), created_at: s, updated_at: s, deleted_at: null, row: { title: `r${i}`, done: false, priority: i % 10 === 0 ? 2 ** 31 : i } }
        })
      let done = false
      const pushes = Promise.all(attackers.map((socket) => syncRequest(socket, { table: 'todos', where: {}, checkpoint: null, push: pushOf() }, 120_000))).finally(
        () => (done = true),
      )
      // The bystander syncs again and again for as long as the pushes run; its slowest answer is the bound.
      let worst = 0
      let probes = 0
      while (!done) {
        const started = Date.now()
        const answer = await syncRequest(bystander, { table: 'todos', where: {}, checkpoint: null, push: [] }, 120_000)
        expect(answer.ok).toBe(true)
        worst = Math.max(worst, Date.now() - started)
        probes++
        await sleep(50)
      }
      expect(worst).toBeLessThan(LIVENESS_MS)

      for (const reply of await pushes) {
        expect(reply.ok).toBe(true)
        if (!reply.ok) continue
        const outcomes = reply.data.outcomes ?? []
        expect(outcomes).toHaveLength(RECORDS)
        outcomes.forEach((outcome, i) => {
          if (i % 10 === 0) {
            expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'INVALID_VALUE', details: { column: 'priority' } } })
          } else {
            expect(outcome.status).toBe('applied')
          }
        })
      }
      const [count] = await server.db.raw('SELECT count(*)::int AS n FROM todos')
      expect(count?.['n']).toBe(3 * (RECORDS - RECORDS / 10))
      console.log(`[S17] bystander: ${probes} syncs, the slowest answered in ${worst} ms while three ${RECORDS}-record pushes ran`)
    } finally {
      await server.close()
    }
  }, 180_000)
})
