/**
 * T30 on better-sqlite3 (`PRAGMA foreign_keys = ON`) — model-based over a `lists`/`todos` pair with a real
 * foreign key, ON DELETE cascade and ON DELETE set null (see src/relational-model.ts): after every command
 * the server's rows satisfy the key and each answered unit is all or nothing (U1) with justified refusals;
 * after healing I1 on both tables and I16 (PD1–PD5).
 */
import { it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { runRelationalCampaign } from '../../src/relational-campaign.js'
import { listThenTodoDeleted } from '../../src/relational-regressions.js'
import { openRelationalSqlite } from '../../src/relational-schema.js'

it.each(['cascade', 'set null'] as const)('T30 (SQLite, ON DELETE %s): random relational commands keep the foreign key, units whole, and converge (U1, I16, I1)', async (onDelete) => {
  // B25 (set null), B26 (cascade): the runs that found them.
  const regressions = onDelete === 'set null' ? [{ seed: 484644598, path: '11' }] : [{ seed: 856396493, path: '43' }]
  await runRelationalCampaign({ row: `T30-S ${onDelete}`, ciCount: 100, onDelete, open: async () => openRelationalSqlite(onDelete), regressions })
}, scaledTimeout(600_000))

it.each(['cascade', 'set null'] as const)('B27 (SQLite, ON DELETE %s): a list and then its todo deleted in one unit leave two tombstones', async (onDelete) => {
  await listThenTodoDeleted(openRelationalSqlite(onDelete))
})
