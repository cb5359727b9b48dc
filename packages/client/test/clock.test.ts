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

  it('takes its offset from four timestamps: the server\'s handling drops out, only a better sample moves it', () => {
    let local = 1_000
    const clock = createClientClock({ node: randomNodeId(), clock: { now: () => local } })
    // The server is 4,000 ms ahead; 10 ms each way; it took 150 ms to answer.
    expect(clock.sample(1_000, 5_010, 5_160, 1_170)).toEqual({ offset: 4_000, delay: 20, at: 1_170 })
    expect(clock.offset()).toBe(4_000)
    // A worse sample (40 ms up, 0 down, slow answer) agrees with it but does not move the offset.
    clock.sample(2_000, 6_040, 6_240, 2_240)
    expect(clock.offset()).toBe(4_000)
    // A better one (2 ms round trip) does.
    clock.sample(3_000, 7_002, 7_100, 3_100)
    expect(clock.offset()).toBe(4_001)
    expect(clock.sample(3_000, 7_000, 6_000, 3_100)).toBeNull() // answered before received: no sample
    expect(clock.offset()).toBe(4_001)
    expect(clock.now()).toBe(local + 4_001)
  })

  it('a hello seeds the offset only while none is known', () => {
    const fresh = createClientClock({ node: randomNodeId(), clock: { now: () => 1_000 } })
    expect(fresh.seed(3_000, 1_000)).toBe(true)
    expect(fresh.offset()).toBe(2_000)
    expect(fresh.seed(9_000, 1_000)).toBe(false) // known now
    const restored = createClientClock({ node: randomNodeId(), clock: { now: () => 1_000 }, offset: 5 })
    expect(restored.seed(3_000, 1_000)).toBe(false) // persisted by an earlier session
    expect(restored.offset()).toBe(5)
    const sampled = createClientClock({ node: randomNodeId(), clock: { now: () => 1_000 } })
    sampled.sample(1_000, 1_010, 1_010, 1_020)
    expect(sampled.seed(50_000, 1_000)).toBe(false)
    expect(sampled.offset()).toBe(0)
  })

  it('a drift refusal restarts the window from the page\'s sample and rewinds the HLC', () => {
    let local = 1_000
    const clock = createClientClock({ node: randomNodeId(), clock: { now: () => local } })
    clock.sample(1_000, 1_001, 1_001, 1_002) // offset 0, delay 2: a very good sample
    local = 2_000
    const before = clock.next()
    // The device's clock was set 500 ms ahead since; the refusing page's sample says so (delay 20).
    const refused = { offset: -500, delay: 20, at: 2_000 }
    clock.correct(refused, 1_500, 2_000)
    expect(clock.offset()).toBe(-500)
    const after = clock.next()
    expect(after < before).toBe(true)
    expect(parseStamp(after).ms).toBe(1_500)
    // The old, better sample is gone: a later worse sample that agrees with the new offset is not overruled by it.
    clock.sample(3_000, 2_510, 2_510, 3_020)
    expect(clock.offset()).toBe(-500)
    // Without a sample, the refusing side's time.
    clock.correct(null, 1_000, 3_000)
    expect(clock.offset()).toBe(-2_000)
  })
})
