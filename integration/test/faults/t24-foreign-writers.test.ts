/**
 * T24 on better-sqlite3 — foreign writers in the model-based campaign (src/foreign-model.ts): T01's client
 * commands mixed with the app's plain Drizzle writes on the engine's own connection, raw SQL on a second
 * connection to the WAL file, and foreign writes racing a client's push of the same uid; the change feed
 * polls on virtual time. After healing I1, I2, I3, I5 over pushes and foreign writes, the feed's
 * "nothing missed, nothing twice", and a last burst of foreign writes carried by realtime alone.
 */
import { it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { sqliteForeignSite } from '../../src/foreign-site.js'
import { foreignVariant } from '../../src/foreign-model.js'
import { runModelCampaign } from '../../src/model.js'

const site = sqliteForeignSite()

it('T24 (SQLite): foreign writers mixed with real clients — every write captured once, delivered, converged (I1, I2, I3, I5, I14)', async () => {
  await runModelCampaign({ row: 'T24-S', ciCount: 100, openDatabase: () => site.openDatabase(), variant: foreignVariant(site, false) })
}, scaledTimeout(1_800_000))
