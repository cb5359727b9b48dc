/**
 * A runtime whose time moves only when the test says so: timers fire in due order inside `advance`,
 * randomness is a seeded sequence. Tests drive the client's decisions through it with no sleeps.
 */
import type { CancelTimer, Runtime } from '../runtime.js'

/** A {@link Runtime} driven by hand. */
export interface ManualRuntime extends Runtime {
  /** Moves time forward by `ms`, firing every timer that falls due (in due order), and lets microtasks settle between them. */
  advance(ms: number): Promise<void>
  /** Timers waiting to fire. */
  pendingTimers(): number
}

interface Timer {
  id: number
  at: number
  fn: () => void
  every: number | null
}

/** Creates a manual runtime starting at `start` ms, with a seeded pseudo-random sequence. */
export function createManualRuntime(options: { start?: number; seed?: number } = {}): ManualRuntime {
  let time = options.start ?? 1_700_000_000_000
  let seed = (options.seed ?? 1) >>> 0 || 1
  let nextId = 0
  const timers = new Map<number, Timer>()

  // xorshift32: deterministic and good enough for jitter and ids in tests.
  const nextRandom = (): number => {
    seed ^= seed << 13
    seed >>>= 0
    seed ^= seed >>> 17
    seed ^= seed << 5
    seed >>>= 0
    return seed / 0x1_0000_0000
  }

  const add = (fn: () => void, ms: number, every: number | null): CancelTimer => {
    const id = nextId++
    timers.set(id, { id, at: time + Math.max(0, ms), fn, every })
    return () => void timers.delete(id)
  }

  const settle = async (): Promise<void> => {
    // A few macrotask-free turns: enough for promise chains that a timer callback starts.
    for (let i = 0; i < 20; i++) await Promise.resolve()
  }

  return {
    now: () => time,
    setTimer: (fn, ms) => add(fn, ms, null),
    setRepeating: (fn, ms) => add(fn, ms, Math.max(1, ms)),
    random: nextRandom,
    randomBytes(length) {
      const bytes = new Uint8Array(length)
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(nextRandom() * 256)
      return bytes
    },
    pendingTimers: () => timers.size,
    async advance(ms) {
      const until = time + ms
      await settle()
      for (;;) {
        let due: Timer | undefined
        for (const timer of timers.values()) if (timer.at <= until && (due === undefined || timer.at < due.at || (timer.at === due.at && timer.id < due.id))) due = timer
        if (due === undefined) break
        time = Math.max(time, due.at)
        if (due.every === null) timers.delete(due.id)
        else due.at += due.every
        due.fn()
        await settle()
      }
      time = until
      await settle()
    },
  }
}
