/**
 * The pusher (SPEC.md section 12): every dirty record goes to the server through `lw:push`, in write
 * order across tables, whatever scopes exist — a record of a table no scope covers included. A local
 * write starts a push at once (no debounce: realtime latency matters); writes made while one is in
 * flight coalesce into one more push after it. Scopes' `lw:sync` only pull.
 *
 * A push's records are marked as pushes in progress until its answer is applied (push-apply.ts) or lost;
 * a transient failure is retried with backoff while connected; another failure is reported and the
 * records stay dirty (pushed again by the next write, reconnection or `sync()`).
 */
import { fromWireError, parseWire, pushAnswerSchema, schemaVersionOf, toLastwordError, type LastwordError } from '@lastword/core'
import { backoffDelay, type CancelTimer } from '../runtime.js'
import type { StoredRecord } from '../store/types.js'
import type { EditEvent } from '../edits/edit-events.js'
import type { SyncContext } from './context.js'
import { applyPushAnswer, type TablePushResult } from './push-apply.js'
import { planPush, pushRequestOf } from './push-plan.js'
import { guardReplica } from './replica-guard.js'

/** The pusher of one driver. */
export interface Pusher {
  /** Pushes now, or once more after the push in flight. */
  schedule(): void
  /** Pushes until nothing eligible is left; settles then (rejects with a non-transient failure). */
  drain(): Promise<void>
  busy(): boolean
  /** Ends a backoff wait now (the connection was lost or the driver stopped). */
  wake(): void
}

const RETRYABLE = new Set(['TRANSIENT', 'RATE_LIMITED'])

/** Creates the pusher. */
export function createPusher(ctx: SyncContext): Pusher {
  const { runtime, settings } = ctx.deps
  let running: Promise<void> | null = null
  let again = false
  let cancelWait: (() => void) | null = null
  /** The failure the last push loop ended with, for `drain`. */
  let lastFailure: LastwordError | null = null

  /** One push; returns whether another must follow (records left, re-stamped or written again in flight). */
  async function pushOnce(): Promise<boolean> {
    const c = guardReplica(ctx)
    const { store, transport, clock } = c.deps
    let taken: StoredRecord[] = []
    const plan = await store
      .transaction('readonly', async (tx) => {
        // Built afresh on each attempt: the store may run this again on a reopened connection.
        c.pushes.release(taken)
        const dirty = await tx.dirtyRecords()
        const planned = planPush(dirty, settings.maxPushPerRequest, (r) => c.pushes.has(r) || outdated(r))
        taken = planned.units.flatMap((u) => u.records)
        // Taken in the same synchronous step as the check (pushes-in-progress.ts).
        c.pushes.take(taken)
        return planned
      })
      .catch((error: unknown) => {
        c.pushes.release(taken)
        throw error
      })
    if (plan.units.length === 0) return false
    let more = plan.more
    try {
      const sentAt = clock.local()
      const reply = await transport.request('lw:push', pushRequestOf(plan, (t) => c.deps.descriptor(t)), settings.requestTimeoutMs)
      const receivedAt = clock.local()
      if (!reply.ok) throw fromWireError(reply.error)
      const answer = parseWire(pushAnswerSchema, reply.data, 'push answer')
      const sample = clock.sample(sentAt, answer.receivedAt, answer.answeredAt, receivedAt)
      const result = await applyPushAnswer(c, plan, answer, sample, receivedAt)
      if (result.clockRefused !== null) c.deps.onClock(result.clockRefused)
      for (const table of result.tables.values()) told(table)
      // P9: a table whose scopes were set to reconcile in full syncs them now (the dropped child comes back).
      for (const table of result.tables.values()) {
        if (!table.reconcile) continue
        c.state.reconcileEpoch.set(table.table, (c.state.reconcileEpoch.get(table.table) ?? 0) + 1)
        c.resync(table.table)
      }
      more ||= result.changedInFlight > 0 || [...result.tables.values()].some((t) => t.restamped.length > 0)
    } finally {
      c.pushes.release(taken)
    }
    return more
  }

  /** P8: while the server says this schema version is outdated, the table's writes wait (dirty) for the upgrade. */
  function outdated(record: StoredRecord): boolean {
    const version = ctx.state.outdated.get(record.table)
    const table = ctx.deps.descriptor(record.table)
    return version !== undefined && table !== undefined && schemaVersionOf(table) <= version
  }

  /** Tells the app what a table's records came to: the report, `edit` events, live queries, P8. */
  function told(result: TablePushResult): void {
    const { table } = result
    ctx.deps.onChanged([table], [...result.states.keys()], result.states)
    for (const { outcome, winner } of result.outcomes) {
      let event: EditEvent | null = null
      if (outcome.status === 'superseded' && result.superseded.some((s) => s.uid === outcome.uid)) {
        const state = winner === null ? null : { row: winner.deleted_at === null ? winner.row : null, created_at: winner.created_at, updated_at: winner.updated_at, deleted_at: winner.deleted_at }
        event = { kind: 'superseded', table, uid: outcome.uid, rule: outcome.rule, winner: state }
      } else if (outcome.status === 'rejected' && (result.rejected.some((r) => r.uid === outcome.uid) || (outcome.error.code === 'PURGED' && result.purged.includes(outcome.uid)))) {
        event = { kind: 'rejected', table, uid: outcome.uid, error: fromWireError(outcome.error).toWire() }
      }
      if (event !== null) ctx.deps.onEdit?.(event)
    }
    if (result.outdated.length > 0) {
      const descriptor = ctx.deps.descriptor(table)
      ctx.state.outdated.set(table, descriptor === undefined ? 1 : schemaVersionOf(descriptor))
      const refusal = result.outcomes.find(({ outcome }) => outcome.status === 'rejected' && outcome.error.code === 'SCHEMA_OUTDATED')?.outcome
      const current = refusal?.status === 'rejected' ? refusal.error.details?.['current'] : undefined
      ctx.deps.onSchemaOutdated?.(table, typeof current === 'number' && Number.isSafeInteger(current) ? current : null)
    }
    const pushedAny = result.pushed + result.superseded.length + result.rejected.length + result.restamped.length + result.outdated.length + result.purged.length
    if (pushedAny === 0) return
    ctx.deps.onReport({
      table,
      scopeKey: '',
      mode: 'incremental',
      pushed: result.pushed,
      pulled: 0,
      superseded: result.superseded,
      rejected: result.rejected,
      restamped: result.restamped,
      outdated: result.outdated,
      evicted: [],
      purged: result.purged,
      durationMs: 0,
    })
  }

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel: CancelTimer = runtime.setTimer(() => {
        cancelWait = null
        resolve()
      }, ms)
      cancelWait = () => {
        cancel()
        cancelWait = null
        resolve()
      }
    })
  }

  async function loop(): Promise<void> {
    let failure: LastwordError | null = null
    ctx.deps.onActivity()
    try {
      for (let attempt = 0; ; ) {
        if (ctx.state.stopped || !ctx.state.connected) return
        again = false
        try {
          const more = await pushOnce()
          attempt = 0
          failure = null
          if (!more && !again) return
        } catch (error) {
          const lw = toLastwordError(error)
          if (!RETRYABLE.has(lw.code) || !ctx.state.connected || ctx.state.stopped) {
            failure = lw
            if (lw.code !== 'TRANSIENT' && lw.code !== 'CLOSED') ctx.deps.onError(lw)
            if (!again) return
            continue
          }
          await wait(backoffDelay(settings.retry, attempt++, () => runtime.random()))
        }
      }
    } finally {
      running = null
      ctx.deps.onActivity()
      if (failure !== null) lastFailure = failure
    }
  }

  function start(): Promise<void> {
    if (running !== null) {
      again = true
      return running
    }
    lastFailure = null
    running = loop()
    return running
  }

  return {
    schedule() {
      if (ctx.state.stopped || !ctx.state.connected) return
      void start()
    },
    async drain() {
      await start()
      if (lastFailure !== null) throw lastFailure
    },
    busy: () => running !== null,
    wake: () => cancelWait?.(),
  }
}
