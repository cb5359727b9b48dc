import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createSyncServer } from '../../src/index.js'
import { sqliteTodos } from '../fixtures/schema.js'
import { sqliteHarness } from '../fixtures/db.js'
import { runMetricsSuite } from './metrics.suite.js'

runMetricsSuite('better-sqlite3', sqliteHarness)

describe('ready() on better-sqlite3', () => {
  it('reports a database it cannot query as unreachable, with a typed reason', async () => {
    const sqlite = new Database(':memory:')
    const sync = createSyncServer({ db: drizzle(sqlite), tables: { todos: sqliteTodos } })
    sqlite.close()
    expect(await sync.ready()).toMatchObject({ ready: false, reason: 'database-unreachable', message: expect.any(String) })
    await sync.close()
  })
})
