import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createSyncServer } from '../../src/index.js'
import { pgTodos } from '../fixtures/schema.js'
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { runMetricsSuite } from './metrics.suite.js'

const available = await requirePostgres()
if (available) runMetricsSuite('postgres', pgHarness(6))

describe('ready() on postgres', () => {
  it('reports a server nobody listens on as unreachable, within its timeout', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 2_000 })
    const sync = createSyncServer({ db: drizzle(pool), tables: { todos: pgTodos } })
    expect(await sync.ready({ timeoutMs: 3_000 })).toMatchObject({ ready: false, reason: 'database-unreachable' })
    await sync.close()
    await pool.end()
  })
})
