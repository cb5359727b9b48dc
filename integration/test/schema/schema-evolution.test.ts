/** Offline clients across schema changes on SQLite (scenarios.ts). */
import { openSite, sqliteStore, sqliteVersions } from './harness.js'
import { runSchemaScenarios } from './scenarios.js'

runSchemaScenarios('sqlite', async () => ({ site: await openSite(sqliteStore()), versions: sqliteVersions() }))
