/**
 * Several server nodes on one database (ARCHITECTURE.md, "Realtime"): each node publishes what it committed
 * through the socket.io adapter its server uses (`@socket.io/postgres-adapter`, LISTEN/NOTIFY on the
 * same PostgreSQL, or `@socket.io/redis-adapter`) with `serverSideEmit`, and every other node runs its
 * own realtime fan-out on receipt. The decision — which socket may see which change, through its
 * current scope and `authorize` — is made by the node that holds the socket, exactly as for a local
 * commit: what crosses the adapter is the committed changes, never pre-filtered events.
 *
 * Adapters deliver at most once (a NOTIFY sent while the LISTEN connection is down is gone; so is the
 * publication of a node killed between its commit and its publish). Revs make a miss visible: they are
 * dense (`revs.ts`), so each node compares, every `repairIntervalMs`, the version row with the revs it
 * has delivered, and reads any rev still missing one interval later from the change log — the
 * database, not the bus, is the truth. Clients apply a change only if it is newer, so a late duplicate
 * does nothing.
 */
import { randomBytes } from 'node:crypto'
import { LastwordError } from '@lastword/core'
import type { ServerOptions } from 'socket.io'
import type { Engine } from '../engine/index.js'
import type { SyncIoServer } from '../transport/types.js'
import type { CommittedChange, Logger } from '../types.js'
import { COMMITTED_EVENT, decodeCommitted, encodeCommitted } from './message.js'
import { createRevTracker } from './revs.js'

/** The `cluster` option of `createSyncServer`. */
export interface ClusterOptions {
  /**
   * The socket.io adapter for the servers `attach(httpServer)` creates — `createAdapter(pool, { … })`
   * from `@socket.io/postgres-adapter`, or `createAdapter(pub, sub)` from `@socket.io/redis-adapter`.
   * Leave it out when you `attach` a socket.io `Server` you created with its adapter already set.
   */
  adapter?: ServerOptions['adapter']
  /**
   * A commit whose changes serialise to more than this many bytes is published as its revs alone; the
   * other nodes read the changes from the database. Default 1 MiB. (Under it, the PostgreSQL adapter
   * itself moves payloads over NOTIFY's 8,000 bytes through its attachments table.)
   */
  maxPayloadBytes?: number
  /**
   * How often a node compares the version row with the revs it has delivered, ms; a rev still missing
   * at the next check is read from the change log and delivered. Default 1,000. `0` turns it off
   * (missed publications then reach clients only through their next sync).
   */
  repairIntervalMs?: number
  /** Change-log entries read per repair, at most. Default 5,000. */
  repairBatch?: number
}

/** What a node has done for the cluster so far (tests, metrics). */
export interface ClusterStats {
  /** This node's id in its publications. */
  node: string
  /** Commits of this node published to the others. */
  published: number
  /** Publications of other nodes received. */
  received: number
  /** Of those, how many came without their changes (over `maxPayloadBytes`) and were read from the database. */
  fetched: number
  /** Change-log entries delivered because no publication of them arrived in time. */
  repaired: number
  /** Every rev up to here has been delivered by this node. */
  watermark: number
}

export interface Cluster {
  /**
   * Publishes and listens through this server (the first one attached; later ones are ignored).
   * `owned`: lastword created it (with `adapter`), so `close` closes its adapter too.
   */
  bind(io: SyncIoServer, owned: boolean): void
  /** Publishes a local commit (wired to `engine.onCommit`). */
  publish(changes: readonly CommittedChange[]): void
  stats(): ClusterStats
  /** Stops listening and repairing; closes the adapter of a server lastword created. */
  close(): Promise<void>
}

export interface ClusterDeps {
  engine: Engine
  logger: Logger
  /** The local fan-out (`transport.deliver`). */
  deliver(changes: readonly CommittedChange[]): void
  options: ClusterOptions
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024
export const DEFAULT_REPAIR_INTERVAL_MS = 1_000
const DEFAULT_REPAIR_BATCH = 5_000

type InterServer = {
  serverSideEmit(event: string, ...args: unknown[]): boolean
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
}

export function createCluster(deps: ClusterDeps): Cluster {
  const { engine, logger, options } = deps
  const node = randomBytes(8).toString('hex')
  const maxPayloadBytes = positive(options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES, 'maxPayloadBytes')
  const repairIntervalMs = options.repairIntervalMs === 0 ? 0 : positive(options.repairIntervalMs, DEFAULT_REPAIR_INTERVAL_MS, 'repairIntervalMs')
  const repairBatch = positive(options.repairBatch, DEFAULT_REPAIR_BATCH, 'repairBatch')
  const revs = createRevTracker()
  const stats = { published: 0, received: 0, fetched: 0, repaired: 0 }
  let nsp: InterServer | undefined
  let started = false
  let bound = false
  let ownedAdapter: { close?: () => unknown } | undefined
  let closed = false
  let timer: ReturnType<typeof setTimeout> | undefined
  /** The version row at the previous check: revs up to it that are still missing are repaired. */
  let previous = 0
  /** Receipts and repairs deliver one after another, so a repair never races the fetch of the same revs. */
  let chain: Promise<void> = Promise.resolve()

  const deliver = (changes: readonly CommittedChange[]): void => {
    if (changes.length > 0) deps.deliver(changes)
  }

  /** Reads revs `first … last` from the change log and delivers them. */
  async function fetchAndDeliver(first: number, last: number): Promise<number> {
    let after = first - 1
    let count = 0
    while (after < last && !closed) {
      const { entries, scannedTo } = await engine.changesSince(after, last, repairBatch)
      deliver(entries.map((e) => e.change))
      count += entries.length
      revs.add(after + 1, scannedTo)
      if (scannedTo <= after) break
      after = scannedTo
    }
    return count
  }

  const onCommitted = (raw: unknown): void => {
    const decoded = decodeCommitted(raw)
    if (decoded === null) {
      logger.warn({}, 'lastword: ignored a malformed lw:committed message from another node')
      return
    }
    const { message, changes } = decoded
    if (message.node === node) return
    stats.received++
    if (changes !== null) {
      deliver(changes)
      revs.add(message.first, message.last)
      return
    }
    stats.fetched++
    chain = chain
      .then(() => fetchAndDeliver(message.first, message.last))
      .then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error, first: message.first, last: message.last }, 'lastword: could not read a large commit of another node; the repair retries'),
      )
  }

  async function check(): Promise<void> {
    const latest = await engine.currentRev()
    if (!started) {
      // Everything committed before this node listened is its clients' next sync's business.
      started = true
      revs.skipTo(latest)
      previous = latest
      return
    }
    const due = Math.min(previous, latest)
    previous = latest
    let budget = repairBatch
    for (const [first, last] of revs.gaps(due)) {
      if (budget <= 0 || closed) break
      const upTo = Math.min(last, first + budget - 1)
      const n = await fetchAndDeliver(first, upTo)
      budget -= upTo - first + 1
      stats.repaired += n
      logger.info({ first, last: upTo, changes: n }, 'lastword: delivered commits whose publication never arrived')
    }
  }

  const schedule = (delay: number): void => {
    if (closed) return
    timer = setTimeout(() => {
      chain = chain
        .then(check)
        .catch((error: unknown) => logger.warn({ err: error }, 'lastword: the cluster check failed; retrying'))
        .finally(() => schedule(repairIntervalMs === 0 ? 0 : repairIntervalMs))
    }, delay)
    timer.unref()
  }

  return {
    bind(io, owned) {
      if (bound || closed) return
      bound = true
      const main = io.of('/')
      if (owned) ownedAdapter = main.adapter as unknown as { close?: () => unknown }
      if (isInMemoryAdapter(main.adapter)) {
        logger.warn(
          {},
          'lastword: the cluster option is set but the socket.io server has no cluster adapter; commits of other nodes reach this node only through the repair check',
        )
      } else {
        nsp = main as unknown as InterServer
        nsp.on(COMMITTED_EVENT, onCommitted)
      }
      if (repairIntervalMs > 0) schedule(0)
      else {
        chain = chain.then(check).catch((error: unknown) => logger.warn({ err: error }, 'lastword: the cluster check failed'))
      }
    },
    publish(changes) {
      if (changes.length === 0 || closed) return
      const message = encodeCommitted(node, changes, maxPayloadBytes)
      if (message === null) return
      revs.add(message.first, message.last)
      if (nsp === undefined) return
      try {
        nsp.serverSideEmit(COMMITTED_EVENT, message)
        stats.published++
      } catch (error) {
        logger.warn({ err: error }, 'lastword: could not publish a commit to the other nodes; they repair it from the database')
      }
    },
    stats: () => ({ node, ...stats, watermark: revs.watermark }),
    async close() {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      nsp?.off(COMMITTED_EVENT, onCommitted)
      // The adapter holds a LISTEN connection (or Redis subscriptions) and timers: a pool could not end.
      try {
        await ownedAdapter?.close?.()
      } catch (error) {
        logger.warn({ err: error }, 'lastword: closing the socket.io adapter failed')
      }
    },
  }
}

/** Whether a namespace's adapter is socket.io's default in-memory one (whose serverSideEmit only warns). */
function isInMemoryAdapter(adapter: unknown): boolean {
  let proto: unknown = adapter === null || typeof adapter !== 'object' ? null : Object.getPrototypeOf(adapter)
  while (proto !== null && proto !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(proto, 'serverSideEmit')) {
      return (proto as { constructor?: { name?: string } }).constructor?.name === 'Adapter'
    }
    proto = Object.getPrototypeOf(proto)
  }
  return true
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new LastwordError('BAD_REQUEST', `cluster.${name} must be a positive number, got ${String(value)}`)
  }
  return value
}
