/**
 * Realtime events (`lw:changes`), applied one at a time in arrival order, each in one store transaction
 * that reads the records it names in one pass and writes them together. Realtime never moves a
 * checkpoint — the checkpointed pull stays the truth — and an event its scope's pull or another event may
 * have overtaken is not applied (core's `decideRealtime`, SPEC.md E5); instead the scope is pulled.
 */
import {
  LastwordError,
  assertStamp,
  decideRealtime,
  decodeCheckpoint,
  formatLineage,
  historyOfPoint,
  advanceSeen,
  realtimeEventSchema,
  scopesOverlap,
  toLastwordError,
  type RealtimeDecision,
} from '@lastword/core'
import type { StoredRecord, StoredScope } from '../store/types.js'
import type { SyncContext } from './context.js'
import { greatestVersion, readRecords } from './records.js'
import { applyIncoming, lazily, loadBatch, removeUnlessHeld } from './replica-store.js'
import type { ScopeEntry } from './scope-registry.js'

/** Takes realtime events. */
export interface RealtimeReceiver {
  /** Queues an `lw:changes` event, unvalidated. */
  receive(raw: unknown): void
}

/** The rev a scope's checkpointed pull has covered: its checkpoint's, or a running full reconciliation's start. */
export function coveredRev(stored: StoredScope | undefined): number | null {
  if (stored === undefined) return null
  if (stored.checkpoint !== null) {
    try {
      return decodeCheckpoint(stored.checkpoint).rev
    } catch {
      return null // unreadable: the next sync drops it and reconciles in full
    }
  }
  return stored.fullCursor?.startRev ?? null
}

/**
 * The history (`<db>.<segment>`) a scope's covered rev was counted in: its checkpoint's lineage, or its
 * running full reconciliation's; `undefined` when the token names none (revs of two histories never
 * compare: core's `decideRealtime`, `otherHistory`).
 */
export function coveredHistory(stored: StoredScope | undefined): string | undefined {
  if (stored === undefined) return undefined
  if (stored.checkpoint !== null) {
    try {
      const { lineage } = decodeCheckpoint(stored.checkpoint)
      return lineage === undefined ? undefined : formatLineage(lineage)
    } catch {
      return undefined // unreadable: the next sync drops it and reconciles in full
    }
  }
  return stored.fullCursor?.lineage
}

function maxRev(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b)
}

/** Creates the realtime receiver; `pull` syncs a scope an event could not be applied to. */
export function createRealtimeReceiver(ctx: SyncContext, pull: (entry: ScopeEntry) => void): RealtimeReceiver {
  const { store, clock } = ctx.deps
  let queue: Promise<void> = Promise.resolve()
  /** By table: the greatest rev of the realtime events applied, and the history it was counted in (decideRealtime's table coverage). */
  const appliedRev = new Map<string, { rev: number; history: string }>()

  async function apply(raw: unknown): Promise<void> {
    const parsed = realtimeEventSchema.safeParse(raw)
    if (!parsed.success) {
      ctx.deps.onError(new LastwordError('BAD_REQUEST', 'Ignored a malformed realtime event from the server'))
      return
    }
    const event = parsed.data
    const entry = ctx.registry.bySubscription(event.subscription)
    if (entry === undefined || entry.table !== event.table) return // a subscription we already dropped
    // No offset from an event: one server time without a round trip would only add its delay as error.
    const incoming = readRecords(event.columns, event.rows as unknown[][], event.tombstones)
    const top = greatestVersion(incoming)
    if (top !== null) clock.receive(top)
    // Read in the same transaction as the writes, so a page stored meanwhile is either seen here or
    // stored after (and then wins on versions).
    const named = [...incoming.map((r) => r.uid), ...event.evict.map(([uid]) => uid)]
    let states: ReadonlyMap<string, StoredRecord | undefined> | undefined
    const decision = await store.transaction('readwrite', async (tx): Promise<RealtimeDecision> => {
      const scopes = await tx.listScopes(entry.table)
      const own = scopes.find((s) => s.key === entry.key)
      // Revs compare only within one history (B15): the table's coverage counts what was counted in the
      // event's, and an event of another history than its own scope's checkpoint is not decided from revs.
      const history = historyOfPoint(event.knownAt)
      const applied = appliedRev.get(entry.table)
      let table = applied !== undefined && applied.history === history ? applied.rev : null
      for (const stored of scopes) if (coveredHistory(stored) === history) table = maxRev(table, coveredRev(stored))
      const otherHistory = history === undefined || coveredHistory(own) !== history
      // B13: an overlapping scope's first full-reconciliation page would not see what this event adds.
      const overlapAwaitsFirstPage = ctx.registry
        .runningOf(entry.table)
        .some((other) => other.key !== entry.key && scopesOverlap(other.scope, entry.scope) && coveredRev(scopes.find((s) => s.key === other.key)) === null)
      const decision = decideRealtime(event, { scope: coveredRev(own), table, overlapAwaitsFirstPage, otherHistory })
      if (decision !== 'apply' || history === undefined) return decision
      appliedRev.set(entry.table, { rev: maxRev(applied?.rev ?? null, event.rev) as number, history })
      // Remembered with the scope until a checkpoint covers it: a restored server must hear of it (B16).
      if (own !== undefined && event.knownAt !== null && event.knownAt !== undefined) {
        const seen = advanceSeen(own.seen, event.knownAt)
        if (seen !== own.seen) await tx.putScope({ ...own, seen })
      }
      // Like a page: every record the event names read in one pass, decided in memory, written together.
      const batch = await loadBatch(tx, entry.table, named)
      for (const record of incoming) await applyIncoming(batch, entry.table, record, ctx.removals, event.knownAt)
      const others = lazily(() => ctx.registry.otherScopes(tx, entry.table, entry.key))
      for (const [uid, version, digest] of event.evict) await removeUnlessHeld(batch, entry.table, uid, assertStamp(version), others, ctx.removals, digest)
      await batch.flush()
      states = batch.states()
      await clock.persist(tx)
      return decision
    })
    // Live queries patch from the stored states, without reading the records again.
    if (decision === 'apply') ctx.deps.onChanged([entry.table], named, states)
    else if (decision === 'skip-and-pull' && ctx.state.connected && !ctx.state.stopped && entry.holders.size > 0) pull(entry)
  }

  return {
    receive(raw) {
      queue = queue.then(() => apply(raw)).catch((error: unknown) => ctx.deps.onError(toLastwordError(error)))
    },
  }
}
