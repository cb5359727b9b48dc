/**
 * The push path of local writes (ARCHITECTURE.md, "Push only"): a `lw:sync` with `pull: false` applies
 * its push and answers with the outcomes and the checkpoint it was sent, unchanged — never the rows of a
 * pull; and realtime does not echo a commit to the socket whose request made it, while every other
 * socket (the same user's other tab included) gets it.
 *
 * Deliveries are sent in commit order and socket.io keeps order per socket, so "X was not delivered" is
 * proven by a later event on the same socket arriving without it.
 */
import type { RealtimeEvent } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import { collectChanges, connected, handshake, record, startFixture, syncError, syncOk, type ClientSocket, type Fixture } from './harness.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

async function setup(): Promise<{ as: () => Promise<ClientSocket>; fixture: Fixture }> {
  fixture = await startFixture({})
  const f = fixture
  const as = async (): Promise<ClientSocket> => {
    const socket = f.connect(handshake({}))
    await connected(socket)
    return socket
  }
  return { as, fixture: f }
}

const titles = (events: RealtimeEvent[]): string[] => events.flatMap((e) => e.rows.map((r) => String(r[4])))

describe('push only (pull: false)', () => {
  it('applies the push and answers its outcomes with the checkpoint sent, pulling nothing', async () => {
    const { as } = await setup()
    const [writer, other] = await Promise.all([as(), as()])
    const start = await syncOk(writer, { table: 'todos', full: { cursor: null, entries: [], complete: true } })
    const checkpoint = start.checkpoint as string
    // Someone else's write since that checkpoint: a pull would bring it; a push-only answer does not.
    await syncOk(other, { table: 'todos', push: [record({ project: 'p', title: 'theirs', done: false })] })
    const mine = record({ project: 'p', title: 'mine', done: false })
    const page = await syncOk(writer, { table: 'todos', checkpoint, push: [mine], pull: false })
    expect(page.outcomes).toEqual([{ uid: mine.uid, status: 'applied' }])
    expect(page).toMatchObject({ mode: 'incremental', checkpoint, hasMore: false, rows: [], tombstones: [], evict: [] })
    // The write is committed: a pull from the same checkpoint brings both.
    const pulled = await syncOk(writer, { table: 'todos', checkpoint })
    expect(pulled.rows.map((r) => r[4]).sort()).toEqual(['mine', 'theirs'])
  })

  it('is refused without a checkpoint or with a full reconciliation, and writes nothing', async () => {
    const { as } = await setup()
    const writer = await as()
    const mine = record({ project: 'p', title: 'mine', done: false })
    expect((await syncError(writer, { table: 'todos', where: {}, checkpoint: null, push: [mine], pull: false })).code).toBe('BAD_REQUEST')
    const full = { cursor: null, entries: [], complete: true }
    expect((await syncError(writer, { table: 'todos', where: {}, checkpoint: null, push: [mine], pull: false, full })).code).toBe('BAD_REQUEST')
    // `pull: true` is no value of the field: only `false` (push only) or nothing.
    expect((await syncError(writer, { table: 'todos', where: {}, checkpoint: null, push: [], pull: true })).code).toBe('BAD_REQUEST')
    const page = await syncOk(writer, { table: 'todos', full })
    expect(page.rows).toEqual([])
  })

  it('does not echo a commit to the socket that pushed it; the same user on another socket gets it', async () => {
    const { as } = await setup()
    const [writer, tab, third] = await Promise.all([as(), as(), as()])
    const writerEvents = collectChanges(writer)
    const tabEvents = collectChanges(tab)
    const full = { cursor: null, entries: [], complete: true }
    const { checkpoint } = await syncOk(writer, { table: 'todos', full, subscription: 'w' })
    await syncOk(tab, { table: 'todos', full, subscription: 't' })

    await syncOk(writer, { table: 'todos', checkpoint, push: [record({ project: 'p', title: 'own', done: false })], pull: false, subscription: 'w' })
    await syncOk(third, { table: 'todos', push: [record({ project: 'p', title: 'later', done: false })] })
    await expect.poll(() => titles(tabEvents)).toEqual(['own', 'later'])
    await expect.poll(() => titles(writerEvents)).toEqual(['later'])
    // A pushing lw:sync that pulls is not echoed either: its page brings what it committed.
    const page = await syncOk(writer, { table: 'todos', checkpoint, push: [record({ project: 'p', title: 'pulled', done: false })], subscription: 'w' })
    expect(page.rows.map((r) => r[4]).sort()).toEqual(['later', 'own', 'pulled'])
    await syncOk(third, { table: 'todos', push: [record({ project: 'p', title: 'last', done: false })] })
    await expect.poll(() => titles(tabEvents)).toEqual(['own', 'later', 'pulled', 'last'])
    await expect.poll(() => titles(writerEvents)).toEqual(['later', 'last'])
  })
})
