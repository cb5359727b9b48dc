/** Offline clients across schema changes on SQLite (scenarios.ts). */
import { openSite, sqliteStore, sqliteVersions } from './harness.js'
import { runSchemaScenarios } from './scenarios.js'

for (const merge of ['row', 'field'] as const) {
  runSchemaScenarios(`sqlite, merge: '${merge}'`, async () => ({ site: await openSite(sqliteStore(), merge), versions: sqliteVersions() }))
}
