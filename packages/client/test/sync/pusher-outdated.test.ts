// The pusher and P8 (SPEC.md section 11, SV3): a table whose pushes the server answered SCHEMA_OUTDATED
// waits, dirty, until this client's descriptors of it are newer; its rows go under their schema version,
// without the columns this client does not know.
import { describe, expect, it } from 'vitest'
import type { PushRequest } from '@lastword/core'
import { createPusher } from '../../src/sync/pusher.js'
import { todosTable } from '../helpers.js'
import { createHarness, drain, put, todo, type Handler } from './fixture.js'

describe('the pusher under P8', () => {
  it('states the schema version it pushes under, leaves unknown columns out, and holds a table while the server said its version is outdated', async () => {
    const pushes: PushRequest[] = []
    const h = createHarness()
    h.handler = ((request: unknown) => {
      const push = request as PushRequest
      pushes.push(push)
      return { ok: true, data: { receivedAt: 0, answeredAt: 0, knownAt: null, units: push.units.map((u) => ({ outcomes: u.groups.flatMap((g) => g.records.map((r) => ({ uid: r.uid, status: 'applied' as const }))) })) } }
    }) as unknown as Handler
    let version = 2
    h.deps.descriptor = (table) => (table === 'todos' ? { ...todosTable, schemaVersion: version } : undefined)
    const pusher = createPusher(h.ctx)
    h.ctx.state.outdated.set('todos', 2)
    await put(h, { ...todo('x', 1, { dirty: true }), unknown: ['priority'] })
    await pusher.drain()
    expect(pushes).toEqual([])
    version = 3
    pusher.schedule()
    await drain()
    await pusher.drain()
    expect(pushes).toHaveLength(1)
    const group = pushes[0]?.units[0]?.groups[0]
    expect(group).toMatchObject({ table: 'todos', schemaVersion: 3 })
    expect(Object.keys(group?.records[0]?.row ?? {})).toContain('title')
    expect(Object.keys(group?.records[0]?.row ?? {})).not.toContain('priority')
  })
})
