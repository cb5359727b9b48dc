/**
 * T27 (docs/test-matrix.md): change hooks (`onChange`) get every committed change of the synced tables,
 * in rev order, with the rows as they were before and after each change; at least once — a handler that
 * throws gets the same changes again after the backoff (manual timers), a new server resumes from the
 * durable cursor, a change written while no server with the hook ran is delivered at the next start —
 * and a hook the retention horizon passed is moved past the purged changes, loudly.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { ChangeEvent, SyncServerOptions } from '../../src/index.js'
import { WAIT, manualTimers, recordingLogger, startInstance, type Instance, type SharedDb } from './fixture.js'

/** A change as the assertions compare it. */
const brief = (c: ChangeEvent) => ({ uid: c.uid, op: c.op, before: c.before?.['title'] ?? null, after: c.after?.['title'] ?? null })

export function hookSuite(open: () => Promise<SharedDb>): void {
  let shared: SharedDb
  const running: Instance[] = []
  let labels = 0
  beforeEach(async () => {
    shared = await open()
  })
  afterEach(async () => {
    for (const instance of running.splice(0)) await instance.close()
    await shared.close()
  })

  /** A server with no sockets on a new connection of the shared database. */
  const start = async (options: Partial<SyncServerOptions>): Promise<Instance> => {
    const instance = await startInstance(shared, `h${labels++}`, options, false)
    running.push(instance)
    return instance
  }
  const stop = async (instance: Instance): Promise<void> => {
    running.splice(running.indexOf(instance), 1)
    await instance.close()
  }

  it('hands over every change in rev order with its own before and after rows; a throwing handler gets the same changes again', async () => {
    const timers = manualTimers()
    const logger = recordingLogger()
    const metrics: Array<{ name: string; value: number; labels: Readonly<Record<string, string>> }> = []
    const keep = (name: string, value: number, labels: Readonly<Record<string, string>>) => void metrics.push({ name, value, labels })
    const calls: ChangeEvent[][] = []
    let failures = 1
    const instance = await start({
      logger,
      metrics: { counter: keep, gauge: keep },
      feed: { timers },
      onChangeRetry: { baseMs: 1_000, maxMs: 1_000 },
      onChange: {
        audit: async (changes) => {
          calls.push([...changes])
          if (failures-- > 0) throw new Error('the mail server is down')
        },
      },
    })
    const todos = instance.sync.service('todos')
    const uid = await todos.create({ title: 'one', done: false })
    await todos.update(uid, { title: 'two' })
    await todos.update(uid, { title: 'three', done: true })
    await todos.delete(uid)
    await expect.poll(() => calls.length, WAIT).toBe(1)
    expect(logger.entries.some((e) => e.level === 'error' && (e.obj as { hook?: string }).hook === 'audit')).toBe(true)
    expect(instance.sync.feedStats().hooks['audit']).toMatchObject({ failures: 1, lastError: 'Error', delivered: 0 })
    // Waiting for the backoff: no other call meanwhile, however many commits wake the hook.
    await todos.create({ title: 'four', done: false })
    expect(calls.length).toBe(1)

    timers.advance(1_000)
    await expect.poll(() => instance.sync.feedStats().hooks['audit']?.delivered, WAIT).toBe(5)
    const [failed, ...rest] = calls as [ChangeEvent[], ...ChangeEvent[][]]
    // The retry starts with exactly the changes that failed.
    expect(rest[0]?.slice(0, failed.length).map(brief)).toEqual(failed.map(brief))
    expect(rest[0]?.slice(0, failed.length).map((c) => c.rev)).toEqual(failed.map((c) => c.rev))
    const delivered = rest.flat()
    expect(delivered.map((c) => c.rev)).toEqual([...delivered.map((c) => c.rev)].sort((x, y) => x - y))
    expect(new Set(delivered.map((c) => c.rev)).size).toBe(5)
    expect(delivered.slice(0, 4).map(brief)).toEqual([
      { uid, op: 'insert', before: null, after: 'one' },
      { uid, op: 'update', before: 'one', after: 'two' },
      { uid, op: 'update', before: 'two', after: 'three' },
      { uid, op: 'delete', before: 'three', after: null },
    ])
    expect(delivered[0]?.table).toBe('todos')
    // Each change names the record's latest state: the tombstone.
    expect(delivered[0]?.record).toMatchObject({ rev: delivered[3]?.rev, deleted_at: expect.any(String) })
    expect(instance.sync.feedStats().hooks['audit']).toMatchObject({ failures: 0, lastError: null })
    // Metrics: the failure counted, the lag reported per hook, back to 0 once delivered.
    expect(metrics.filter((m) => m.name === 'lastword_hook_failures_total')).toEqual([{ name: 'lastword_hook_failures_total', value: 1, labels: { hook: 'audit' } }])
    const lags = () => metrics.filter((m) => m.name === 'lastword_hook_lag_revs')
    expect(lags().some((m) => m.value > 0)).toBe(true)
    await expect.poll(() => lags().at(-1), WAIT).toEqual({ name: 'lastword_hook_lag_revs', value: 0, labels: { hook: 'audit' } })
  })

  it('resumes from the durable cursor in a new server, and delivers at start what was written while none ran', async () => {
    // A first server whose handler always fails: its cursor never moves.
    const failing: ChangeEvent[][] = []
    const first = await start({
      feed: { timers: manualTimers() },
      onChange: {
        audit: (changes) => {
          failing.push([...changes])
          throw new Error('down')
        },
      },
    })
    const a = await first.sync.service('todos').create({ title: 'a', done: false })
    const b = await first.sync.service('todos').create({ title: 'b', done: false })
    await expect.poll(() => failing.length, WAIT).toBeGreaterThan(0)
    await stop(first)

    // Written while no server with the hook runs (a server without hooks, or another process).
    const plain = await start({ feed: { timers: manualTimers() } })
    const c = await plain.sync.service('todos').create({ title: 'c', done: false })
    await stop(plain)

    const got: ChangeEvent[] = []
    const second = await start({ feed: { timers: manualTimers() }, onChange: { audit: (changes) => void got.push(...changes) } })
    await expect.poll(() => got.map((x) => x.uid), WAIT).toEqual([a, b, c])
    expect(got.map(brief)).toEqual([
      { uid: a, op: 'insert', before: null, after: 'a' },
      { uid: b, op: 'insert', before: null, after: 'b' },
      { uid: c, op: 'insert', before: null, after: 'c' },
    ])
    // Stopped and started again: nothing twice (the cursor is past them), new changes still come.
    await stop(second)
    const again: ChangeEvent[] = []
    const third = await start({ feed: { timers: manualTimers() }, onChange: { audit: (changes) => void again.push(...changes) } })
    const d = await third.sync.service('todos').create({ title: 'd', done: false })
    await expect.poll(() => again.map((x) => x.uid), WAIT).toEqual([d])
  })

  it('a hook seen for the first time starts at the version row, and one the retention horizon passed skips the purged changes, loudly', async () => {
    const old = await start({ feed: { timers: manualTimers() } })
    await old.sync.service('todos').create({ title: 'before any hook', done: false })
    const got: ChangeEvent[] = []
    const first = await start({ feed: { timers: manualTimers() }, onChange: { audit: (changes) => void got.push(...changes) } })
    const seen = await first.sync.service('todos').create({ title: 'seen', done: false })
    await expect.poll(() => got.map((x) => x.uid), WAIT).toEqual([seen])
    await stop(first)

    // While the hook is down, a change is written, then purged (by a server whose clock is a minute ahead).
    await old.sync.service('todos').create({ title: 'purged before delivery', done: false })
    await stop(old)
    const purger = await start({ feed: { timers: manualTimers() }, now: () => Date.now() + 60_000 })
    expect((await purger.sync.purge({ olderThanMs: 1_000 })).changes).toBeGreaterThan(0)
    await stop(purger)

    const logger = recordingLogger()
    const lost: ChangeEvent[] = []
    const back = await start({ logger, feed: { timers: manualTimers() }, onChange: { audit: (changes) => void lost.push(...changes) } })
    await expect.poll(() => back.sync.feedStats().hooks['audit']?.lostRevs ?? 0, WAIT).toBeGreaterThan(0)
    expect(logger.entries.filter((e) => e.level === 'error').map((e) => e.msg)).toEqual([
      'lastword: a change hook fell behind the retention horizon; the purged changes cannot be delivered',
    ])
    const after = await back.sync.service('todos').create({ title: 'after', done: false })
    await expect.poll(() => lost.map((x) => x.uid), WAIT).toEqual([after])
  })
}
