/**
 * T18: stamps strictly increase — across sessions whose wall clock was set back, and under a frozen
 * clock over more stamps than one millisecond's counter holds (the physical part advances; nothing wraps).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_COUNTER, parseStamp, versionOf, type Stamp } from '@lastword/core'
import { createSyncClient, type SyncClient } from '../src/index.js'
import { createClientClock } from '../src/clock.js'
import { randomNodeId } from '../src/ids.js'
import { newIndexedDB, offlineTransport, todosTable, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

describe('clock (T18)', () => {
  it('keeps stamps increasing when the clock is set back a day between sessions', async () => {
    const indexedDB = newIndexedDB()
    const now = Date.now()
    const stamps: Stamp[] = []
    for (const [session, at] of [now, now - 86_400_000, now - 2 * 86_400_000].entries()) {
      const client = createSyncClient({ name: 'clock-back', tables: [todosTable], transport: offlineTransport(), indexedDB, clock: { now: () => at } })
      clients.push(client)
      const todos = client.table<Todo>('todos')
      for (let i = 0; i < 3; i++) {
        const uid = await todos.create({ title: `${session}.${i}`, done: false })
        stamps.push(versionOf((await todos.record(uid))!))
      }
      await client.close()
    }
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true)
  })

  it('makes 70,000 strictly increasing stamps on a frozen clock without wrapping the counter', () => {
    const frozen = 1_700_000_000_000
    const clock = createClientClock({ node: randomNodeId(), clock: { now: () => frozen } })
    let previous = clock.next()
    for (let i = 1; i < 70_000; i++) {
      const next = clock.next()
      expect(next > previous).toBe(true)
      previous = next
    }
    const last = parseStamp(previous)
    expect(last.ms).toBe(frozen + 1) // 65,536 stamps fit in the frozen ms, the rest in the next one
    expect(last.counter).toBe(70_000 - (MAX_COUNTER + 1) - 1)
  })

  it('keeps stamps increasing through the client on a frozen clock, across a restart', async () => {
    const indexedDB = newIndexedDB()
    const frozen = { now: () => 1_700_000_000_000 }
    let last: Stamp | null = null
    for (let session = 0; session < 2; session++) {
      const client = createSyncClient({ name: 'frozen', tables: [todosTable], transport: offlineTransport(), indexedDB, clock: frozen })
      clients.push(client)
      const todos = client.table<Todo>('todos')
      for (let i = 0; i < 300; i++) {
        const uid = await todos.create({ uid: `s${session}-${i}`, title: 'x', done: false })
        const stamp = versionOf((await todos.record(uid))!)
        if (last !== null) expect(stamp > last).toBe(true)
        last = stamp
      }
      await client.close()
    }
  })

  it('learns the server offset from serverTime and the round trip', () => {
    let local = 1_000
    const clock = createClientClock({ node: randomNodeId(), clock: { now: () => local } })
    clock.learn(5_000, 1_100, 200) // the server said 5,000 halfway through a 200 ms round trip ending at 1,100
    expect(clock.offset()).toBe(5_000 - (1_100 - 100))
    expect(clock.now()).toBe(local + clock.offset())
    local = 2_000
    const before = clock.next()
    clock.correct(1_500, 2_000) // a drift refusal: the refusing side's time is behind ours → rewind
    const after = clock.next()
    expect(after < before).toBe(true)
    expect(parseStamp(after).ms).toBe(1_500)
  })
})
