/**
 * Seeds and seeded randomness. Every randomized test prints its seed and replays from `FC_SEED`
 * (docs/test-matrix.md); `RUNS` multiplies the number of runs (the soak runs `RUNS=10`).
 */
import { vi } from 'vitest'

export interface Rng {
  /** In [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  /** An integer in [min, max]. */
  between(min: number, max: number): number
  pick<T>(items: readonly T[]): T
  /** `true` with probability p. */
  chance(p: number): boolean
  /** A derived generator (independent stream for a sub-component). */
  fork(): Rng
}

/** mulberry32: small, fast, good enough for schedules. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const rng: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    between: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    chance: (p) => next() < p,
    fork: () => createRng(Math.floor(next() * 2 ** 32)),
  }
  return rng
}

/** The `RUNS` multiplier (default 1). */
export function runsMultiplier(): number {
  const raw = process.env['RUNS']
  const n = raw === undefined || raw === '' ? 1 : Number(raw)
  return Number.isFinite(n) && n > 0 ? n : 1
}

/** `ciCount × RUNS`, at least 1; with `FC_SEED` set, a single run (the replay). */
export function scaledRuns(ciCount: number): number {
  if (replaySeed() !== undefined) return 1
  return Math.max(1, Math.round(ciCount * runsMultiplier()))
}

/** A size inside one run (filters, sequences, iterations): `ciCount × RUNS`, also when replaying. */
export function scaledCount(ciCount: number): number {
  return Math.max(1, Math.round(ciCount * runsMultiplier()))
}

/** The seed given by `FC_SEED`, if any. */
export function replaySeed(): number | undefined {
  const raw = process.env['FC_SEED']
  return raw === undefined || raw === '' ? undefined : Number(raw)
}

/** A fresh base seed for a test (or `FC_SEED`), printed with how to replay it. */
export function baseSeed(label: string): number {
  const seed = replaySeed() ?? ((Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0)
  console.log(`[${label}] seed ${seed} (replay: FC_SEED=${seed})`)
  return seed
}

/** The seeds of a campaign of `runs` runs: the first is `base`, the next are derived from it. */
export function campaignSeeds(base: number, runs: number): number[] {
  const rng = createRng(base)
  return Array.from({ length: runs }, (_, i) => (i === 0 ? base : Math.floor(rng.next() * 2 ** 31)))
}

/**
 * Makes the process's randomness follow `rng` while a run lasts: `Math.random` (retry jitter) and
 * `crypto.getRandomValues` (uids, node ids, subscription ids), so that a seed replays the same run.
 * Returns the restore function.
 */
export function seedGlobalRandomness(rng: Rng): () => void {
  const math = vi.spyOn(Math, 'random').mockImplementation(() => rng.next())
  const crypto = vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
    if (array !== null) {
      const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256)
    }
    return array
  })
  return () => {
    math.mockRestore()
    crypto.mockRestore()
  }
}

/**
 * Cycles of a real-process row: `ciCount × RUNS_REAL` (the soak sets `RUNS_REAL=3`; `RUNS` does not
 * multiply them, child processes being slow to start).
 */
export function crashRuns(ciCount: number): number {
  const raw = process.env['RUNS_REAL']
  const n = raw === undefined || raw === '' ? 1 : Number(raw)
  return Math.max(1, Math.round(ciCount * (Number.isFinite(n) && n > 0 ? n : 1)))
}

/** A test timeout that grows with `RUNS` and `RUNS_REAL` (the soak runs campaigns many times longer). */
export function scaledTimeout(baseMs: number): number {
  const real = Number(process.env['RUNS_REAL'] ?? 1)
  return Math.round(baseMs * Math.max(1, runsMultiplier()) * Math.max(1, Number.isFinite(real) ? real : 1))
}
