/**
 * T20's scenario: a T02-like workload on mildly hostile links, during which the server's database is
 * backed up and later restored from that backup (scenario.ts, `restore`). Every client holds `{}`, so
 * every accepted write stays held by some client — what a restore is repaired from — besides a random
 * scope of its own.
 */
import type { ScenarioOptions } from './scenario.js'
import { hostileLink } from './fault-network.js'
import { SCOPES } from './schema.js'

export const RESTORE_SCENARIO: Omit<ScenarioOptions, 'seed' | 'label' | 'openDatabase'> = {
  clients: [3, 5],
  durationMs: 12_000,
  writesPerSecond: 8,
  faults: (rng) => hostileLink(rng.next() * 0.5),
  offlinePerClientPerMinute: 3,
  heldByAll: SCOPES.findIndex((s) => Object.keys(s).length === 0),
  maxScopesPerClient: 2,
  restore: {},
}

/** The same, with tombstones older than 500 ms purged just before the backup (R12 must drop exactly those). */
export const RESTORE_AFTER_PURGE_SCENARIO: typeof RESTORE_SCENARIO = { ...RESTORE_SCENARIO, restore: { purgeBeforeBackupMs: 500 } }
