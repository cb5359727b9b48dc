/**
 * Several server nodes on one database (ARCHITECTURE.md, "Realtime"): each node publishes what it committed
 * through the socket.io adapter its server uses (`@socket.io/postgres-adapter`, LISTEN/NOTIFY on the
 * same PostgreSQL, or `@socket.io/redis-adapter`) with `serverSideEmit`, and every other node hands it to
 * its change feed (`../feed/`), which runs its own realtime fan-out. The decision — which socket may see
 * which change, through its current scope and `authorize` — is made by the node that holds the socket,
 * exactly as for a local commit: what crosses the adapter is the committed changes, never pre-filtered
 * events.
 *
 * The adapter is the fast path that carries payloads. Adapters deliver at most once (a NOTIFY sent while
 * the LISTEN connection is down is gone; so is the publication of a node killed between its commit and
 * its publish): the change feed is the truth. It learns from the database that the version row moved,
 * waits `repairIntervalMs` for the publication of each rev it has not delivered, then reads the rev from
 * the change log; its one rev tracker makes sure a socket gets each rev once, whichever comes first.
 */
import { randomBytes } from 'node:crypto'
import { LastwordError } from '@lastword/core'
import type { ServerOptions } from 'socket.io'
import type { ChangeFeed } from '../feed/index.js'
import type { SyncIoServer } from '../transport/types.js'
import type { CommittedChange, Logger } from '../types.js'
import { COMMITTED_EVENT, decodeCommitted, encodeCommitted } from './message.js'

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
   * How long a rev the version row has passed may wait for its publication, ms, before the change feed
   * reads it from the change log and delivers it (a publication lost, a node killed before it
   * published, a write of a process without the adapter). Default 250. `0`: read at once (the adapter
   * then only wins races).
   */
  repairIntervalMs?: number
  /** Change-log entries read per query, at most (the change feed's `batch`). Default 5,000. */
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
  /** Of those, how many came without their changes (over `maxPayloadBytes`): read from the database, unless already delivered. */
  fetched: number
  /** Changes the change feed delivered from the change log (no publication of them had arrived in time). */
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
  /** Stops listening; closes the adapter of a server lastword created. */
  close(): Promise<void>
}

export interface ClusterDeps {
  logger: Logger
  /** This node's change feed: other nodes' publications go to it; it repairs what never arrives. */
  feed: ChangeFeed
  options: ClusterOptions
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024
export const DEFAULT_REPAIR_INTERVAL_MS = 250

type InterServer = {
  serverSideEmit(event: string, ...args: unknown[]): boolean
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
}

export function createCluster(deps: ClusterDeps): Cluster {
  const { feed, logger, options } = deps
  const node = randomBytes(8).toString('hex')
  const maxPayloadBytes = positive(options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES, 'maxPayloadBytes')
  const repairIntervalMs = options.repairIntervalMs === 0 ? 0 : positive(options.repairIntervalMs, DEFAULT_REPAIR_INTERVAL_MS, 'repairIntervalMs')
  if (options.repairBatch !== undefined) positive(options.repairBatch, 1, 'repairBatch')
  const stats = { published: 0, received: 0, fetched: 0 }
  let nsp: InterServer | undefined
  let bound = false
  let ownedAdapter: { close?: () => unknown } | undefined
  let closed = false

  const onCommitted = (raw: unknown): void => {
    const decoded = decodeCommitted(raw)
    if (decoded === null) {
      logger.warn({}, 'lastword: ignored a malformed lw:committed message from another node')
      return
    }
    const { message, changes } = decoded
    if (message.node === node || closed) return
    stats.received++
    if (changes === null) stats.fetched++
    feed.peer(message.first, message.last, changes)
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
          'lastword: the cluster option is set but the socket.io server has no cluster adapter; commits of other nodes reach this node through the change feed only',
        )
      } else {
        nsp = main as unknown as InterServer
        nsp.on(COMMITTED_EVENT, onCommitted)
        // Publications are expected: a rev waits for its own before the feed reads it.
        feed.setGrace(repairIntervalMs)
      }
    },
    publish(changes) {
      if (changes.length === 0 || closed || nsp === undefined) return
      const message = encodeCommitted(node, changes, maxPayloadBytes)
      if (message === null) return
      try {
        nsp.serverSideEmit(COMMITTED_EVENT, message)
        stats.published++
      } catch (error) {
        logger.warn({ err: error }, 'lastword: could not publish a commit to the other nodes; their change feeds read it from the database')
      }
    },
    stats() {
      const f = feed.stats()
      return { node, ...stats, repaired: f.log, watermark: f.watermark }
    },
    async close() {
      closed = true
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
