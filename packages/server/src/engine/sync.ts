/**
 * `lw:sync`: one request for one scope (ARCHITECTURE.md, "The sequence of one sync"). Everything is
 * validated before anything is written: the table, the request's limits, a full reconciliation's entries,
 * the schema version of a push, the filter; then the effective scope (the filter AND what `authorize` lets
 * the principal read), the overlap lock (scope-lock.ts) and, where the dialect has one, the table's lease
 * across nodes (table-lock.ts); the push (write.ts) unless the checkpoint says it must wait (R12); then the
 * pull: incremental, full, or none (push only).
 */
import { LastwordError, decodeCheckpoint, formatLineagePoint, parseLineagePoint, type LineageHistory, type PushOutcome, type Scope, type SyncPage, type SyncRequest, type WireRecord } from '@lastword/core'
import type { EffectiveScope, Limits, Principal, RequestContext } from '../types.js'
import type { Driver } from './dialect/types.js'
import { fullRequestOf } from './full-request.js'
import { readLineageState } from './lineage.js'
import { fullPull, incrementalPull, pushOnlyPage, pushVerdict, resyncPage, type PullPage, type PullScope, type ResyncReason } from './pull.js'
import { pushMapping, type SchemaVersions } from './schema.js'
import type { ScopeLocks } from './scope-lock.js'
import type { SyncedTable } from './tables.js'

/** What a sync needs of its engine. */
export interface SyncDeps {
  driver: Driver
  limits: Limits
  now: () => number
  locks: ScopeLocks
  tableOf(name: unknown): SyncedTable
  versions(): SchemaVersions
  /** The effective scope of a client's filter, with what `authorize` lets the principal read (`null`: everything). */
  scopesOf(ctx: RequestContext, table: SyncedTable, where: unknown): Promise<EffectiveScope & { readScope: Scope | null }>
  /** The write path (write.ts) on `on`, telling the clock and the commit listeners. */
  write(
    principal: Principal | null,
    table: SyncedTable,
    records: readonly WireRecord[],
    readScope: Scope | null,
    on: Driver,
    origin: unknown,
    history: LineageHistory | null,
    schemaVersion: number | undefined,
  ): Promise<PushOutcome[]>
}

/** Answers one `lw:sync` request with one page. Throws `LastwordError` before writing anything it refuses. */
export async function syncPage(deps: SyncDeps, ctx: RequestContext, request: SyncRequest): Promise<SyncPage> {
  const { driver, limits, now, locks, tableOf, versions, scopesOf, write } = deps
  // t1 of the client's offset sample, taken before any work: the handling between it and the answer's
  // time (t2, taken last) drops out of the client's offset (SPEC.md, "Clock offset").
  const receivedAt = now()
  // Everything is validated before anything is written (ARCHITECTURE.md).
  const table = tableOf(request.table)
  // The request's limits first: they are cheap, and an oversized request must not reach authorize.
  const push = request.push ?? []
  if (!Array.isArray(push)) throw new LastwordError('BAD_REQUEST', 'push must be an array of records')
  if (push.length > limits.maxPushRecords) {
    throw new LastwordError('TOO_LARGE', `A push may carry at most ${limits.maxPushRecords} records; send the rest in the next request`, {
      limit: limits.maxPushRecords,
      got: push.length,
    })
  }
  const full = request.full === undefined ? undefined : fullRequestOf(request.full, limits.maxMetaEntries)
  if (request.pull === false && (full !== undefined || request.checkpoint === null || request.checkpoint === undefined)) {
    throw new LastwordError('BAD_REQUEST', 'pull: false (push only) needs a checkpoint and no full reconciliation')
  }
  // A schema version this server never recorded is refused before anything (schema.ts).
  if (push.length > 0) pushMapping(table, versions(), request.schemaVersion)
  const scopes = await scopesOf(ctx, table, request.where)
  const checkpoint = request.checkpoint === null || request.checkpoint === undefined ? null : decodeCheckpoint(request.checkpoint)
  const requested = request.pageSize ?? limits.defaultPageSize
  const pageSize = Math.max(1, Math.min(Number.isSafeInteger(requested) ? requested : limits.defaultPageSize, limits.maxPageSize))

  const release = await locks.acquire(table.name, scopes.scope)
  // Across nodes, where the dialect has one (PostgreSQL): the table's lock, from the write transaction
  // to the end of the read (table-lock.ts); exclusive when the sync writes, shared when it only reads.
  // Without one (SQLite) the path stays exactly the in-process one.
  const lease = driver.lease(table.name, push.length > 0 ? 'exclusive' : 'shared')
  const on = lease?.driver ?? driver
  try {
    const p: PullScope = { dialect: driver.dialect, table, scope: scopes.scope, hash: scopes.hash, pageSize, readScope: scopes.readScope }
    const columns = table.descriptor.columns.map((c) => c.name)
    const pull = request.pull !== false
    const seen = request.seen === undefined ? undefined : parseLineagePoint(request.seen)
    let history: LineageHistory | null = null
    let reason: ResyncReason | null = null
    if ((push.length > 0 || !pull) && (checkpoint !== null || full !== undefined || push.some((r) => r.acknowledged === true))) {
      // A push is not applied when the server cannot tell what the client may hold: a checkpoint behind
      // the retention horizon, ahead of the database, or from another history (R12). It waits until
      // full reconciliation has told the client what was purged.
      const verdict = await on.read(() => pushVerdict(p, checkpoint, full, push))
      if (verdict.withheld !== null) return { ...resyncPage(verdict.withheld), receivedAt, answeredAt: now(), outcomes: [], columns }
      history = verdict.history
      reason = verdict.reason
    }
    const outcomes = push.length === 0 ? [] : await write(ctx.principal, table, push, scopes.readScope, on, ctx.origin, history, request.schemaVersion)
    let page: PullPage
    if (!pull) page = reason === null ? pushOnlyPage(request.checkpoint as string, formatLineagePoint(await on.read(() => readLineageState()))) : resyncPage(reason)
    else if (full !== undefined) page = await on.read(() => fullPull(p, full))
    else if (checkpoint !== null) page = await on.read(() => incrementalPull(p, checkpoint, seen))
    else page = resyncPage('no-checkpoint')
    return { ...page, receivedAt, answeredAt: now(), outcomes, columns }
  } finally {
    if (lease !== null) await lease.release()
    release()
  }
}
