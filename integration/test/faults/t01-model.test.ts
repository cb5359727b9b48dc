/**
 * T01 on better-sqlite3 — model-based: 2–5 clients with random overlapping scopes, random sequences of
 * create, update, delete, sync, offline, online, subscribe, unsubscribe and waits (see src/model.ts);
 * I1 and I3 after healing, plus I2, I4, I6, I7, I9 along the way.
 */
import { it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { openSqlite } from '../../src/databases.js'
import { runModelCampaign } from '../../src/model.js'

it('T01 (SQLite): random command sequences converge on the greatest stamp per uid (I1, I3)', async () => {
  await runModelCampaign({ row: 'T01-S', ciCount: 300, openDatabase: async () => openSqlite() })
}, scaledTimeout(1_800_000))
