// Realtime: events applied when they are news, skipped when the pull covered them, and a pull when
// they straddle it or an overlapping scope awaits its first page (E5); never a checkpoint move.
import { describe, expect, it } from 'vitest'
import { coveredRev } from '../../src/sync/realtime.js'
import { createSyncDriver } from '../../src/sync/driver.js'
import type { LocalStore, StoreTransaction, StoredRecord } from '../../src/store/types.js'
import { TODO_COLUMNS, wireRow } from '../helpers.js'
import { createHarness, deferred, drain, get, page, query, stamp } from './fixture.js'

const scope = { key: 'k', table: 'todos', where: {}, syncedAt: null }
/** One history of the server (database and segment) and a checkpoint at rev 10 of it. */
const HISTORY = 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb'
const CHECKPOINT = `lw2.${HISTORY}.10.00000000000000`

describe('realtime', () => {
  it('reads the rev a scope covered: its checkpoint, or a running reconciliation start, or nothing', () => {
    expect(coveredRev(undefined)).toBeNull()
    expect(coveredRev({ ...scope, checkpoint: 'lw1.42.00000000000000', fullCursor: null })).toBe(42)
    expect(coveredRev({ ...scope, checkpoint: null, fullCursor: { startRev: 7, after: 'a' } })).toBe(7)
    expect(coveredRev({ ...scope, checkpoint: 'garbage', fullCursor: null })).toBeNull()
  })

  it('applies news, skips what the pull covered, pulls on a straddle, and ignores unknown subscriptions', async () => {
    const h = createHarness((request) => page(request, { checkpoint: CHECKPOINT }))
    const driver = createSyncDriver(h.deps)
    driver.acquire(query({}), 'q')
    driver.setConnected(true)
    await drain()
    const subscription = h.requests[0]!.subscription!
    const v = stamp(5)
    const event = (uid: string, firstRev: number, rev: number, sub = subscription, history = HISTORY) => ({
      knownAt: `${history}.${rev}`,
      subscription: sub,
      table: 'todos',
      columns: TODO_COLUMNS,
      serverTime: h.runtime.now(),
      firstRev,
      rev,
      rows: [wireRow(uid, v, v, { title: uid, done: false })],
      tombstones: [],
      evict: [],
    })
    driver.onRealtime(event('covered', 9, 10))
    driver.onRealtime(event('news', 11, 11))
    driver.onRealtime(event('stranger', 11, 11, 'sffffffffffffffff'))
    await drain()
    expect(await get(h, 'covered')).toBeUndefined()
    expect(await get(h, 'news')).toMatchObject({ dirty: false, acknowledged: true })
    expect(await get(h, 'stranger')).toBeUndefined()
    expect(h.requests).toHaveLength(1)
    driver.onRealtime(event('straddle', 10, 12))
    await drain()
    expect(await get(h, 'straddle')).toBeUndefined()
    expect(h.requests).toHaveLength(2)
    expect(h.requests[1]!.checkpoint).toBe(CHECKPOINT)
    // B15 (T20 seed 902632790): revs of another segment (the server was restored, or restarted) do not
    // compare with rev 10 of this one: rev 3 there is not covered (it was skipped, and a tombstone never
    // came), rev 20 there is not news (it could be older than what is held). Neither applied; pulled.
    const other = 'aaaaaaaaaaaaaaaa.cccccccccccccccc'
    const before = h.requests.length
    driver.onRealtime(event('restored-old', 3, 3, subscription, other))
    await drain()
    expect(await get(h, 'restored-old')).toBeUndefined()
    expect(h.requests.length).toBe(before + 1)
    expect(h.requests.at(-1)!.checkpoint).toBe(CHECKPOINT)
    driver.onRealtime(event('restored-new', 20, 20, subscription, other))
    await drain()
    expect(await get(h, 'restored-new')).toBeUndefined()
    expect(h.requests.length).toBe(before + 2)
    driver.onRealtime({ nonsense: true })
    await drain()
    expect(h.errors).toEqual(['BAD_REQUEST'])
    driver.stop()
  })

  it('applies an event in one store transaction: its records read in one pass, written together, and handed to live queries as stored', async () => {
    const h = createHarness((request) => page(request, { checkpoint: CHECKPOINT }))
    const counts = { getRecord: 0, getRecords: 0, putRecord: 0, putRecords: 0 }
    const inner = h.deps.store
    const store: LocalStore = {
      ...inner,
      kind: inner.kind,
      transaction: (mode, fn) =>
        inner.transaction(mode, (tx) => {
          const counting: StoreTransaction = {
            ...tx,
            getRecord: (table, uid) => (counts.getRecord++, tx.getRecord(table, uid)),
            getRecords: (table, uids) => (counts.getRecords++, tx.getRecords(table, uids)),
            putRecord: (record) => (counts.putRecord++, tx.putRecord(record)),
            putRecords: (records) => (counts.putRecords++, tx.putRecords(records)),
          }
          return fn(counting)
        }),
    }
    const handed: Array<ReadonlyMap<string, StoredRecord | undefined> | undefined> = []
    const driver = createSyncDriver({ ...h.deps, store, onChanged: (_tables, _uids, states) => void handed.push(states) })
    driver.acquire(query({}), 'q')
    driver.setConnected(true)
    await drain()
    Object.assign(counts, { getRecord: 0, getRecords: 0, putRecord: 0, putRecords: 0 })
    handed.length = 0
    const v = stamp(5)
    const uids = ['e1', 'e2', 'e3', 'e4']
    driver.onRealtime({
      knownAt: `${HISTORY}.11`,
      subscription: h.requests[0]!.subscription!,
      table: 'todos',
      columns: TODO_COLUMNS,
      serverTime: h.runtime.now(),
      firstRev: 11,
      rev: 11,
      rows: uids.map((uid) => wireRow(uid, v, v, { title: uid, done: false })),
      tombstones: [],
      evict: [],
    })
    await drain()
    expect(counts).toEqual({ getRecord: 0, getRecords: 1, putRecord: 0, putRecords: 1 })
    for (const uid of uids) expect(await get(h, uid)).toMatchObject({ dirty: false, acknowledged: true })
    expect(handed).toHaveLength(1)
    expect([...(handed[0]?.keys() ?? [])].sort()).toEqual(uids)
    expect(handed[0]?.get('e1')).toMatchObject({ uid: 'e1', row: { title: 'e1' } })
    driver.stop()
  })

  it('never moves the clock offset: one server time without a round trip is not a sample', async () => {
    const h = createHarness((request) => page(request, { checkpoint: CHECKPOINT }))
    const driver = createSyncDriver(h.deps)
    driver.acquire(query({}), 'q')
    driver.setConnected(true)
    await drain()
    const offset = h.deps.clock.offset()
    const v = stamp(5)
    driver.onRealtime({
      subscription: h.requests[0]!.subscription!,
      table: 'todos',
      columns: TODO_COLUMNS,
      serverTime: h.runtime.now() + offset + 3_600_000, // an hour off: it used to become the offset
      knownAt: `${HISTORY}.11`,
      firstRev: 11,
      rev: 11,
      rows: [wireRow('news', v, v, { title: 'news', done: false })],
      tombstones: [],
      evict: [],
    })
    await drain()
    expect(await get(h, 'news')).toMatchObject({ dirty: false })
    expect(h.deps.clock.offset()).toBe(offset)
    driver.stop()
  })

  it('applies no event while an overlapping scope awaits its first page, and pulls after that page (B13)', async () => {
    const created = stamp(1)
    const deleted = stamp(2)
    const narrow = query({ priority: 2 })
    const wide = query({ priority: { in: [1, 2] } })
    const held = deferred()
    const h = createHarness(async (request) => {
      if (request.where['priority'] === 2) {
        if (request.checkpoint === null) return page(request, { checkpoint: 'lw1.10.00000000000001' })
        // Pulled from rev 10 once `r` (created at rev 11) was deleted at rev 12.
        return page(request, { tombstones: [['r', created, created, deleted]], checkpoint: 'lw1.12.00000000000001' })
      }
      // The wide scope's first page: read at rev 12, it tells only of the uids it was sent (none).
      if (request.full !== undefined) await held.promise
      const listed = request.full?.entries.some(([uid]) => uid === 'r') ?? false
      return page(request, { tombstones: listed ? [['r', created, created, deleted]] : [], checkpoint: 'lw1.12.00000000000002' })
    })
    const driver = createSyncDriver(h.deps)
    driver.acquire(narrow, 'narrow')
    driver.setConnected(true)
    await drain()
    const subscription = h.requests[0]!.subscription!
    driver.acquire(wide, 'wide')
    await drain()
    expect(h.requests.at(-1)!.full?.entries).toEqual([])
    // News for the narrow scope (past its checkpoint), inside the range the wide scope listed.
    driver.onRealtime({
      subscription,
      table: 'todos',
      columns: TODO_COLUMNS,
      serverTime: h.runtime.now(),
      firstRev: 11,
      rev: 11,
      rows: [wireRow('r', created, created, { title: 'r', done: false, priority: 2 })],
      tombstones: [],
      evict: [],
    })
    await drain()
    expect(await get(h, 'r')).toBeUndefined()
    held.resolve()
    await drain()
    driver.release(narrow.key, 'narrow')
    await driver.syncAll()
    await drain()
    expect(await get(h, 'r')).toMatchObject({ row: null, deleted_at: deleted })
    driver.stop()
  })
})
