/** Client transactions across tables on PostgreSQL (`PG_URL`) with a real foreign key (suite.ts). */
import pg from 'pg'
import { PG_URL } from './fixture.js'
import { relationalSuite } from './suite.js'

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    return true
  } catch (error) {
    if (process.env['CI'] !== undefined && process.env['CI'] !== '') throw error
    console.warn(`[lastword] skipping the PostgreSQL relational suite: ${PG_URL} unreachable`)
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

relationalSuite('postgres', 2, await reachable())
