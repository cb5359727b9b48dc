/**
 * T25 on better-sqlite3 — field merge, on an `items` table declared `merge: 'field'`, so concurrent edits
 * of different columns and deletes meet in every order:
 *
 * - model-based: T01's random command sequences (create, update of random columns, delete, sync, offline,
 *   online, scope changes, waits; src/model.ts);
 * - under T02's faults: 5 clients on links that drop, duplicate, delay and reorder requests, answers and
 *   realtime events and break connections (src/scenario.ts).
 *
 * After healing: I1 (every client equals the server), I3 per field — the server holds the rule's result
 * over every write it took, column by column, against a model written apart from core
 * (src/field-checkers.ts) — I2 per field, I5, and I4, I7 along the way (plus I9 under faults). Small
 * counts by default; `RUNS` scales them, `FC_SEED` replays one.
 */
import { it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { openSqlite } from '../../src/databases.js'
import { hostileLink, type LinkFaults } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { runModelCampaign } from '../../src/model.js'
import { runScenario } from '../../src/scenario.js'

it('T25 (SQLite): field merge — random command sequences converge column by column (I1, I3 per field)', async () => {
  await runModelCampaign({ row: 'T25-S', ciCount: 60, merge: 'field', openDatabase: async () => openSqlite() })
}, scaledTimeout(900_000))

it('T25 (SQLite): field merge under drop, duplicate, delay, reorder and disconnect converges column by column (I1, I3 per field, I9)', async () => {
  // 1647551703: a copy of the same version as an eviction but a stale state of it (B18, SPEC.md E4).
  await runCampaign({ row: 'T25-F', ciCount: 10, regressionSeeds: [1647551703] }, (seed) =>
    runScenario({
      label: 'T25-F',
      seed,
      merge: 'field',
      openDatabase: async () => openSqlite(),
      clients: 5,
      durationMs: 15_000,
      writesPerSecond: 6,
      faults: (rng): LinkFaults => hostileLink(0.5 + rng.next() * 0.5),
      kicksPerClientPerMinute: 2,
      offlinePerClientPerMinute: 1,
      scopeChangesPerClientPerMinute: 2,
      maxScopesPerClient: 2,
      syncsPerClientPerMinute: 2,
    }),
  )
}, scaledTimeout(600_000))
