/** T24 by realtime on PostgreSQL: the app's Drizzle writes on the server's pool, raw SQL on a separate pg client (`foreign-realtime/suite.ts`); skipped with the reason printed when PostgreSQL is unreachable (failing under CI). */
import { describe, it } from 'vitest'
import { requirePostgres } from '../src/databases.js'
import { foreignRealtimeSuite } from './foreign-realtime/suite.js'

if (await requirePostgres('foreign writes by realtime (PostgreSQL)')) foreignRealtimeSuite('postgres')
else describe('foreign writes reach a subscribed client by realtime (postgres, T24)', () => it.skip('PostgreSQL unreachable (reason printed above)', () => undefined))
