/**
 * The dialect registry and what the SQLite dialect checks of the app's database: it picks the dialect
 * from the Drizzle database, refuses anything else, and leaves an in-memory database (nothing to make
 * durable) alone.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createDriver } from '../../src/engine/driver.js'
import { expectCode } from './helpers.js'

const SILENT = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

describe('dialects', () => {
  it('picks the dialect of a Drizzle database and refuses anything else', () => {
    const client = new Database(':memory:')
    expect(createDriver(drizzle({ client }), { logger: SILENT }).dialect.name).toBe('sqlite')
    for (const db of [client, {}, null]) {
      expect(() => createDriver(db, { logger: SILENT })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }) as unknown as Error)
    }
    client.close()
  })

  it('SQLite: an in-memory database passes the settings check as it is; a file needs WAL and synchronous=FULL', async () => {
    const memory = new Database(':memory:')
    memory.pragma('synchronous = OFF')
    await createDriver(drizzle({ client: memory }), { logger: SILENT }).checkSettings()
    expect(memory.pragma('synchronous', { simple: true })).toBe(0)
    memory.close()
    const dir = mkdtempSync(join(tmpdir(), 'lastword-dialect-'))
    const file = new Database(join(dir, 'app.db'))
    const driver = createDriver(drizzle({ client: file }), { logger: SILENT })
    const error = await expectCode(driver.checkSettings(), 'BAD_REQUEST')
    expect(error.details).toEqual({ journalMode: 'delete', synchronous: 2 })
    expect(file.pragma('journal_mode', { simple: true })).toBe('delete')
    file.pragma('journal_mode = WAL')
    await driver.checkSettings()
    file.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('SQLite: no lease (one writer per file, one process serving it)', () => {
    const client = new Database(':memory:')
    expect(createDriver(drizzle({ client }), { logger: SILENT }).lease('todos', 'exclusive')).toBeNull()
    client.close()
  })

  it('classifies failures per dialect: retry, row fault, neither', async () => {
    const { sqliteDialect } = await import('../../src/engine/dialect/sqlite.js')
    const { postgresDialect } = await import('../../src/engine/dialect/postgres.js')
    const wrapped = (code: string) => ({ message: 'query failed', cause: Object.assign(new Error('x'), { code }) })
    expect(sqliteDialect.isRetryable(wrapped('SQLITE_BUSY'))).toBe(true)
    expect(sqliteDialect.isRowError(wrapped('SQLITE_CONSTRAINT_CHECK'))).toBe(true)
    expect(sqliteDialect.isRowError(wrapped('23514'))).toBe(false)
    expect(postgresDialect.isRetryable(wrapped('40P01'))).toBe(true)
    expect(postgresDialect.isRetryable(wrapped('SQLITE_BUSY'))).toBe(false)
    expect(postgresDialect.isRowError(wrapped('23514'))).toBe(true)
    expect(postgresDialect.isConnectionLoss(wrapped('57P01'))).toBe(true)
    expect(postgresDialect.isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true)
    await expectCode(Promise.reject(new (await import('../../src/engine/tx.js')).RestartError()), 'TRANSIENT')
  })
})
