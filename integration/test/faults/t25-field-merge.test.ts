/**
 * T25 on better-sqlite3 — field merge, model-based: T01's random command sequences (create, update of
 * random columns, delete, sync, offline, online, scope changes, waits; src/model.ts) on an `items` table
 * declared `merge: 'field'`, so concurrent edits of different columns and deletes meet in every order.
 * After healing: I1 (every client equals the server), and I3 per field — the server holds core's merge
 * of every write it took, column by column (src/field-checkers.ts) — plus I2, I4, I5, I7 along the way.
 * A small count by default; `RUNS` scales it.
 */
import { it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { openSqlite } from '../../src/databases.js'
import { runModelCampaign } from '../../src/model.js'

it('T25 (SQLite): field merge — random command sequences converge column by column (I1, I3 per field)', async () => {
  await runModelCampaign({ row: 'T25-S', ciCount: 60, merge: 'field', openDatabase: async () => openSqlite() })
}, scaledTimeout(900_000))
