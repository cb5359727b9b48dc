/**
 * One run of a scope's sync: requests and pages until the server has nothing more, each page applied
 * and stored before the next request (invariant I10), then one report. A scope's runs only pull; dirty
 * records go through `lw:push` (pusher.ts), and records a page asks for are handed to it.
 */
import { LastwordError, fromWireError, parseWire, syncPageSchema, type SyncPage } from '@lastword/core'
import { closedError, offlineError, type SyncContext } from './context.js'
import { applyPage } from './page-apply.js'
import { buildRequest } from './request-builder.js'
import type { ScopeEntry } from './scope-registry.js'
import type { SyncReport } from './types.js'
import { guardReplica } from './replica-guard.js'

/** Runs one sync of `entry`; throws what the server or the store refused (the scheduler retries transient failures). */
export async function runSync(ctx: SyncContext, entry: ScopeEntry): Promise<void> {
  // Every transaction of the run on one replica: not finished on a database that replaced it.
  await runPages(guardReplica(ctx), entry)
}

async function runPages(ctx: SyncContext, entry: ScopeEntry): Promise<void> {
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
  let received = 0
  // The first page's total holds for the run (the server counts on first pages only, progress-total.ts).
  let total: number | null = null
  for (;;) {
    if (ctx.state.stopped) throw closedError()
    if (!ctx.state.connected) throw offlineError()
    // Read before the request: a P9 reset after it makes the page keep the reset (context.ts, `reconcileEpoch`).
    const epoch = ctx.state.reconcileEpoch.get(entry.table) ?? 0
    const request = await buildRequest(ctx, entry)
    const sentFull = request.full !== undefined
    if (sentFull) report.mode = 'full'
    const sentAt = clock.local()
    const reply = await transport.request('lw:sync', request, settings.requestTimeoutMs)
    const receivedAt = clock.local()
    if (!reply.ok) throw fromWireError(reply.error)
    if (request.subscription !== undefined) entry.serverSubscribed = true
    const page: SyncPage = parseWire(syncPageSchema, reply.data, 'sync page')
    // One sample of four timestamps: the server's handling (receivedAt → answeredAt) drops out.
    clock.sample(sentAt, page.receivedAt, page.answeredAt, receivedAt)
    if (page.mode === 'resync' && sentFull) {
      throw new LastwordError('INTERNAL', 'The server asked for a resync in answer to a full reconciliation')
    }
    const result = await applyPage(ctx, entry, request, page, epoch)
    report.pulled += page.rows.length + page.tombstones.length
    report.evicted.push(...result.evicted)
    report.purged.push(...result.purged)
    // Records the server asked for (marked dirty) go through the pusher.
    if (page.push.length > 0) ctx.reroute(entry.table)
    // Live queries (and other tabs) re-read only when the page touched records: a resync with nothing
    // to do costs no read of the table.
    const touched = [...page.rows.map((r) => String(r[0])), ...page.tombstones.map((t) => t[0]), ...page.evict.map(([uid]) => uid), ...page.purged, ...page.push]
    if (touched.length > 0) ctx.deps.onChanged([entry.table], touched, result.states)
    // A page's `progress.received` counts that page (the server's reading); the run adds them up.
    received += page.progress.received
    if (page.mode === 'resync') total = null
    else total ??= page.progress.total
    const done = page.mode !== 'resync' && !page.hasMore
    // Never below what arrived (the incremental count is an estimate); exact once the run is done.
    const shown = done ? received : total === null ? null : Math.max(total, received)
    ctx.deps.onProgress({ table: entry.table, scopeKey: entry.key, received, total: shown })
    if (done) break
  }
  report.durationMs = Math.max(0, clock.local() - started)
  ctx.deps.onReport(report)
}
