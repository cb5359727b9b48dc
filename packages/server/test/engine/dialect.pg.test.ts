/**
 * The PostgreSQL dialect uses the app's pool through its public API only: a sync's critical section
 * runs on a connection it checked out, through a Drizzle database that names columns as the app's db
 * does (its `casing` option), and nothing of the pool is replaced.
 */
import { boolean, pgTable, text } from 'drizzle-orm/pg-core'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/index.js'
import { PG_URL, requirePostgres } from '../fixtures/db.js'
import { Replica, live, principal, request, stamp } from './helpers.js'

const available = await requirePostgres()

const cased = pgTable('cased', { uid: text().primaryKey(), dueDate: text(), isDone: boolean() })

describe.skipIf(!available)('postgres dialect on the app pool', () => {
  const schema = `lw_dialect_${process.pid}`
  let admin: pg.Client
  let pool: pg.Pool

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.query(`CREATE SCHEMA ${schema}`)
    await admin.query(`CREATE TABLE ${schema}.cased (uid text PRIMARY KEY, due_date text, is_done boolean)`)
    pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 3 })
  })
  afterAll(async () => {
    await pool?.end()
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin?.end()
  })

  it("syncs through the lease's connection with the app db's casing, and leaves the pool as it was", async () => {
    const engine = createEngine({ db: drizzle({ client: pool, casing: 'snake_case' }), tables: { cased } })
    await engine.migrate()
    const ctx = principal('alice', 'A')
    const page = await engine.sync(ctx, request('cased', { push: [live('a', stamp(1), { dueDate: '2024-05-01', isDone: true })] }))
    expect(page.outcomes).toEqual([{ uid: 'a', status: 'applied' }])
    const replica = new Replica(engine, ctx, 'cased')
    await replica.full()
    expect(replica.rows().get('a')).toEqual({ dueDate: '2024-05-01', isDone: true })
    expect((await pool.query('SELECT due_date, is_done FROM cased')).rows).toEqual([{ due_date: '2024-05-01', is_done: true }])
    expect(Object.prototype.hasOwnProperty.call(pool, 'connect')).toBe(false)
    expect(Object.prototype.hasOwnProperty.call(pool, 'query')).toBe(false)
    // Idle connections carry pg-pool's own error listener only: lastword's went with its checkout.
    const idle = (pool as unknown as { _clients: pg.PoolClient[] })._clients
    for (const client of idle) {
      expect(client.listenerCount('error')).toBe(1)
      expect(Object.prototype.hasOwnProperty.call(client, 'query')).toBe(false)
    }
    await engine.close()
  })
})
