/**
 * T20 (restore from an older backup) and T21 (another database at the same URL), docs/test-matrix.md,
 * run on each dialect by `restore.test.ts` (SQLite) and `restore.pg.test.ts` (PostgreSQL). Invariant
 * I11: nothing a client holds is dropped unless the server can show it was deleted or purged (SPEC.md
 * R12), and no client reports "synced" while it diverges.
 *
 * Before R12 the restored server answered the clients' full reconciliation with `purged` for every
 * record acknowledged after the backup, and the clients deleted the only copies of them.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { eventually, settle } from '../fixture.js'
import { follow, heldStates, liveTitles, openSite, type Item, type Site } from './harness.js'

const item = (title: string): Item => ({ list: 'a', title, done: false, n: null })

/** Erasure on request, on the same real parts (scenarios below). */
export function erasureScenarios(dialect: 'sqlite' | 'postgres'): void {
  let site: Site
  beforeEach(async () => {
    site = await openSite(dialect, 'erase')
  })
  afterEach(async () => {
    await site.close()
  })

  it('an erased record leaves every client (a dirty copy too) and the server\'s history; nothing else changes', async () => {
    const a = site.client()
    const b = site.client()
    await Promise.all([follow(a), follow(b)])
    const secret = await a.table<Item>('items').create(item('to erase'))
    const other = await a.table<Item>('items').create(item('stays'))
    const deleted = await a.table<Item>('items').create(item('deleted, then erased'))
    await settle(a)
    await eventually(async () => {
      await settle(b)
      expect(await b.table<Item>('items').record(secret)).not.toBeNull()
    })
    await b.table<Item>('items').update(secret, { title: 'to erase, edited' })
    await a.table<Item>('items').delete(deleted)
    await Promise.all([settle(a), settle(b)])
    await settle(a)
    // b holds a dirty edit of it while offline.
    b.disconnect()
    await b.table<Item>('items').update(secret, { title: 'edited offline' })
    const before = (await site.states()).filter((s) => s.uid === other)

    expect(await site.sync.erase('items', secret)).toBe(true)
    expect(await site.sync.erase('items', deleted)).toBe(true)
    expect(await site.sync.erase('items', 'never-existed')).toBe(false)
    for (const uid of [secret, deleted]) {
      expect(await site.query(`SELECT uid FROM items WHERE uid = '${uid}'`)).toEqual([])
      expect(await site.query(`SELECT uid FROM lastword_meta WHERE uid = '${uid}'`)).toEqual([])
      expect(await site.query(`SELECT uid FROM lastword_changes WHERE uid = '${uid}'`)).toEqual([])
    }
    b.connect()
    await eventually(async () => {
      await settle(a)
      await settle(b)
      for (const c of [a, b]) {
        expect(await c.table<Item>('items').record(secret)).toBeNull()
        expect(await c.table<Item>('items').record(deleted)).toBeNull()
        expect(await liveTitles(c)).toEqual([[other, 'stays']])
      }
    }, 30_000)
    // Not created again by b's dirty edit (R10, the evidence of R12: b's knowledge is of this history).
    expect(await site.query(`SELECT uid FROM lastword_meta WHERE uid = '${secret}'`)).toEqual([])
    expect((await site.states()).filter((s) => s.uid === other)).toEqual(before)
    expect((await site.states()).map((s) => s.uid)).toEqual([other])
  })
}

export function restoreScenarios(dialect: 'sqlite' | 'postgres'): void {
  let site: Site
  beforeEach(async () => {
    site = await openSite(dialect, 'restore')
  })
  afterEach(async () => {
    await site.close()
  })

  /** Syncs every client until all agree with the server: the server's live records, on every client. */
  async function converge(clients: readonly SyncClient[]): Promise<Array<[string, string]>> {
    return eventually(async () => {
      for (const c of clients) await settle(c)
      const server = (await site.states()).filter((s) => s.deleted_at === null).map((s): [string, string] => [s.uid, s.title as string])
      for (const c of clients) expect(await liveTitles(c)).toEqual(server)
      return server
    }, 30_000)
  }

  it('T20: records created after the backup come back from the clients with their original stamps; a tombstone stays; new writes on the restored database land too', async () => {
    const a = site.client()
    const b = site.client()
    await Promise.all([follow(a), follow(b)])
    const r1 = await a.table<Item>('items').create(item('r1 before the backup'))
    const gone = await a.table<Item>('items').create(item('deleted after the backup'))
    await converge([a, b])
    await site.backup()

    const r2 = await a.table<Item>('items').create(item('r2 after the backup'))
    const r3 = await b.table<Item>('items').create(item('r3 after the backup'))
    await b.table<Item>('items').update(r1, { title: 'r1 edited after the backup' })
    await a.table<Item>('items').delete(gone)
    await converge([a, b])
    const held = await heldStates(a, [r1, r2, r3, gone])
    expect(held.map((s) => s.uid).sort()).toEqual([r1, r2, r3, gone].sort())

    a.disconnect()
    b.disconnect()
    await site.offline('restore')
    // New writes on the restored database carry its rev past the clients' checkpoints before they return.
    const fresh: string[] = []
    for (let i = 0; i < 8; i++) fresh.push(await site.sync.service('items').create(item(`written after the restore ${i}`)))
    a.connect()
    b.connect()

    const live = await converge([a, b])
    expect(live.map(([uid]) => uid).sort()).toEqual([r1, r2, r3, ...fresh].sort())
    // Original stamps: the server stores exactly what the clients held, not a re-stamped copy.
    const after = await site.states()
    for (const s of held) expect(after.find((x) => x.uid === s.uid)).toEqual(s)
    expect(after.find((x) => x.uid === gone)?.deleted_at).not.toBeNull()
  })

  it('T20: a purge before the backup still drops exactly what was purged; nothing else a client holds is dropped', async () => {
    const a = site.client()
    const c = site.client()
    await Promise.all([follow(a), follow(c)])
    const keep = await a.table<Item>('items').create(item('kept'))
    const purged = await a.table<Item>('items').create(item('deleted and purged before the backup'))
    await converge([a, c])
    // c goes offline holding `purged` live; it is deleted and its tombstone purged meanwhile.
    c.disconnect()
    await a.table<Item>('items').delete(purged)
    await settle(a)
    const result = await site.sync.purge({ olderThanMs: 0 })
    expect(result.tombstones).toBe(1)
    await site.backup()
    const later = await a.table<Item>('items').create(item('after the backup'))
    await settle(a)

    a.disconnect()
    await site.offline('restore')
    const purgedSeen: string[] = []
    c.on('sync', (report) => purgedSeen.push(...report.purged))
    a.connect()
    c.connect()
    const live = await converge([a, c])
    expect(live.map(([uid]) => uid).sort()).toEqual([keep, later].sort())
    expect(purgedSeen).toEqual([purged])
    expect(await c.table<Item>('items').record(purged)).toBeNull()
  })

  it('T21: a client synced against one database meets another at the same URL: its data is offered to the new one, never dropped, never "synced" while divergent', async () => {
    const a = site.client()
    await follow(a)
    const mine = await a.table<Item>('items').create(item('mine'))
    const deleted = await a.table<Item>('items').create(item('deleted on A'))
    await a.table<Item>('items').delete(deleted)
    await settle(a)
    const held = await heldStates(a, [mine])

    a.disconnect()
    await site.offline('replace')
    const theirs = await site.sync.service('items').create(item('seeded in B'))
    a.connect()

    // Afterwards: B's records plus what the client held, pushed with its stamps.
    const live = await converge([a])
    expect(live.map(([uid]) => uid).sort()).toEqual([mine, theirs].sort())
    const after = await site.states()
    expect(after.find((s) => s.uid === mine)).toEqual(held[0])
    expect(after.find((s) => s.uid === deleted)?.deleted_at).not.toBeNull()
  })
}
