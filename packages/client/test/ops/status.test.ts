/**
 * `hasSynced` / `lastSyncedAt` (status/sync-status.ts: persisted through the stored scopes' `syncedAt`,
 * so a reload knows) and the `logger` option (status/logger.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LastwordError } from '@lastword/core'
import { createSyncClient, type SyncClient, type SyncClientOptions, type SyncedState } from '../../src/index.js'
import { createLog, logError } from '../../src/status/logger.js'
import { createSyncStatus } from '../../src/status/sync-status.js'
import { createMemoryStore } from '../../src/store/memory-store.js'
import { createScriptedServer, eventually, newIndexedDB, page, todosTable, type ScriptedServer, type Todo } from '../helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function setup(server: ScriptedServer, options: Partial<SyncClientOptions>): SyncClient {
  const client = createSyncClient({ name: 'status', tables: [todosTable], transport: server.transport, retry: { baseMs: 5, maxMs: 20 }, tabs: false, logger: false, ...options })
  clients.push(client)
  return client
}

describe('hasSynced and lastSyncedAt', () => {
  it('start false, turn true with a synced event after the first sync, and survive a reload', async () => {
    const indexedDB = newIndexedDB()
    const server = createScriptedServer((request) => page(request, { checkpoint: 'lw1.5.00000000000000' }))
    const first = setup(server, { indexedDB })
    await first.ready()
    expect([first.hasSynced, first.lastSyncedAt]).toEqual([false, null])
    const events: SyncedState[] = []
    first.on('synced', (s) => events.push(s))
    first.table<Todo>('todos').subscribe({}, () => undefined)
    server.connect()
    await eventually(() => expect(events.length).toBeGreaterThan(0))
    expect(events[0]).toEqual({ hasSynced: true, lastSyncedAt: expect.any(Number) })
    expect(first.hasSynced).toBe(true)
    const at = first.lastSyncedAt as number
    await first.close()

    const offline = createScriptedServer()
    const second = setup(offline, { indexedDB })
    await second.ready()
    expect(second.hasSynced).toBe(true)
    expect(second.lastSyncedAt).toBe(at)
  })
})

describe('logger', () => {
  it('defaults to warn and error on the console, drops debug and info', () => {
    const console = { warn: vi.fn(), error: vi.fn() }
    const log = createLog(undefined, console)
    log.debug('d')
    log.info('i')
    log.warn('w', { a: 1 })
    log.error('e')
    expect(console.warn).toHaveBeenCalledWith('[lastword] w', { a: 1 })
    expect(console.error).toHaveBeenCalledWith('[lastword] e')
  })

  it('false silences it; an app logger gets every level; a throwing one breaks nothing', () => {
    const console = { warn: vi.fn(), error: vi.fn() }
    const silent = createLog(false, console)
    silent.warn('w')
    silent.error('e')
    expect(console.warn).not.toHaveBeenCalled()
    const seen: string[] = []
    const log = createLog({ debug: (m) => seen.push(`d:${m}`), info: (m) => seen.push(`i:${m}`), warn: () => { throw new Error('boom') }, error: (m) => seen.push(`e:${m}`) })
    log.debug('1')
    log.info('2')
    expect(() => log.warn('3')).not.toThrow()
    logError(log, new LastwordError('FORBIDDEN', 'no'))
    expect(seen).toEqual(['d:1', 'i:2', 'e:no'])
  })

  it('the client logs the errors it emits through its logger', async () => {
    const seen: string[] = []
    const server = createScriptedServer(() => ({ ok: false, error: { code: 'FORBIDDEN', message: 'not yours' } }))
    const client = setup(server, { indexedDB: newIndexedDB(), logger: { error: (m, d) => seen.push(`${String(d?.['code'])}:${m}`) } })
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    await eventually(() => expect(seen).toContain('FORBIDDEN:not yours'))
  })
})

describe('sync status', () => {
  it('takes the greatest stored syncedAt, tells each completed sync, and forgets it when the database is lost', async () => {
    const store = createMemoryStore()
    const scope = (key: string, syncedAt: number | null) => ({ key, table: 'todos', where: {}, checkpoint: null, fullCursor: null, syncedAt })
    await store.transaction('readwrite', async (tx) => {
      await tx.putScope(scope('a', 5))
      await tx.putScope(scope('b', null))
    })
    const told: SyncedState[] = []
    const status = createSyncStatus((s) => told.push(s))
    await status.restore(store)
    expect(status.state).toEqual({ hasSynced: true, lastSyncedAt: 5 })
    await store.transaction('readwrite', (tx) => tx.putScope(scope('b', 9)))
    await status.noteSynced(store)
    expect(told).toEqual([{ hasSynced: true, lastSyncedAt: 9 }])
    status.reset()
    expect(status.state).toEqual({ hasSynced: false, lastSyncedAt: null })
  })
})
