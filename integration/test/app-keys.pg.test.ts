/** Tables keyed by the app's primary key (text and uuid keys, uuid columns), real clients on a PostgreSQL server (keys/scenarios.ts); skipped with the reason printed when PostgreSQL is unreachable (failing under CI). */
import { describe, it } from 'vitest'
import { requirePostgres } from '../src/databases.js'
import { runKeyScenarios } from './keys/scenarios.js'

if (await requirePostgres('app keys (PostgreSQL)')) runKeyScenarios('postgres')
else describe('tables keyed by the app primary key (postgres)', () => it.skip('PostgreSQL unreachable (reason printed above)', () => undefined))
