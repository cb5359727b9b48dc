/**
 * Attack S19 (docs/test-matrix.md): `close()` with syncs in flight. It used to disconnect every socket
 * and close the engine under running syncs (their answers lost, or INTERNAL from a closed database).
 * Checks on loopback that once `close()` starts a new request is refused with `CLOSED`, that the syncs
 * in flight finish and are answered (their writes applied whole, no INTERNAL), and that `close()`
 * resolves only after them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { connected, handshake, record, startFixture, syncError, syncRequest, waitFor, type Fixture } from '../transport/harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

describe('S19: close() drains', () => {
  it('refuses new requests with CLOSED and lets the syncs in flight finish and answer', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let gating = false
    let waiting = 0
    fixture = await startFixture({
      authorize: async (request) => {
        // Every sync asks for its read scope first (writes then queue on the table's lock): hold them there.
        if (gating && request.op === 'read') {
          waiting++
          await gate
        }
        return true
      },
    })
    const writers = Array.from({ length: 3 }, () => fixture!.connect(handshake()))
    const late = fixture.connect(handshake())
    await Promise.all([...writers, late].map(connected))
    gating = true
    const replies = writers.map((socket) =>
      syncRequest(socket, { table: 'todos', where: {}, checkpoint: null, push: [record({ project: 'p', title: 't', done: false })] }),
    )
    await waitFor(() => waiting === 3, 5_000, 'three syncs in flight')

    let closedAt: number | undefined
    const closing = fixture.sync.close().then(() => (closedAt = Date.now()))
    const refused = await syncError(late, { table: 'todos', where: {}, checkpoint: null, push: [] })
    expect(refused.code).toBe('CLOSED')
    expect(closedAt).toBeUndefined()

    const releasedAt = Date.now()
    release()
    for (const reply of await Promise.all(replies)) {
      expect(reply.ok).toBe(true)
      if (reply.ok) expect(reply.data.outcomes?.map((o) => o.status)).toEqual(['applied'])
    }
    await closing
    expect(closedAt).toBeGreaterThanOrEqual(releasedAt)
    expect(fixture.rows()).toHaveLength(3)
    expect(fixture.logs.filter((l) => l.level === 'error')).toEqual([])
  })
})
