import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRY, backoffDelay, createDefaultRuntime } from '../src/runtime.js'
import { createManualRuntime } from '../src/testing/index.js'

describe('manual runtime', () => {
  it('fires timers in due order only when time is advanced', async () => {
    const rt = createManualRuntime({ start: 0 })
    const fired: string[] = []
    rt.setTimer(() => fired.push('b'), 20)
    rt.setTimer(() => fired.push('a'), 10)
    const cancel = rt.setTimer(() => fired.push('never'), 15)
    cancel()
    expect(fired).toEqual([])
    await rt.advance(9)
    expect(fired).toEqual([])
    await rt.advance(11)
    expect(fired).toEqual(['a', 'b'])
    expect(rt.now()).toBe(20)
    expect(rt.pendingTimers()).toBe(0)
  })

  it('repeats until cancelled, and a timer set by a timer fires within the same advance', async () => {
    const rt = createManualRuntime({ start: 0 })
    let ticks = 0
    const stop = rt.setRepeating(() => ticks++, 10)
    rt.setTimer(() => rt.setTimer(() => ticks += 100, 5), 5)
    await rt.advance(35)
    expect(ticks).toBe(103)
    stop()
    await rt.advance(100)
    expect(ticks).toBe(103)
  })

  it('is deterministic per seed', () => {
    const a = createManualRuntime({ seed: 7 })
    const b = createManualRuntime({ seed: 7 })
    const xs = [a.random(), a.random(), a.random()]
    expect([b.random(), b.random(), b.random()]).toEqual(xs)
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true)
  })
})

describe('backoffDelay', () => {
  it('grows by the factor, is capped, and jitter only shortens it', () => {
    expect(backoffDelay(DEFAULT_RETRY, 0, () => 0)).toBe(250)
    expect(backoffDelay(DEFAULT_RETRY, 3, () => 0)).toBe(2_000)
    expect(backoffDelay(DEFAULT_RETRY, 30, () => 0)).toBe(30_000)
    expect(backoffDelay(DEFAULT_RETRY, 0, () => 0.999)).toBeGreaterThan(125)
  })
})

describe('default runtime', () => {
  it('reads the given clock and makes random bytes', () => {
    const rt = createDefaultRuntime(() => 42)
    expect(rt.now()).toBe(42)
    expect(rt.randomBytes(8)).toHaveLength(8)
  })
})
