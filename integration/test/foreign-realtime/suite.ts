/**
 * Row T24 by realtime (docs/test-matrix.md): a write to a synced table that never went through lastword
 * — the app's plain Drizzle `insert`, `update`, `delete` on the server's database, raw SQL on a second
 * connection — reaches a client that is already subscribed, as a realtime event, and shows in its live
 * query, without the client syncing: its `lw:sync` count does not move. The feed's backstop check is an
 * hour away and its timers are manual: only the database's own signal wakes it (SQLite: the poll, run
 * by hand; PostgreSQL: the version row's NOTIFY).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { eventually, settle, whenOnline } from '../fixture.js'
import { POLL_MS, openForeignSite, type ForeignSite, type WatchedClient } from './site.js'

interface Row {
  uid: string
  title: string
  done: boolean
}

/** Every uid a client was told by realtime (rows, tombstones), in order. */
const toldUids = (watched: WatchedClient): string[] => watched.events.flatMap((e) => [...e.rows.map((r) => String(r[0])), ...e.tombstones.map((t) => String(t[0]))])

export function foreignRealtimeSuite(dialect: 'sqlite' | 'postgres'): void {
  describe(`foreign writes reach a subscribed client by realtime (${dialect}, T24)`, () => {
    let site: ForeignSite
    let watched: WatchedClient
    let shown: Row[] = []

    beforeEach(async () => {
      site = await openForeignSite(dialect)
      watched = site.client('watcher')
      watched.client.table<Omit<Row, 'uid'>>('todos').subscribe({}, (rows) => void (shown = rows.map(({ uid, title, done }) => ({ uid, title, done }))))
      await whenOnline(watched.client)
      await settle(watched.client)
      // The feed has its baseline: what is committed from now on is its to deliver.
      await eventually(() => expect(site.sync.feedStats().since).not.toBeNull())
    })
    afterEach(async () => {
      await site.close()
    })

    /** Runs `write`, lets the database's signal reach the feed, and expects `uid` told by realtime and `expected` shown, with no sync. */
    async function expectRealtime(client: SyncClient, write: () => Promise<unknown>, uid: string, expected: Row[]): Promise<void> {
      const syncs = watched.spy.requests.length
      const told = toldUids(watched).length
      await write()
      await eventually(() => {
        site.timers.advance(POLL_MS) // SQLite's poll; PostgreSQL's NOTIFY needs nothing
        expect(toldUids(watched).slice(told)).toContain(uid)
      })
      await eventually(() => expect(shown).toEqual(expected))
      expect(watched.spy.requests.length).toBe(syncs)
      expect(client.status).toBe('online')
    }

    it('(a) a plain Drizzle insert', async () => {
      await expectRealtime(watched.client, () => site.drizzle.insert({ uid: 'd-1', title: 'drizzle insert', done: false }), 'd-1', [
        { uid: 'd-1', title: 'drizzle insert', done: false },
      ])
    })

    it('(b) a plain Drizzle update and (c) a plain Drizzle delete', async () => {
      await expectRealtime(watched.client, () => site.drizzle.insert({ uid: 'd-2', title: 'to edit', done: false }), 'd-2', [{ uid: 'd-2', title: 'to edit', done: false }])
      await expectRealtime(watched.client, () => site.drizzle.update('d-2', { title: 'edited by drizzle', done: true }), 'd-2', [
        { uid: 'd-2', title: 'edited by drizzle', done: true },
      ])
      await expectRealtime(watched.client, () => site.drizzle.delete('d-2'), 'd-2', [])
    })

    it('(d) raw SQL on a second connection: insert, update, delete', async () => {
      const yes = dialect === 'sqlite' ? '1' : 'true'
      const no = dialect === 'sqlite' ? '0' : 'false'
      await expectRealtime(watched.client, () => site.second(`INSERT INTO todos (uid, title, done) VALUES ('s-1', 'raw insert', ${no})`), 's-1', [
        { uid: 's-1', title: 'raw insert', done: false },
      ])
      await expectRealtime(watched.client, () => site.second(`UPDATE todos SET title = 'raw update', done = ${yes} WHERE uid = 's-1'`), 's-1', [
        { uid: 's-1', title: 'raw update', done: true },
      ])
      await expectRealtime(watched.client, () => site.second(`DELETE FROM todos WHERE uid = 's-1'`), 's-1', [])
    })
  })
}
