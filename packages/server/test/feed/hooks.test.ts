/** T27 on SQLite (`hooks.suite.ts`): servers one after another on one WAL file; and the options refused at startup. */
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createSyncServer, isLastwordError, type SyncServerOptions } from '../../src/index.js'
import { sqliteTodos } from '../fixtures/schema.js'
import { sqliteShared } from './fixture.js'
import { hookSuite } from './hooks.suite.js'

describe('change hooks on SQLite', () => {
  hookSuite(sqliteShared)
})

describe('change hook and feed options', () => {
  it('refuses a bad name, handler, table, batch, retry or feed interval with BAD_REQUEST', () => {
    const base = { db: drizzle({ client: new Database(':memory:') }), tables: { todos: sqliteTodos } }
    const bad: Array<Partial<SyncServerOptions>> = [
      { onChange: { 'no spaces': () => undefined } },
      { onChange: { ['x'.repeat(101)]: () => undefined } },
      { onChange: { audit: 'not a function' as never } },
      { onChange: { audit: { handler: () => undefined, tables: ['notes'] } } },
      { onChange: { audit: { handler: () => undefined, batch: 0 } } },
      { onChangeRetry: { baseMs: -1 } },
      { onChangeRetry: { maxMs: Number.NaN } },
      { feed: { pollIntervalMs: 0 } },
      { feed: { checkIntervalMs: Infinity } },
      { feed: { batch: -5 } },
    ]
    for (const options of bad) {
      let refused: unknown
      try {
        createSyncServer({ ...base, ...options })
      } catch (error) {
        refused = error
      }
      expect(isLastwordError(refused, 'BAD_REQUEST'), JSON.stringify(Object.keys(options))).toBe(true)
    }
    expect(() => createSyncServer({ ...base, onChange: { 'assign-email.v2': { handler: () => undefined, tables: ['todos'], batch: 10 } } })).not.toThrow()
  })
})
