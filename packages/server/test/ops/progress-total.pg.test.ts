import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { runProgressTotalSuite } from './progress-total.suite.js'

if (await requirePostgres()) runProgressTotalSuite('postgres', pgHarness(4))
