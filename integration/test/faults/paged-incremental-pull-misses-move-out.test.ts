/**
 * Regression test for B4 (fixed), found by T07 seed 1815174026: an incremental pull answered in
 * several pages misses a move-out (or a delete) of a record that changed both before and after a page
 * boundary. Page 1 ends at the rev of its last record (`checkpoint` 16, say); the record's latest change
 * is later (17), so it falls into page 2, which decides "could the client have held it?" from the
 * before-images logged after 16 only — but the client's knowledge of that record dates from the
 * original checkpoint (10): it held the row, the server now says nothing, and the stale row stays (I1;
 * for a delete, the deleted row stays: I4). Fixed: between pages the checkpoint carries the rev the
 * client's holdings date from (`lw1.<rev>~<since>.<hash>`), and every page looks back to it.
 */
import { expect, it } from 'vitest'
import type { SyncPage, SyncRequest } from '@lastword/core'
import { openSqlite } from '../../src/databases.js'
import { createInMemoryServer } from '../../src/server-kit.js'

it('B4: a paged incremental pull still evicts a record that moved out across a page boundary (T07 seed 1815174026)', async () => {
  const database = openSqlite()
  const server = await createInMemoryServer({ database })
  try {
    const items = server.engine.service('items')
    const ctx = { principal: null }
    const pull = (checkpoint: string | null): Promise<SyncPage> =>
      server.engine.sync(ctx, {
        table: 'items',
        where: { list: 'a' },
        checkpoint,
        push: [],
        pageSize: 1,
        ...(checkpoint === null ? { full: { cursor: null, entries: [], complete: true } } : {}),
      } as SyncRequest)
    const held = await items.create({ list: 'a', title: 'held', done: false, n: 1 })
    const first = await pull(null)
    expect(first.rows.map((r) => r[0])).toEqual([held])
    // After the client's checkpoint: the held record moves out, another one appears (so the pull needs
    // two pages, the first ending at the other's rev), then the held record changes again, out of scope.
    await items.update(held, { list: 'b' })
    await items.create({ list: 'a', title: 'other', done: false, n: 2 })
    await items.update(held, { list: 'c' })
    let checkpoint = first.checkpoint
    const evicted: string[] = []
    for (let page = 0; page < 10; page++) {
      const p = await pull(checkpoint)
      evicted.push(...p.evict.map(([uid]) => uid), ...p.tombstones.map((t) => t[0]))
      checkpoint = p.checkpoint
      if (!p.hasMore) break
    }
    expect(evicted).toContain(held)
  } finally {
    await server.close()
    await database.close()
  }
})
