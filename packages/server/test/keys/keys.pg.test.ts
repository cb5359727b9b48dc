/** Tables keyed by the app's primary key, uuid keys and columns, through the engine on PostgreSQL (keys-suite.ts). */
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { runKeySuite } from './keys-suite.js'

if (await requirePostgres()) runKeySuite('postgres', pgHarness(4))
