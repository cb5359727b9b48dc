/**
 * Realtime fan-out (ARCHITECTURE.md, "Realtime"). After each commit, every local socket subscribed to a
 * changed table gets the changes its *current* effective scope allows: `authorize` runs again for every
 * delivery (attack V8, docs/guarantees.md), and each record is decided by core's `classifyChange`, exactly as an
 * incremental pull decides it — so a socket never learns of a record its scope and principal exclude,
 * not even its uid.
 *
 * Scope work is done once per scope, not once per event (row S13): a subscription's filter is validated
 * and compiled when it is made, subscriptions are indexed by table, and a batch asks `authorize` once per
 * socket and table. A commit then costs, per subscription of a table it changed, one matcher call per
 * changed record, each O(conditions) whatever the size of the filter's `in` lists (set lookups).
 *
 * Decisions are made where the socket lives. With several server nodes, each node runs this for its own
 * sockets; what a node must receive from the others is the committed changes, not pre-filtered events.
 */
import {
  classifyChange,
  isLastwordError,
  rowToArray,
  isFieldMerge,
  defaultFieldStamps,
  fieldDigest,
  versionOf,
  type CompiledScope,
  type FieldStamps,
  type RealtimeEvent,
  type TableDescriptor,
} from '@lastword/core'
import type { CommittedChange, Logger, Row, SyncEngine } from '../types.js'
import type { Session, Subscription, SubscriptionRequest } from './types.js'
import { eventFor } from './protocol-adapter.js'

/**
 * Commit batches waiting for delivery beyond which new ones are dropped (and logged). Realtime is an
 * optimisation — the checkpointed pull is the truth — so shedding it under overload loses nothing but
 * latency, while an unbounded queue would hold every change in memory.
 */
const MAX_PENDING_BATCHES = 1_000

export interface Realtime {
  /**
   * Registers or replaces a subscription of a connected socket. Its filter is validated and compiled
   * here, once (row S13): deliveries reuse it. Throws the filter's typed error if it is refused.
   */
  subscribe(session: Session, request: SubscriptionRequest): void
  /** Removes a subscription; `false` if the socket had none by that id. */
  unsubscribe(session: Session, id: string): boolean
  /** Forgets a socket (on disconnect). */
  forget(session: Session): void
  /**
   * Queues a commit's changes for delivery; batches are delivered one after another, in commit order.
   * `origin`, the session whose request made the commit, is left out: its push's outcomes told it.
   */
  deliver(changes: readonly CommittedChange[], origin?: unknown): void
  /** Resolves once every queued batch has been delivered. */
  idle(): Promise<void>
}

export interface RealtimeDeps {
  engine: SyncEngine
  logger: Logger
  /** Whether the session may still receive anything (connected, principal not expired). */
  isLive(session: Session): boolean
}

/** One record's changes within a batch: the image before the batch, and its state after it. */
interface RecordChange {
  first: CommittedChange
  last: CommittedChange
}

/** What `authorize` allows a socket to read of a table, asked once per batch. */
type ReadScopes = Map<Session, Promise<CompiledScope | null>>

export function createRealtime(deps: RealtimeDeps): Realtime {
  const { engine, logger } = deps
  const descriptors = new Map<string, TableDescriptor>(engine.tables.map((t) => [t.name, t]))
  /**
   * Live subscriptions by table, each with its socket: a commit touches only the subscriptions of the
   * tables it changed, never every subscription of every socket.
   */
  const byTable = new Map<string, Map<Subscription, Session>>()
  let chain: Promise<void> = Promise.resolve()
  let pending = 0

  function removeFromIndex(subscription: Subscription): void {
    const subscriptions = byTable.get(subscription.table)
    subscriptions?.delete(subscription)
    if (subscriptions?.size === 0) byTable.delete(subscription.table)
  }

  function unsubscribe(session: Session, id: string): boolean {
    const existing = session.subscriptions.get(id)
    if (existing === undefined) return false
    session.subscriptions.delete(id)
    removeFromIndex(existing)
    return true
  }

  async function deliverBatch(changes: readonly CommittedChange[], origin: unknown): Promise<void> {
    const tables = new Map<string, Map<string, RecordChange>>()
    for (const change of changes) {
      let records = tables.get(change.table)
      if (records === undefined) tables.set(change.table, (records = new Map()))
      const seen = records.get(change.uid)
      // Several changes of one uid in a batch collapse into one decision: the image the client could
      // have held is the one before the batch; what it gets is the state after it.
      if (seen === undefined) records.set(change.uid, { first: change, last: change })
      else seen.last = change.rev >= seen.last.rev ? change : seen.last
    }
    const tasks: Promise<void>[] = []
    for (const [table, records] of tables) {
      const descriptor = descriptors.get(table)
      const subscriptions = byTable.get(table)
      if (descriptor === undefined || subscriptions === undefined) continue
      const reads: ReadScopes = new Map()
      for (const [subscription, session] of [...subscriptions]) {
        // No echo: the socket that pushed these changes has their outcomes (its other sockets — another
        // tab, a reconnect — are other sessions and do get them).
        if (session !== origin) tasks.push(deliverTo(session, subscription, descriptor, records, reads))
      }
    }
    await Promise.all(tasks)
  }

  async function deliverTo(session: Session, subscription: Subscription, descriptor: TableDescriptor, records: Map<string, RecordChange>, reads: ReadScopes): Promise<void> {
    if (!deps.isLive(session)) return
    let read: CompiledScope | null
    try {
      // Once per socket, table and batch: authorization as it stands now, not as it stood at subscribe
      // time (V8). The client's filter is not validated again: it was compiled when subscribed.
      let asked = reads.get(session)
      if (asked === undefined) reads.set(session, (asked = engine.readScope({ principal: session.principal }, subscription.table)))
      read = await asked
    } catch (error) {
      const permanent = isLastwordError(error) && error.code !== 'TRANSIENT' && error.code !== 'INTERNAL'
      if (permanent) {
        // FORBIDDEN: this scope can never be delivered again.
        if (session.subscriptions.get(subscription.id) === subscription) unsubscribe(session, subscription.id)
        logger.info({ principal: session.principal.id, subscription: subscription.id, code: error.code }, 'lastword: subscription dropped')
      } else {
        logger.error({ err: error, principal: session.principal.id, subscription: subscription.id }, 'lastword: realtime delivery skipped')
      }
      return
    }
    // The await above may have outlived the socket, its session or this subscription.
    if (!deps.isLive(session) || session.subscriptions.get(subscription.id) !== subscription) return
    // The effective scope is the client's filter AND what authorize allows: matching both is matching it.
    const { filter } = subscription
    const inScope = (row: Row): boolean => filter.matches(row) && (read === null || read.matches(row))

    const event: RealtimeEvent = {
      subscription: subscription.id,
      table: descriptor.name,
      serverTime: engine.now(),
      firstRev: Number.MAX_SAFE_INTEGER,
      rev: 0,
      columns: descriptor.columns.map((c) => c.name),
      rows: [],
      tombstones: [],
      evict: [],
      knownAt: null,
    }
    for (const [uid, { first, last }] of records) {
      const image = last.after ?? last.lastImage
      const action = classifyChange({
        couldHaveHeld: first.before !== null && inScope(first.before),
        matchesNow: image !== null && inScope(image),
        deleted: last.after === null,
      })
      const { meta } = last
      switch (action) {
        case 'row':
          if (last.after === null) continue
          event.rows.push([
            uid,
            meta.created_at,
            meta.updated_at,
            ...rowToArray(descriptor, last.after),
            // A field-merge table's rows end with the column stamps (wire.ts, `liveRow`).
            ...(isFieldMerge(descriptor) ? [last.fields ?? defaultFieldStamps(descriptor.columns.map((c) => c.name), meta.updated_at)] : []),
          ])
          break
        case 'tombstone':
          if (meta.deleted_at === null) continue
          event.tombstones.push([uid, meta.created_at, meta.updated_at, meta.deleted_at])
          break
        case 'evict':
          // A field-merge record's eviction names its state's digest too (SPEC.md E4).
          event.evict.push(
            isFieldMerge(descriptor)
              ? [uid, versionOf(meta), fieldDigest((last.fields as FieldStamps | undefined) ?? defaultFieldStamps(descriptor.columns.map((c) => c.name), meta.updated_at))]
              : [uid, versionOf(meta)],
          )
          break
        case 'none':
          continue
      }
      event.firstRev = Math.min(event.firstRev, last.rev)
      // The point of the history at the event's greatest rev (R12): what the client's records date from.
      if (last.rev >= event.rev) event.knownAt = last.knownAt ?? null
      event.rev = Math.max(event.rev, last.rev)
    }
    if (event.rows.length + event.tombstones.length + event.evict.length === 0) return
    session.socket.emit('lw:changes', eventFor(session.protocolVersion, event))
  }

  return {
    subscribe(session, request) {
      const subscription: Subscription = { id: request.id, table: request.table, filter: engine.compileFilter(request.table, request.where) }
      const previous = session.subscriptions.get(subscription.id)
      if (previous !== undefined) removeFromIndex(previous)
      session.subscriptions.set(subscription.id, subscription)
      let subscriptions = byTable.get(subscription.table)
      if (subscriptions === undefined) byTable.set(subscription.table, (subscriptions = new Map()))
      subscriptions.set(subscription, session)
    },
    unsubscribe,
    forget(session) {
      for (const subscription of session.subscriptions.values()) removeFromIndex(subscription)
      session.subscriptions.clear()
    },
    deliver(changes, origin) {
      if (changes.length === 0 || byTable.size === 0) return
      if (pending >= MAX_PENDING_BATCHES) {
        logger.warn({ changes: changes.length }, 'lastword: realtime backlog full; batch dropped (clients catch up on their next sync)')
        return
      }
      pending++
      chain = chain
        .then(() => deliverBatch(changes, origin))
        .catch((error: unknown) => logger.error({ err: error }, 'lastword: realtime delivery failed'))
        .finally(() => {
          pending--
        })
    },
    idle() {
      return chain
    },
  }
}
