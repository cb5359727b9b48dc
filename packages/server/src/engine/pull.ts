/**
 * The pull half of `lw:sync` (ARCHITECTURE.md, "Incremental pull" and "Full reconciliation"). Each
 * page is read in one snapshot with a constant number of statements, whatever the size of the scope.
 */
import {
  classifyChange,
  computePlan,
  encodeCheckpoint,
  formatLineagePoint,
  isPurgeProven,
  isFieldMerge,
  fieldDigest,
  lineageBreak,
  parseLineage,
  segmentsNamed,
  type LineageHistory,
  type LineagePoint,
  matches,
  rowToArray,
  versionOf,
  type Checkpoint,
  type Eviction,
  type ClientEntry,
  type FullCursor,
  type Scope,
  type ServerEntry,
  type Stamp,
  type SyncPage,
} from '@lastword/core'
import { sql, type SQL } from 'drizzle-orm'
import type { Dialect } from './dialect/types.js'
import { all, type Tx } from './tx.js'
import { scopeSql } from './scope-sql.js'
import { readErasures, readHistory, readLineageState } from './lineage.js'
import { META_COLUMNS as META, decodeMeta, type ServerRecord } from './store.js'
import { decodeRow, type SyncedTable } from './tables.js'
import { columnStamps } from './fields.js'
import { fullTotal, incrementalTotal } from './progress-total.js'

/** The part of a {@link SyncPage} the pull decides. */
export type PullPage = Omit<SyncPage, 'receivedAt' | 'answeredAt' | 'outcomes' | 'columns'>

/** Why a checkpoint cannot be used. */
export type ResyncReason = 'no-checkpoint' | 'scope-changed' | 'retention' | 'checkpoint-ahead' | 'restored' | 'other-database'

/** The reasons a push is not applied: the server cannot tell what the client may hold (trap 3, R12). */
export const PUSH_WITHHELD: ReadonlySet<ResyncReason> = new Set(['retention', 'checkpoint-ahead', 'restored', 'other-database'])

/** The answer asking the client for a full reconciliation. */
export function resyncPage(reason: ResyncReason): PullPage {
  return {
    mode: 'resync',
    reason,
    rows: [],
    tombstones: [],
    evict: [],
    purged: [],
    erased: [],
    knownAt: null,
    push: [],
    checkpoint: null,
    hasMore: false,
    cursor: null,
    progress: { received: 0, total: null },
  }
}

/**
 * The answer to a push-only request (`pull: false`): nothing pulled, the client's `checkpoint` unchanged.
 * `knownAt`: a point of the history read after the push committed — what the outcomes' states are known
 * as of (R12: never a point before the write, which a restore to a backup in between would still hold).
 */
export function pushOnlyPage(checkpoint: string, knownAt: string): PullPage {
  return { mode: 'incremental', rows: [], tombstones: [], evict: [], purged: [], erased: [], knownAt, push: [], checkpoint, hasMore: false, cursor: null, progress: { received: 0, total: null } }
}

/**
 * Whether a point of some history (a checkpoint's rev and lineage) is part of this database's (R12,
 * lineage.ts): a token without a lineage (`lw1`) never is. Another database, or a point past a restore.
 */
function lineageReason(lineage: Checkpoint['lineage'], rev: number, history: LineageHistory): ResyncReason | null {
  if (lineage === undefined) return 'restored'
  return lineageBreak({ ...lineage, rev }, history)
}

/** Why an incremental pull from `checkpoint` cannot be answered (`null`: it can). */
export function incrementalResyncReason(p: Pick<PullScope, 'hash'>, checkpoint: Checkpoint, state: { rev: number; horizonRev: number }, history: LineageHistory): ResyncReason | null {
  if (checkpoint.scopeHash !== p.hash) return 'scope-changed'
  if (checkpoint.rev > state.rev && checkpoint.lineage?.db === history.db) return 'checkpoint-ahead'
  const broken = lineageReason(checkpoint.lineage, checkpoint.rev, history)
  if (broken !== null) return broken
  // The before-images since the client's holdings date from must all still be logged.
  if ((checkpoint.since ?? checkpoint.rev) < state.horizonRev) return 'retention'
  return null
}

/** Why a full-reconciliation page cannot be answered (`null`: it can). */
export function fullResyncReason(request: Pick<FullRequest, 'cursor'>, state: { rev: number; horizonRev: number }, history: LineageHistory): ResyncReason | null {
  const startRev = request.cursor?.startRev ?? state.rev
  if (startRev > state.rev) return 'checkpoint-ahead'
  if (request.cursor !== null) {
    let lineage: Checkpoint['lineage']
    try {
      lineage = request.cursor.lineage === undefined ? undefined : parseLineage(request.cursor.lineage)
    } catch {
      lineage = undefined
    }
    const broken = lineageReason(lineage, startRev, history)
    if (broken !== null) return broken
  }
  if (startRev < state.horizonRev) return 'retention'
  return null
}

/**
 * Before a push: whether it must wait (`withheld`, the reason to resync) and the history R10 judges the
 * pushed records' `knownAt` against (R12). A push is not applied when the server no longer knows what
 * the client may hold: with a checkpoint behind the retention horizon, or from a history this database
 * does not share (a restored backup, another database), the client may hold records deleted and purged
 * since, and an edit of one would come back as a create (R1). It waits until full reconciliation has
 * told the client what was purged.
 */
export function* pushVerdict(
  p: PullScope,
  checkpoint: Checkpoint | null,
  full: FullRequest | undefined,
  push: ReadonlyArray<{ knownAt?: string | undefined }>,
): Tx<{ withheld: ResyncReason | null; reason: ResyncReason | null; history: LineageHistory }> {
  const state = yield* readLineageState()
  const named = segmentsOf(full?.cursor?.lineage, push.map((r) => r.knownAt ?? null))
  if (checkpoint?.lineage !== undefined) named.push(checkpoint.lineage.segment)
  const history = yield* readHistory(p.dialect, state, named)
  const reason = full !== undefined ? fullResyncReason(full, state, history) : checkpoint !== null ? incrementalResyncReason(p, checkpoint, state, history) : null
  return { withheld: reason !== null && PUSH_WITHHELD.has(reason) ? reason : null, reason, history }
}

/** What a pull reads about its table and scope. */
export interface PullScope {
  dialect: Dialect
  table: SyncedTable
  scope: Scope
  hash: string
  pageSize: number
  /** What `authorize` lets the principal read, whatever the client's filter (`null`: everything). */
  readScope: Scope | null
}

/** `1` when the joined app row exists and the principal may read it (always `1` without a read scope). */
function readableSql(p: PullScope): SQL {
  if (p.readScope === null) return sql`1`
  return sql`CASE WHEN ${p.table.uid} IS NOT NULL AND ${scopeSql(p.dialect, p.table, p.readScope)} THEN 1 ELSE 0 END`
}

function appColumns(table: SyncedTable): SQL {
  if (table.columns.length === 0) return sql``
  return sql`, ${sql.join(
    table.columns.map((c, i) => sql`${c.column} AS ${sql.identifier(`c${i}`)}`),
    sql`, `,
  )}`
}

/** `m.uid` in (`after`, `upper`]; `null` leaves that side open. */
function uidRange(after: string | null, upper: string | null): SQL {
  return sql`${after === null ? sql`` : sql` AND m.uid > ${after}`}${upper === null ? sql`` : sql` AND m.uid <= ${upper}`}`
}

function liveRow(p: PullScope, meta: ServerRecord, raw: Record<string, unknown>): unknown[] {
  const row = [meta.uid, meta.created_at, meta.updated_at, ...rowToArray(p.table.descriptor, decodeRow(p.table, raw))]
  // A field-merge table's rows end with the column stamps (wire.ts, `liveRow`).
  if (isFieldMerge(p.table.descriptor)) row.push(columnStamps(p.table, meta))
  return row
}

/** An eviction: the record's uid and version, and on a field-merge table its digest (SPEC.md E4). */
function evictionOf(p: PullScope, meta: ServerRecord): Eviction {
  const { digest } = digestOf(p, meta)
  return digest === undefined ? [meta.uid, versionOf(meta)] : [meta.uid, versionOf(meta), digest]
}

/** A field-merge record's digest for full reconciliation (core's `fieldDigest`); nothing on a row table. */
function digestOf(p: PullScope, meta: ServerRecord): { digest?: string } {
  return isFieldMerge(p.table.descriptor) ? { digest: fieldDigest(columnStamps(p.table, meta)) } : {}
}

function tombstoneRow(meta: ServerRecord): [string, Stamp, Stamp, Stamp] {
  return [meta.uid, meta.created_at, meta.updated_at, meta.deleted_at as Stamp]
}

/**
 * An incremental page: the records of the table whose latest rev is above the checkpoint, in rev
 * order, each decided by core's `classifyChange` from the images the client could have held (the
 * before-images logged since the checkpoint) and the current one.
 */
export function* incrementalPull(p: PullScope, checkpoint: Checkpoint, seen?: LineagePoint): Tx<PullPage> {
  const state = yield* readLineageState()
  const named = [...(checkpoint.lineage === undefined ? [] : [checkpoint.lineage.segment]), ...(seen === undefined ? [] : [seen.segment])]
  const history = yield* readHistory(p.dialect, state, named)
  // Records the client took from realtime past its checkpoint must be of this history too (B16).
  const reason = incrementalResyncReason(p, checkpoint, state, history) ?? (seen === undefined ? null : lineageBreak(seen, history))
  if (reason !== null) return resyncPage(reason)
  const lineage = { db: state.db, segment: state.segment }
  // The rev the client's holdings date from: its checkpoint's, or — between the pages of one pull —
  // the first page's (a record changed before a page boundary and again after it must be judged against
  // what the client held before both).
  const since = checkpoint.since ?? checkpoint.rev
  const page: PullPage = {
    mode: 'incremental',
    rows: [],
    tombstones: [],
    evict: [],
    purged: [],
    // Erasures since the checkpoint, whatever the scope: the image that would tell whose it was is gone
    // (a residual of I13, docs/guarantees.md).
    erased: checkpoint.rev === state.rev ? [] : yield* readErasures(p.table.name, checkpoint.rev, state.rev),
    knownAt: formatLineagePoint({ ...lineage, rev: state.rev }),
    push: [],
    checkpoint: encodeCheckpoint({ rev: state.rev, scopeHash: p.hash, lineage }),
    hasMore: false,
    cursor: null,
    progress: { received: 0, total: null },
  }
  if (checkpoint.rev === state.rev) {
    page.progress = { received: 0, total: 0 }
    return page
  }
  const { table } = p
  const rows = yield* all(sql`SELECT ${META},
      CASE WHEN ${table.uid} IS NOT NULL AND ${scopeSql(p.dialect, table, p.scope)} THEN 1 ELSE 0 END AS lw_match${appColumns(table)}
    FROM lastword_meta m LEFT JOIN ${table.table} ON ${p.dialect.appRowJoin(p.table)}
    WHERE m.tbl = ${table.name} AND m.rev > ${checkpoint.rev} AND m.rev <= ${state.rev}
    ORDER BY m.rev LIMIT ${p.pageSize + 1}`)
  const hasMore = rows.length > p.pageSize
  const slice = hasMore ? rows.slice(0, p.pageSize) : rows
  const records = slice.map((raw) => ({ raw, meta: decodeMeta(raw), matchNow: Number(raw['lw_match']) === 1 }))
  // Only a record that does not match now needs its past: was it in the scope when the client looked?
  const unsure = records.filter((r) => !(r.meta.deleted_at === null && r.matchNow)).map((r) => r.meta.uid)
  const heldBefore = new Set<string>()
  if (unsure.length > 0) {
    const befores = yield* all(sql`SELECT uid, before FROM lastword_changes
      WHERE tbl = ${table.name} AND rev > ${since} AND rev <= ${state.rev} AND ${p.dialect.inUids(sql`uid`, unsure)}`)
    for (const b of befores) {
      const image = b['before']
      if (typeof image === 'string' && matches(JSON.parse(image) as Record<string, unknown>, p.scope)) heldBefore.add(String(b['uid']))
    }
  }
  for (const { raw, meta, matchNow } of records) {
    const deleted = meta.deleted_at !== null
    const matchesNow = deleted ? meta.image !== null && matches(meta.image, p.scope) : matchNow
    const action = classifyChange({ couldHaveHeld: heldBefore.has(meta.uid), matchesNow, deleted })
    if (action === 'row') page.rows.push(liveRow(p, meta, raw))
    else if (action === 'tombstone') page.tombstones.push(tombstoneRow(meta))
    else if (action === 'evict') page.evict.push(evictionOf(p, meta))
  }
  // Counts only what this client is told: the number of records scanned would disclose other scopes' activity.
  // `total` on a pull's first page only (progress-total.ts).
  const total = checkpoint.since === undefined ? yield* incrementalTotal(p, checkpoint.rev, state.rev) : null
  page.progress = { received: page.rows.length + page.tombstones.length + page.evict.length, total }
  if (hasMore) {
    page.hasMore = true
    const rev = records[records.length - 1]?.meta.rev ?? checkpoint.rev
    page.checkpoint = encodeCheckpoint(rev > since ? { rev, since, scopeHash: p.hash, lineage } : { rev, scopeHash: p.hash, lineage })
    // The next page tells the erasures after its checkpoint.
    page.erased = yield* readErasures(p.table.name, checkpoint.rev, rev)
  }
  return page
}

/** The client's side of a full-reconciliation page, already validated (uids ascending, > `after`). */
export interface FullRequest {
  cursor: FullCursor | null
  entries: ReadonlyArray<readonly [string, string, boolean, boolean, string | null] | readonly [string, string, boolean, boolean, string | null, string]>
  complete: boolean
}

/** The segment ids a full request names (its cursor's, and its entries' `knownAt`), to look up once. */
function segmentsOf(cursorLineage: string | undefined, knownAt: ReadonlyArray<string | null>): string[] {
  const ids = segmentsNamed(knownAt)
  if (cursorLineage !== undefined) ids.push(cursorLineage.slice(17))
  return ids
}

/**
 * A full-reconciliation page: the in-scope live records after `cursor.after` (at most a page), the
 * client's uids in the same range looked up in one statement, and core's `computePlan` over both.
 */
export function* fullPull(p: PullScope, request: FullRequest): Tx<PullPage> {
  const state = yield* readLineageState()
  const startRev = request.cursor?.startRev ?? state.rev
  const named = request.entries.map((entry) => entry[4])
  const history = yield* readHistory(p.dialect, state, segmentsOf(request.cursor?.lineage, named))
  const reason = fullResyncReason(request, state, history)
  if (reason !== null) return resyncPage(reason)
  // The reconciliation's checkpoint names the lineage of its start rev (a segment may open meanwhile).
  const lineage = request.cursor?.lineage === undefined ? { db: state.db, segment: state.segment } : parseLineage(request.cursor.lineage)
  const { table } = p
  const after = request.cursor?.after ?? null
  const lastEntry = request.entries[request.entries.length - 1]
  const clientUpper = request.complete || lastEntry === undefined ? null : lastEntry[0]
  // Only live rows in the scope, filtered in SQL: page boundaries (the cursor) are then always uids the
  // client may see. Tombstones matter only for uids the client holds; they come from the lookup below.
  // Read no further than the client listed (the page ends there anyway): a closed uid range keeps every
  // page a range scan of the primary key, even where PostgreSQL has no statistics yet.
  const rows = yield* all(sql`SELECT ${META}${appColumns(table)}
    FROM lastword_meta m JOIN ${table.table} ON ${p.dialect.appRowJoin(p.table)}
    WHERE m.tbl = ${table.name} AND m.rev > 0 AND m.deleted_at IS NULL${uidRange(after, clientUpper)}
      AND ${scopeSql(p.dialect, table, p.scope)}
    ORDER BY m.uid LIMIT ${p.pageSize + 1}`)
  const serverMore = rows.length > p.pageSize
  const serverUpper = serverMore ? String(rows[p.pageSize - 1]?.['uid']) : null
  // The page covers (after, upper]: as far as both sides have listed.
  const upper = serverUpper === null ? clientUpper : clientUpper === null ? serverUpper : serverUpper < clientUpper ? serverUpper : clientUpper
  const inRange = (uid: string): boolean => upper === null || uid <= upper

  const server = new Map<string, ServerEntry>()
  const records = new Map<string, { meta: ServerRecord; raw: Record<string, unknown> }>()
  for (const raw of serverMore ? rows.slice(0, p.pageSize) : rows) {
    const meta = decodeMeta(raw)
    if (!inRange(meta.uid)) continue
    server.set(meta.uid, { version: versionOf(meta), deleted: false, inScope: true, readable: true, ...digestOf(p, meta) })
    records.set(meta.uid, { meta, raw })
  }
  const client = new Map<string, ClientEntry>()
  for (const [uid, version, deleted, acknowledged, knownAt, digest] of request.entries) {
    // R12: whether the server can show an acknowledged record it does not know was purged — the
    // client's knowledge of it is part of this database's history. Judged from the entry alone (I13).
    const purgeProven = isPurgeProven({ acknowledged, knownAt }, history)
    if (inRange(uid)) client.set(uid, { version: version as Stamp, deleted, acknowledged, purgeProven, ...(digest === undefined ? {} : { digest }) })
  }
  // The client's other uids, in one statement: tombstones (in scope by their last image), live rows
  // outside the scope, or unknown. Looked up by primary key, within the page's range: `+m.rev` keeps
  // `rev > 0` off the `(tbl, rev)` index, which both planners otherwise walk over the whole table
  // (as store.ts's readMeta found for pushes). Each says whether the principal may read it at all
  // (the live row in SQL, a tombstone by its last image): core plans an unreadable one as unknown (I13).
  const missing = [...client.keys()].filter((uid) => !server.has(uid))
  if (missing.length > 0) {
    const join = p.readScope === null ? sql`` : sql` LEFT JOIN ${table.table} ON ${p.dialect.appRowJoin(p.table)}`
    const found = yield* all(sql`SELECT ${META}, ${readableSql(p)} AS lw_readable FROM lastword_meta m${join}
      WHERE m.tbl = ${table.name} AND +m.rev > 0${uidRange(after, upper)} AND ${p.dialect.inUids(sql`m.uid`, missing)}`)
    for (const raw of found) {
      const meta = decodeMeta(raw)
      const deleted = meta.deleted_at !== null
      const lastImageIn = (scope: Scope | null): boolean => meta.image !== null && (scope === null || matches(meta.image, scope))
      const readable = p.readScope === null || (deleted ? lastImageIn(p.readScope) : Number(raw['lw_readable']) === 1)
      server.set(meta.uid, { version: versionOf(meta), deleted, inScope: deleted && lastImageIn(p.scope), readable })
      // An unreadable tombstone is not sent: the plan purges it like an unknown uid.
      if (deleted && readable) records.set(meta.uid, { meta, raw })
    }
  }
  const plan = computePlan(server, client)
  const page: PullPage = {
    mode: 'full',
    rows: [],
    tombstones: [],
    evict: plan.evictClient.map((uid) => [uid, (server.get(uid) as ServerEntry).version]),
    purged: [],
    erased: [],
    knownAt: formatLineagePoint({ db: state.db, segment: state.segment, rev: state.rev }),
    push: [...plan.addDatabase, ...plan.updateDatabase, ...plan.deleteDatabase].sort(),
    checkpoint: upper === null ? encodeCheckpoint({ rev: startRev, scopeHash: p.hash, lineage }) : null,
    hasMore: upper !== null,
    cursor: upper === null ? null : { startRev, after: upper, lineage: `${lineage.db}.${lineage.segment}` },
    progress: { received: 0, total: null },
  }
  for (const uid of [...plan.addClient, ...plan.updateClient].sort()) {
    const record = records.get(uid)
    if (record !== undefined) page.rows.push(liveRow(p, record.meta, record.raw))
  }
  for (const uid of plan.deleteClient) {
    const record = records.get(uid)
    if (record !== undefined && record.meta.deleted_at !== null) page.tombstones.push(tombstoneRow(record.meta))
    else page.purged.push(uid)
  }
  const total = request.cursor === null ? yield* fullTotal(p) : null
  page.progress = { received: page.rows.length + page.tombstones.length + page.evict.length + page.purged.length, total }
  return page
}
