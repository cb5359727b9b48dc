/**
 * What the change hooks (`../hooks/`) keep and read in the database, the same SQL on every dialect:
 *
 * - `lastword_hooks (name, rev)`: each hook's durable cursor — every rev up to it was handled. A hook
 *   seen for the first time starts at the version row (it is told what is committed from then on, not
 *   the history before it).
 * - the change log read back as changes with their exact before and after rows: the after row of a
 *   logged change is the before row of the record's next logged change, or, for its latest change, the
 *   record's stored image (`null` for a tombstone) — so a record changed twice gives two changes, each
 *   as it was, not twice its latest state.
 */
import { sql } from 'drizzle-orm'
import type { Row } from '../types.js'
import type { Driver, ExclusiveLock } from './dialect/types.js'
import { all, run, type Tx } from './tx.js'

/** One committed change as a change hook receives it. */
export interface ChangeEvent {
  /** The synced table's name (as clients use it). */
  table: string
  uid: string
  /** The change's rev: changes come in rev order. */
  rev: number
  /** `insert`: no live row before (a new record, or one brought back from a tombstone); `delete`: none after. */
  op: 'insert' | 'update' | 'delete'
  /** The live row before the change, `null` if there was none. */
  before: Row | null
  /** The live row after the change, `null` for a deletion. */
  after: Row | null
  /**
   * The record's stored metadata now: its latest rev (this change's, or a later one's) and its stamps.
   * `null` once the record is gone (erased, or a tombstone purged).
   */
  record: { rev: number; created_at: string; updated_at: string; deleted_at: string | null } | null
}

/** A hook's cursor and where the database stands. */
export interface HookState {
  /** Every rev up to here was handled. */
  cursor: number
  /** The version row: every rev up to it is committed. */
  rev: number
  /** The retention horizon: the change log holds nothing at or under it. */
  horizonRev: number
}

/** The change hooks' storage (engine/index.ts exposes it as `engine.hookStore`). */
export interface HookStore {
  /** Creates the hook's cursor at the version row if it has none; returns its state. */
  open(name: string): Promise<HookState>
  state(name: string): Promise<HookState>
  /** Moves the cursor from `from` to `to`; `false` if it was not at `from` (another holder moved it). */
  advance(name: string, from: number, to: number): Promise<boolean>
  /** Logged changes with rev in (`after`, `upTo`], at most `limit`; `scannedTo` as `changesSince`'s. */
  changes(after: number, upTo: number, limit: number): Promise<{ changes: ChangeEvent[]; scannedTo: number }>
  /** The hook's lock across processes (`Driver.tryExclusive`); `null`: another process runs it now. */
  lock(name: string): Promise<ExclusiveLock | null>
}

const json = (value: unknown): Row | null => (typeof value === 'string' ? (JSON.parse(value) as Row) : null)

function* readState(name: string): Tx<HookState> {
  const rows = yield* all(sql`SELECT h.rev AS cursor, s.rev AS rev, s.horizon_rev AS horizon FROM lastword_hooks h CROSS JOIN lastword_state s WHERE h.name = ${name} AND s.id = 1`)
  const row = rows[0]
  if (row === undefined) return { cursor: -1, rev: -1, horizonRev: -1 }
  return { cursor: Number(row['cursor']), rev: Number(row['rev']), horizonRev: Number(row['horizon']) }
}

function* readChanges(after: number, upTo: number, limit: number): Tx<{ changes: ChangeEvent[]; scannedTo: number }> {
  const next = (column: string) =>
    sql.raw(`(SELECT n.${column} FROM lastword_changes n WHERE n.tbl = c.tbl AND n.uid = c.uid AND n.rev > c.rev ORDER BY n.rev LIMIT 1)`)
  const rows = yield* all(sql`SELECT c.rev AS lw_rev, c.tbl AS lw_tbl, c.uid AS lw_uid, c.before AS lw_before,
      ${next('rev')} AS lw_next_rev, ${next('before')} AS lw_next_before,
      m.rev AS lw_mrev, m.created_at AS lw_created, m.updated_at AS lw_updated, m.deleted_at AS lw_deleted, m.image AS lw_image
    FROM lastword_changes c LEFT JOIN lastword_meta m ON m.tbl = c.tbl AND m.uid = c.uid AND m.rev > 0
    WHERE c.rev > ${after} AND c.rev <= ${upTo} ORDER BY c.rev LIMIT ${limit}`)
  const changes = rows.map((row): ChangeEvent => {
    const stored = row['lw_mrev'] === null || row['lw_mrev'] === undefined ? null : row
    const deleted = stored !== null && stored['lw_deleted'] !== null && stored['lw_deleted'] !== undefined
    const hasNext = row['lw_next_rev'] !== null && row['lw_next_rev'] !== undefined
    const before = json(row['lw_before'])
    const after = hasNext ? json(row['lw_next_before']) : stored === null || deleted ? null : json(stored['lw_image'])
    return {
      table: String(row['lw_tbl']),
      uid: String(row['lw_uid']),
      rev: Number(row['lw_rev']),
      op: after === null ? 'delete' : before === null ? 'insert' : 'update',
      before,
      after,
      record:
        stored === null
          ? null
          : {
              rev: Number(stored['lw_mrev']),
              created_at: String(stored['lw_created']),
              updated_at: String(stored['lw_updated']),
              deleted_at: deleted ? String(stored['lw_deleted']) : null,
            },
    }
  })
  const last = changes[changes.length - 1]
  return { changes, scannedTo: changes.length < limit || last === undefined ? upTo : last.rev }
}

export function createHookStore(driver: Driver, ensureOpen: () => void): HookStore {
  return {
    async open(name) {
      ensureOpen()
      return driver.write(function* () {
        yield* run(sql`INSERT INTO lastword_hooks (name, rev) SELECT CAST(${name} AS text), rev FROM lastword_state WHERE id = 1 ON CONFLICT (name) DO NOTHING`)
        return yield* readState(name)
      })
    },
    async state(name) {
      ensureOpen()
      return driver.once(() => readState(name))
    },
    async advance(name, from, to) {
      ensureOpen()
      return (await driver.once(() => run(sql`UPDATE lastword_hooks SET rev = ${to} WHERE name = ${name} AND rev = ${from}`))) === 1
    },
    async changes(after, upTo, limit) {
      ensureOpen()
      if (upTo <= after) return { changes: [], scannedTo: after }
      return driver.read(() => readChanges(after, upTo, Math.max(1, Math.floor(limit))))
    },
    lock(name) {
      ensureOpen()
      return driver.tryExclusive(`hook:${name}`)
    },
  }
}
