/**
 * One run of a scope's sync: requests and pages until the server has nothing more, each page applied
 * and stored before the next request (invariant I10), then one report. A run decides whether one more
 * run must follow it (records left to push) by setting `entry.rerunRequested`.
 */
import { LastwordError, fromWireError, parseWire, schemaVersionOf, syncPageSchema, type SyncPage } from '@lastword/core'
import { closedError, offlineError, type SyncContext } from './context.js'
import { applyPage, type PageResult } from './page-apply.js'
import { buildRequest } from './request-builder.js'
import type { ScopeEntry } from './scope-registry.js'
import type { SyncReport } from './types.js'
import { createEditTracker, type EditTracker } from '../edits/edit-events.js'
import { guardReplica } from './replica-guard.js'

/**
 * Runs one sync of `entry`; throws what the server or the store refused (the scheduler retries transient
 * failures). `pull: false`: a push of local writes — the first request skips the pull when the scope has
 * a checkpoint (the page then keeps it), and with nothing to push no request is sent.
 */
export async function runSync(ctx: SyncContext, entry: ScopeEntry, pull = true): Promise<void> {
  // What happened to pushed edits (the `edit` event), told page by page and settled when the run ends.
  const edits = createEditTracker(entry.table, (event) => ctx.deps.onEdit?.(event))
  try {
    // Every transaction of the run on one replica: not finished on a database that replaced it.
    await runPages(guardReplica(ctx), entry, pull, edits)
  } finally {
    edits.end()
  }
}

async function runPages(ctx: SyncContext, entry: ScopeEntry, pull: boolean, edits: EditTracker): Promise<void> {
  const { clock, transport, settings } = ctx.deps
  const started = clock.local()
  const report: SyncReport = {
    table: entry.table,
    scopeKey: entry.key,
    mode: 'incremental',
    pushed: 0,
    pulled: 0,
    superseded: [],
    rejected: [],
    restamped: [],
    outdated: [],
    evicted: [],
    purged: [],
    durationMs: 0,
  }
  let first = true
  let received = 0
  // The first page's total holds for the run (the server counts on first pages only, progress-total.ts).
  let total: number | null = null
  for (;;) {
    if (ctx.state.stopped) throw closedError()
    if (!ctx.state.connected) throw offlineError()
    const built = await buildRequest(ctx, entry, first, first && !pull)
    if (built.request.pull === false && built.pushed.size === 0) {
      // Nothing left to push (another run took it): no request, no report.
      if (built.more) entry.rerunRequested = true
      return
    }
    const sentFull = built.request.full !== undefined
    if (sentFull) report.mode = 'full'
    let page: SyncPage
    let result: PageResult
    let answered: ReadonlySet<string> = new Set()
    try {
      const sentAt = clock.local()
      const reply = await transport.request('lw:sync', built.request, settings.requestTimeoutMs)
      const receivedAt = clock.local()
      if (!reply.ok) throw fromWireError(reply.error)
      if (built.request.subscription !== undefined) entry.serverSubscribed = true
      page = parseWire(syncPageSchema, reply.data, 'sync page')
      // One sample of four timestamps: the server's handling (receivedAt → answeredAt) drops out.
      const sample = clock.sample(sentAt, page.receivedAt, page.answeredAt, receivedAt)
      if (page.mode === 'resync' && sentFull) {
        throw new LastwordError('INTERNAL', 'The server asked for a resync in answer to a full reconciliation')
      }
      result = await applyPage(ctx, entry, built, page, sample, receivedAt)
      answered = new Set(page.outcomes.map((o) => o.uid))
    } finally {
      ctx.pushes.release(built.pushed.values())
      // Pushes lost with the request (or left without an outcome) go to their current carriers again.
      if ([...built.pushed.keys()].some((uid) => !answered.has(uid))) ctx.reroute(entry.table)
    }
    // Told once the page (and the re-stamped records) is stored.
    if (result.clockRefused !== null) ctx.deps.onClock(result.clockRefused)
    report.pushed += result.pushed
    report.pulled += page.rows.length + page.tombstones.length
    edits.page(page, result)
    report.superseded.push(...result.superseded)
    report.rejected.push(...result.rejected)
    report.restamped.push(...result.restamped)
    report.outdated.push(...result.outdated)
    if (result.outdated.length > 0) noteOutdated(ctx, entry.table, page.outcomes)
    report.evicted.push(...result.evicted)
    report.purged.push(...result.purged)
    // Records the server asked for, re-stamped ones, any beyond one request's share, and pushed ones the
    // server did not take up (no outcome: it answered `resync` without applying them): one more run.
    const unanswered = page.outcomes.length < built.pushed.size
    if (built.more || unanswered || page.push.length > 0 || result.restamped.length > 0 || result.changedInFlight > 0 || result.reconcile) entry.rerunRequested = true
    // Pushed by units (pusher.ts): records the server asked for (marked dirty) go through the pusher.
    if (page.push.length > 0 && ctx.deps.settings.pushBy === 'unit') ctx.reroute(entry.table)
    // Live queries (and other tabs) re-read only when the page touched records: a resync with nothing
    // to do costs no read of the table.
    const touched = [
      ...page.outcomes.map((o) => o.uid),
      ...page.rows.map((r) => String(r[0])),
      ...page.tombstones.map((t) => t[0]),
      ...page.evict.map(([uid]) => uid),
      ...page.purged,
      ...page.push,
    ]
    if (touched.length > 0) ctx.deps.onChanged([entry.table], touched, result.states)
    // A page's `progress.received` counts that page (the server's reading); the run adds them up.
    received += page.progress.received
    if (page.mode === 'resync') total = null
    else total ??= page.progress.total
    const done = page.mode !== 'resync' && !page.hasMore
    // Never below what arrived (the incremental count is an estimate); exact once the run is done.
    const shown = done ? received : total === null ? null : Math.max(total, received)
    ctx.deps.onProgress({ table: entry.table, scopeKey: entry.key, received, total: shown })
    first = false
    if (done) break
  }
  report.durationMs = Math.max(0, clock.local() - started)
  ctx.deps.onReport(report)
}

/** P8: the table's pushes wait until its descriptors are newer than the ones the server refused; the app is told. */
function noteOutdated(ctx: SyncContext, table: string, outcomes: SyncPage['outcomes']): void {
  const descriptor = ctx.deps.descriptor(table)
  ctx.state.outdated.set(table, descriptor === undefined ? 1 : schemaVersionOf(descriptor))
  const refusal = outcomes.find((o) => o.status === 'rejected' && o.error.code === 'SCHEMA_OUTDATED')
  const current = refusal?.status === 'rejected' ? refusal.error.details?.['current'] : undefined
  ctx.deps.onSchemaOutdated?.(table, typeof current === 'number' && Number.isSafeInteger(current) ? current : null)
}
