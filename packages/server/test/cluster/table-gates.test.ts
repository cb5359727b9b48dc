/**
 * The in-process half of the cross-node table lock: readers share a table, a writer has it alone, in
 * arrival order (a writer is not starved by readers arriving after it).
 */
import { describe, expect, it } from 'vitest'
import { createTableGates } from '../../src/engine/table-lock.js'

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('table gates', () => {
  it('lets readers share, a writer wait for them, and later readers wait for the writer', async () => {
    const gates = createTableGates()
    const log: string[] = []
    const r1 = await gates.acquire('t', 'shared')
    const r2 = await gates.acquire('t', 'shared')
    let releaseW: (() => void) | undefined
    const w = gates.acquire('t', 'exclusive').then((release) => {
      log.push('writer in')
      releaseW = release
    })
    const r3 = gates.acquire('t', 'shared').then((release) => {
      log.push('late reader in')
      return release
    })
    const other = await gates.acquire('other', 'exclusive') // another table is independent
    other()
    await tick()
    expect(log).toEqual([])
    r1()
    await tick()
    expect(log).toEqual([])
    r2()
    await w
    await tick()
    expect(log).toEqual(['writer in'])
    releaseW?.()
    ;(await r3)()
    expect(log).toEqual(['writer in', 'late reader in'])
    // Released twice is released once.
    const again = await gates.acquire('t', 'exclusive')
    again()
    again()
    const next = await gates.acquire('t', 'exclusive')
    next()
  })
})
