// The overlap gate: runs of overlapping scopes of a table take turns, first come first served; disjoint
// scopes and other tables go at once (trap 6 on the client, B13).
import { validateWhere, type Where } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import { createOverlapGate, type LeaveGate } from '../../src/sync/overlap-gate.js'
import { drain, todosTable } from './fixture.js'

const scope = (where: Where) => validateWhere(where, todosTable)
const one = scope({ priority: 1 })
const two = scope({ priority: 2 })
const both = scope({ priority: { in: [1, 2] } })

/** Enters and records when the turn starts. */
function enter(gate: ReturnType<typeof createOverlapGate>, table: string, s: ReturnType<typeof scope>, log: string[], name: string): Promise<LeaveGate> {
  return gate.enter(table, s).then((leave) => {
    log.push(name)
    return leave
  })
}

describe('overlap gate', () => {
  it('makes a run of an overlapping scope wait until the holder leaves', async () => {
    const gate = createOverlapGate()
    const log: string[] = []
    const a = await enter(gate, 'todos', one, log, 'one')
    const b = enter(gate, 'todos', both, log, 'both')
    await drain()
    expect(log).toEqual(['one'])
    expect(gate.size('todos')).toBe(2)
    a()
    ;(await b)()
    expect(log).toEqual(['one', 'both'])
    expect(gate.size('todos')).toBe(0)
  })

  it('lets disjoint scopes and other tables through at once', async () => {
    const gate = createOverlapGate()
    const log: string[] = []
    await enter(gate, 'todos', one, log, 'one')
    await enter(gate, 'todos', two, log, 'two')
    await enter(gate, 'other', one, log, 'other')
    expect(log).toEqual(['one', 'two', 'other'])
  })

  it('serves first come first: a later run never jumps an earlier overlapping one that waits', async () => {
    const gate = createOverlapGate()
    const log: string[] = []
    const a = await enter(gate, 'todos', one, log, 'one')
    const b = enter(gate, 'todos', both, log, 'both')
    // Disjoint from the holder, but it overlaps the run waiting before it.
    const c = enter(gate, 'todos', two, log, 'two')
    await drain()
    expect(log).toEqual(['one'])
    a()
    const leaveB = await b
    await drain()
    expect(log).toEqual(['one', 'both'])
    leaveB()
    ;(await c)()
    expect(log).toEqual(['one', 'both', 'two'])
  })

  it('ignores a second leave', async () => {
    const gate = createOverlapGate()
    const log: string[] = []
    const a = await enter(gate, 'todos', one, log, 'one')
    const b = enter(gate, 'todos', one, log, 'again')
    a()
    const leaveB = await b
    a() // must not let go of the turn `again` now holds
    const c = enter(gate, 'todos', both, log, 'both')
    await drain()
    expect(log).toEqual(['one', 'again'])
    leaveB()
    ;(await c)()
    expect(log).toEqual(['one', 'again', 'both'])
  })
})
