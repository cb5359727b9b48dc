/**
 * Virtual time for the fault campaign (docs/test-matrix.md: in-memory rows run on virtual time, so partitions cost nothing).
 *
 * `setTimeout`/`setInterval`/`Date` are faked (vitest's fake timers), so the client's debounce, retry
 * backoff and reconnection delays, the server's expiry timers and every delay of the fault network are
 * virtual: a 10 s partition costs nothing. What stays real is the work that has no timer: fake-indexeddb
 * schedules its requests with `setImmediate`, PostgreSQL answers over a socket. Virtual time only moves
 * when that real work is done — {@link VirtualTime.settle} waits until no counted `setImmediate` and no
 * tracked I/O is pending — so from the point of view of virtual time the databases are infinitely fast,
 * and a run on SQLite is deterministic for a seed.
 */
import { vi } from 'vitest'

export interface VirtualTime {
  /** Virtual epoch ms. */
  now(): number
  /** Waits (in real time) until no real asynchronous work is pending; virtual time does not move. */
  settle(): Promise<void>
  /** Fires the next virtual timer (after settling); `false` if there is none. */
  step(): Promise<boolean>
  /** Lets `ms` of virtual time pass, firing every timer due on the way. */
  runFor(ms: number): Promise<void>
  /**
   * Runs virtual time until `done()` holds (checked after settling, at most every `pollMs` of virtual
   * time) or `maxMs` passed. Returns whether it held.
   */
  runUntil(done: () => boolean | Promise<boolean>, maxMs: number, pollMs?: number): Promise<boolean>
  /** Runs virtual time until `promise` settles (or `maxMs` passed: then it rejects). */
  await<T>(promise: Promise<T>, maxMs?: number, what?: string): Promise<T>
  /** Counts `promise` as pending real work until it settles (PostgreSQL queries). */
  track<T>(promise: Promise<T>): Promise<T>
  /** Puts the real timers back. */
  uninstall(): void
}

const realSetImmediate = globalThis.setImmediate
const realClearImmediate = globalThis.clearImmediate
let installed: VirtualTime | null = null
let pendingImmediates = 0
let pendingIo = 0
/** Resolved (and replaced) whenever a tracked I/O settles. */
let ioSettled: { promise: Promise<void>; resolve: () => void } = makeSignal()

function makeSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

function realTurn(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve))
}

/**
 * Installs virtual time starting at `start` (epoch ms). One at a time per worker; uninstall in
 * `afterEach`/`finally`.
 */
export function installVirtualTime(start = Date.UTC(2025, 0, 1)): VirtualTime {
  if (installed !== null) installed.uninstall()
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: start })
  pendingImmediates = 0
  pendingIo = 0
  const live = new Map<unknown, boolean>()
  // fake-indexeddb looks `globalThis.setImmediate` up at every call: counting it here counts its work.
  const counted = ((fn: (...args: unknown[]) => void, ...args: unknown[]) => {
    pendingImmediates++
    const handle = realSetImmediate(() => {
      if (live.delete(handle)) pendingImmediates--
      fn(...args)
    })
    live.set(handle, true)
    return handle
  }) as unknown as typeof setImmediate
  const countedClear = ((handle: NodeJS.Immediate) => {
    if (live.delete(handle)) pendingImmediates--
    realClearImmediate(handle)
  }) as typeof clearImmediate
  globalThis.setImmediate = counted
  globalThis.clearImmediate = countedClear

  const settle = async (): Promise<void> => {
    // Two quiet turns in a row: a callback that schedules more work is seen before we stop.
    let quiet = 0
    while (quiet < 2) {
      // Only I/O pending: sleep until some of it settles instead of spinning (the database needs the CPU).
      if (pendingImmediates === 0 && pendingIo > 0) await ioSettled.promise
      else await realTurn()
      if (pendingImmediates === 0 && pendingIo === 0) quiet++
      else quiet = 0
    }
  }

  const vt: VirtualTime = {
    now: () => Date.now(),
    settle,
    async step() {
      await settle()
      if (vi.getTimerCount() === 0) return false
      vi.advanceTimersToNextTimer()
      return true
    },
    async runFor(ms) {
      let fired = false
      const sentinel = setTimeout(() => {
        fired = true
      }, Math.max(0, ms))
      try {
        while (!fired) await vt.step()
        await settle()
      } finally {
        clearTimeout(sentinel)
      }
    },
    async runUntil(done, maxMs, pollMs = 0) {
      const deadline = Date.now() + maxMs
      let expired = false
      const sentinel = setTimeout(() => {
        expired = true
      }, Math.max(0, maxMs))
      let lastPoll = Number.NEGATIVE_INFINITY
      try {
        for (;;) {
          await settle()
          if (Date.now() - lastPoll >= pollMs || expired) {
            lastPoll = Date.now()
            if (await done()) return true
            await settle()
          }
          if (expired || Date.now() > deadline) return false
          await vt.step()
        }
      } finally {
        clearTimeout(sentinel)
      }
    },
    async await(promise, maxMs = 600_000, what = 'operation') {
      let state: { ok: true; value: unknown } | { ok: false; error: unknown } | null = null
      promise.then(
        (value) => {
          state = { ok: true, value }
        },
        (error: unknown) => {
          state = { ok: false, error }
        },
      )
      const ok = await vt.runUntil(() => state !== null, maxMs)
      if (!ok || state === null) throw new Error(`${what} did not finish within ${maxMs} ms of virtual time`)
      const s = state as { ok: true; value: unknown } | { ok: false; error: unknown }
      if (s.ok) return s.value as Awaited<typeof promise>
      throw s.error
    },
    track(promise) {
      pendingIo++
      const done = (): void => {
        pendingIo--
        const signal = ioSettled
        ioSettled = makeSignal()
        signal.resolve()
      }
      promise.then(done, done)
      return promise
    },
    uninstall() {
      if (installed !== vt) return
      installed = null
      globalThis.setImmediate = realSetImmediate
      globalThis.clearImmediate = realClearImmediate
      vi.useRealTimers()
    },
  }
  installed = vt
  return vt
}

/** The installed virtual time, if any (PostgreSQL query tracking uses it). */
export function currentVirtualTime(): VirtualTime | null {
  return installed
}
