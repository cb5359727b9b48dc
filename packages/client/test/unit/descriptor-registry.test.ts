/** The descriptor registry: the app's tables win; else the server's, validated and stored; reloaded by followers. */
import { describe, expect, it } from 'vitest'
import { LastwordError, type TableDescriptor } from '@lastword/core'
import { createClientClock } from '../../src/clock.js'
import { createMemoryStore } from '../../src/store/memory-store.js'
import { createDescriptorRegistry } from '../../src/tables/descriptor-registry.js'
import { createManualRuntime } from '../../src/testing/index.js'
import { todosTable } from '../helpers.js'

const lists: TableDescriptor = { name: 'lists', columns: [{ name: 'name', type: 'text', nullable: false, writable: true }] }
const clock = () => createClientClock({ node: '0123456789abcdef', clock: createManualRuntime() })

describe('descriptor registry', () => {
  it("keeps the app's descriptors whatever the server or the store says", async () => {
    const store = createMemoryStore()
    const registry = createDescriptorRegistry({ appTables: [todosTable], store, report: () => undefined })
    registry.restore([lists])
    expect(await registry.takeFromServer([lists], clock())).toBe(false)
    expect(await registry.reload()).toBe(false)
    expect(registry.get('todos')).toBe(todosTable)
    expect(registry.get('lists')).toBeUndefined()
  })

  it("takes the server's valid descriptors, reports the others, and stores them for other tabs", async () => {
    const store = createMemoryStore()
    const errors: string[] = []
    const registry = createDescriptorRegistry({ appTables: undefined, store, report: (e) => errors.push(e.code) })
    expect(() => registry.require('todos')).toThrow(/not known yet/)
    const broken = { name: 'bad name!', columns: [] } as unknown as TableDescriptor
    expect(await registry.takeFromServer([todosTable, broken], clock())).toBe(true)
    expect(errors).toHaveLength(1)
    expect(registry.require('todos')).toEqual(todosTable)
    expect(() => registry.require('lists')).toThrow(/not synced by the server; known: todos/)

    const follower = createDescriptorRegistry({ appTables: undefined, store, report: () => undefined })
    expect(follower.size).toBe(0)
    expect(await follower.reload()).toBe(true)
    expect(follower.get('todos')).toEqual(todosTable)
  })

  it('UNKNOWN_TABLE says how to pass descriptors (describeTables), whichever way they are missing', async () => {
    const thrown = (run: () => unknown): LastwordError => {
      try {
        run()
      } catch (error) {
        if (error instanceof LastwordError) return error
      }
      throw new Error('expected a LastwordError')
    }
    // Nothing known yet: pass `tables`, made by describeTables, or connect once.
    const empty = createDescriptorRegistry({ appTables: undefined, store: createMemoryStore(), report: () => undefined })
    const before = thrown(() => empty.require('todos'))
    expect(before.code).toBe('UNKNOWN_TABLE')
    expect(before.details).toEqual({ table: 'todos' })
    expect(before.message).toMatch(/pass its descriptors as `tables` to createSyncClient/)
    expect(before.message).toMatch(/describeTables of @lastword\/server/)
    expect(before.message).toMatch(/or connect once/)
    // The app's descriptors lack the table: write them out again.
    const stale = createDescriptorRegistry({ appTables: [todosTable], store: createMemoryStore(), report: () => undefined })
    const missing = thrown(() => stale.require('lists'))
    expect(missing.code).toBe('UNKNOWN_TABLE')
    expect(missing.message).toMatch(/not in `tables` \(known: todos\)/)
    expect(missing.message).toMatch(/describeTables/)
    // A long name is cut in the message (the details keep what the app asked for).
    const long = thrown(() => empty.require('t'.repeat(200)))
    expect(long.message).toContain(`"${'t'.repeat(64)}"`)
    expect(long.message).not.toContain('t'.repeat(65))
  })
})
