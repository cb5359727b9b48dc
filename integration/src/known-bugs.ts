/**
 * Bugs the campaigns found in code this harness does not own, still open (B5 — a terminated PostgreSQL
 * backend crashing the process — was fixed in packages/server/src/engine/driver.ts and left the list). While a bug is open, the CI
 * configuration of the campaigns that trip over it is narrowed to what does not trigger it (each test
 * says how, and matrix.md marks the row "partial"); its deterministic regression test is marked
 * `it.fails` so that it turns red — and asks to be flipped — the day the bug is fixed. The soak
 * (`LW_EXPOSE_BUGS=1`, set by `pnpm test:soak`) runs the full fault model regardless, so the table it
 * prints shows what the open bugs still cost.
 */

export interface OpenBug {
  id: string
  where: string
  summary: string
  /** The seeds that found it. */
  seeds: readonly number[]
}

export const OPEN_BUGS = {
  B1: {
    id: 'B1',
    where: 'packages/client/src/apply.ts removeUnlessHeld (called from sync-driver.ts applyPage/applyRealtime)',
    summary:
      'An eviction keeps a record when another scope of the client matches the *stale local row*; when every such scope evicts it in turn, each defers to the other and the record never leaves (I1). Stored scopes the app unsubscribed count too.',
    seeds: [1210251228, 694681907],
  },
  B2: {
    id: 'B2',
    where: 'packages/client/src/sync-driver.ts applyRealtime (and apply.ts: evictions leave no trace)',
    summary:
      'A realtime event older than what the client already pulled (or evicted, or deleted) is applied: a late row event re-adds an evicted or deleted record with an older version (I4, I7), a late evict removes a newer row; the checkpoint has moved past both, so the next pull never repairs it (I1). Late also happens with in-order delivery: the client applies realtime events on their own queue, concurrently with pages, so an evict that arrived before an answer can be applied after it (T05 seed 1816262119).',
    seeds: [1123421285, 1086858623, 203238948, 1816262119, 1146719471],
  },
  B3: {
    id: 'B3',
    where:
      'packages/server/src/engine/index.ts sync (a push is applied even when the checkpoint is behind the retention horizon) and packages/client/src/sync-driver.ts applyPage (`purged` keeps dirty records)',
    summary:
      'A client offline across the retention window with a dirty edit of a record deleted (and purged) meanwhile brings the record back with its older stamp: its first request pushes the edit before the server answers `resync`, and the server, no longer knowing the uid, creates it (R1). Nothing deleted may come back (T10, I4).',
    seeds: [12536194],
  },
  B4: {
    id: 'B4',
    where: 'packages/server/src/engine/pull.ts incrementalPull (page checkpoints)',
    summary:
      'A paged incremental pull misses a move-out or a delete of a record that changed both before and after a page boundary: the next page decides "could the client have held it?" from the before-images logged after the page\'s checkpoint, not after the client\'s original checkpoint, so the client keeps the stale (or deleted) row (I1, I4).',
    seeds: [1815174026],
  },
  B6: {
    id: 'B6',
    where: 'packages/server/src/engine/scope-sql.ts (PostgreSQL parameters of integer columns) / packages/core/src/where.ts (what an integer filter value may be)',
    summary:
      'On PostgreSQL a filter on an integer column with a number JavaScript prints in exponent notation (|v| ≥ 1e21: `{ n: 1e300 }`, `{ n: { lt: 1e21 } }`) fails with INTERNAL ("invalid input syntax for type bigint") and logs an error, where core accepts the filter and SQLite answers it. A valid filter must be answered, or refused with a typed error.',
    seeds: [1172074782],
  },
} as const satisfies Record<string, OpenBug>

export type BugId = keyof typeof OPEN_BUGS

/** Whether campaigns must steer clear of an open bug (not under the soak's `LW_EXPOSE_BUGS=1`). */
export function avoiding(bug: BugId): boolean {
  if (!(bug in OPEN_BUGS)) return false
  return process.env['LW_EXPOSE_BUGS'] !== '1'
}

/** Logs once per test file which open bugs narrow a campaign. */
export function noteAvoided(row: string, bugs: readonly BugId[]): void {
  const open = bugs.filter(avoiding)
  if (open.length === 0) return
  console.warn(`[${row}] narrowed while ${open.join(', ')} ${open.length === 1 ? 'is' : 'are'} open (LW_EXPOSE_BUGS=1 runs the full model): ${open.map((b) => `${b}: ${OPEN_BUGS[b].where}`).join('; ')}`)
}

/**
 * B2 attribution for the fault campaigns: a failing run is B2's doing when its violations are of the
 * kinds B2 produces (I1, I4, I7) and the same seed passes with realtime switched off — the checkpointed
 * pull alone then converges. `rerunWithoutRealtime` runs the same seed with every realtime event dropped.
 */
export async function attributeToB2(
  outcome: { violations: readonly { invariant: string }[] },
  rerunWithoutRealtime: () => Promise<{ violations: readonly unknown[] }>,
): Promise<string | null> {
  if (!avoiding('B2')) return null
  if (!outcome.violations.every((v) => v.invariant === 'I1' || v.invariant === 'I4' || v.invariant === 'I7')) return null
  const again = await rerunWithoutRealtime()
  return again.violations.length === 0 ? 'B2' : null
}

/**
 * B4 attribution: a failing run is B4's doing when its violations are I1/I4/I7 and the same seed passes
 * with pages large enough that no incremental pull is paged.
 */
export async function attributeToB4(
  outcome: { violations: readonly { invariant: string }[] },
  rerunWithLargePages: (() => Promise<{ violations: readonly unknown[] }>) | null,
): Promise<string | null> {
  if (!avoiding('B4') || rerunWithLargePages === null) return null
  if (!outcome.violations.every((v) => v.invariant === 'I1' || v.invariant === 'I4' || v.invariant === 'I7')) return null
  const again = await rerunWithLargePages()
  return again.violations.length === 0 ? 'B4' : null
}
