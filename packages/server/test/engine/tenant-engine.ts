/**
 * An engine on the test `todos` table with the suite's tenant authorization, opened before each test and
 * closed after it: the fixture of the engine tests that look at statements and query plans.
 */
import { afterEach, beforeEach } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import type { TestDb } from '../fixtures/db.js'
import { createTestClock } from './helpers.js'
import { tenantAuthorize } from './suite.js'

export interface TenantEngine {
  readonly t: TestDb
  readonly engine: Engine
}

export function tenantEngine(open: () => Promise<TestDb>): TenantEngine {
  const fixture = {} as { t: TestDb; engine: Engine }
  beforeEach(async () => {
    fixture.t = await open()
    fixture.engine = createEngine({
      db: fixture.t.db,
      tables: { todos: { table: fixture.t.todos, serverColumns: { tenant: (p) => (p?.['tenant'] as string | undefined) ?? 'system' } } },
      authorize: tenantAuthorize,
      now: createTestClock().now,
    })
    await fixture.engine.migrate()
  })
  afterEach(async () => {
    await fixture.engine.close()
    await fixture.t.close()
  })
  return fixture
}
