/** The owner's side: other tabs' scopes held and released in the driver, silent tabs dropped on the runtime clock. */
import { describe, expect, it } from 'vitest'
import { LastwordError } from '@lastword/core'
import { createMemoryStore } from '../../src/store/memory-store.js'
import type { ScopeQuery, SyncDriver } from '../../src/sync/driver.js'
import { createDescriptorRegistry } from '../../src/tables/descriptor-registry.js'
import { createManualRuntime } from '../../src/testing/index.js'
import type { TabCoordinator } from '../../src/tabs/coordinator.js'
import type { TabMessage } from '../../src/tabs/messages.js'
import { createOwnerSide } from '../../src/tabs/owner-side.js'
import { todosTable } from '../helpers.js'

function setup(syncAll: () => Promise<void> = async () => undefined) {
  const runtime = createManualRuntime()
  const posted: TabMessage[] = []
  const coordinator: TabCoordinator = { isOwner: true, start() {}, post: (m) => void posted.push(m), onMessage() {}, close: async () => undefined }
  const held = new Map<string, Set<string>>()
  const driver = {
    acquire: (q: ScopeQuery, holder: string) => void held.set(q.key, (held.get(q.key) ?? new Set()).add(holder)),
    release: (key: string, holder: string) => void held.get(key)?.delete(holder),
    syncAll,
  } as unknown as SyncDriver
  const registry = createDescriptorRegistry({ appTables: [todosTable], store: createMemoryStore(), report: () => undefined })
  const owner = createOwnerSide({ coordinator, node: 'o', runtime, heartbeatMs: 100, registry, driver: () => driver, status: () => 'online' })
  const holders = () => [...held.values()].flatMap((s) => [...s])
  return { runtime, posted, owner, holders }
}

describe('owner side', () => {
  it("holds a tab's scopes, swaps them as it announces new ones, and greets a new tab with its status", () => {
    const { posted, owner, holders } = setup()
    owner.setScopes('f1', [{ table: 'todos', where: { done: false } }, { table: 'unknown', where: {} }, { table: 'todos', where: { nope: 1 } }])
    expect(holders()).toEqual(['tab:f1'])
    expect(posted).toEqual([{ type: 'status', from: 'o', status: 'online' }])
    owner.setScopes('f1', [{ table: 'todos', where: { done: true } }])
    expect(holders()).toEqual(['tab:f1'])
    owner.setScopes('f1', [])
    expect(holders()).toEqual([])
    expect(posted).toHaveLength(1)
  })

  it('drops a tab silent for three heartbeats', async () => {
    const { runtime, owner, holders } = setup()
    owner.setScopes('f1', [{ table: 'todos', where: {} }])
    await runtime.advance(300)
    owner.expire()
    expect(holders()).toEqual(['tab:f1'])
    await runtime.advance(1)
    owner.expire()
    expect(holders()).toEqual([])
  })

  it("answers a relayed sync with the outcome's code", async () => {
    const { runtime, posted, owner } = setup(() => Promise.reject(new LastwordError('FORBIDDEN', 'not yours')))
    owner.relaySync('r1')
    await runtime.advance(0)
    expect(posted.at(-1)).toMatchObject({ type: 'synced', id: 'r1', error: { code: 'FORBIDDEN', message: 'not yours' } })
  })
})
