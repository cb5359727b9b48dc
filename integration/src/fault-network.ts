/**
 * A fault-injecting in-memory network between real clients and the real server (row T02).
 *
 * Each client gets a {@link Transport} (the client's seam) whose connections are served by the server's
 * `serveConnection` seam. Per client and per direction a seeded schedule drops, duplicates and delays
 * messages (independent delays reorder them); connections break at random while requests are in flight,
 * partitions refuse reconnection until healed. All delays are timers, so under virtual time
 * (`virtual-time.ts`) a run is a pure function of its seed.
 *
 * The network also records the wire history the checkers judge from: every pushed record, the server's
 * outcome for it (accepted = `applied`), and whether that outcome reached the client (acknowledged).
 */
import { LastwordError, syncPageSchema, toLastwordError, type Handshake, type WireRecord } from '@lastword/core'
import type { Transport, TransportHandlers } from '@lastword/client'
import type { Rng } from './random.js'
import type { DuplexConnection, InMemoryServer } from './server-kit.js'

/** Faults of one direction of one link. */
export interface ChannelFaults {
  /** Probability a message is lost. */
  drop: number
  /** Probability a message is delivered twice (a third time with the same probability again). */
  duplicate: number
  /** Each copy is delayed uniformly in [min, max] ms; independent delays reorder messages. */
  delayMs: readonly [number, number]
  /** Keep the order of this channel (per connection) despite the delays, as socket.io over one TCP connection does. */
  fifo?: boolean
}

export interface LinkFaults {
  /** Client → server requests. */
  up: ChannelFaults
  /** Server → client acknowledgements (the replies of requests). */
  down: ChannelFaults
  /** Server → client realtime events (`lw:changes`). */
  realtime: ChannelFaults
  /** Probability, per request sent, that the connection breaks before its reply (the client reconnects). */
  disconnect: number
  /** Reconnection delay after a break, ms (uniform). */
  reconnectMs: readonly [number, number]
}

/** socket.io over one healthy connection: in order, nothing lost, small delays. */
const CLEAN: ChannelFaults = { drop: 0, duplicate: 0, delayMs: [1, 5], fifo: true }
export const PERFECT: LinkFaults = { up: CLEAN, down: CLEAN, realtime: CLEAN, disconnect: 0, reconnectMs: [50, 300] }

/** A link with every fault of T02 at the given intensity (0..1). */
export function hostileLink(intensity = 1): LinkFaults {
  const ch = (drop: number, duplicate: number, max: number): ChannelFaults => ({ drop: drop * intensity, duplicate: duplicate * intensity, delayMs: [0, Math.round(max * intensity) + 1] })
  return { up: ch(0.1, 0.15, 800), down: ch(0.1, 0.15, 800), realtime: ch(0.2, 0.15, 1_500), disconnect: 0.05 * intensity, reconnectMs: [50, 2_000] }
}

/** A pushed record as the checkers see it. */
export interface PushedRecord {
  uid: string
  version: string
  deleted: boolean
  row: Record<string, unknown> | null
  /** The record's stamps and, on a field-merge table, its column stamps (the T25 checker folds core's merge over them). */
  stamps?: { created_at: string; updated_at: string; deleted_at: string | null; fields?: Record<string, string> }
}

/** What the network saw on the wire, in order. */
export type WireEvent =
  | { type: 'push'; client: string; request: number; at: number; records: PushedRecord[] }
  | { type: 'outcome'; client: string; request: number; at: number; uid: string; status: 'applied' | 'superseded' | 'rejected'; code?: string; record: PushedRecord }
  | { type: 'acked'; client: string; request: number; at: number; record: PushedRecord }
  | { type: 'request'; client: string; request: number; at: number; where: string; checkpoint: string | null; cursor: string | null; full: boolean }
  | { type: 'page'; client: string; request: number; at: number; mode: string; checkpoint: string | null; rows: string[]; tombstones: string[]; evict: string[]; versions: Record<string, string> }
  | { type: 'realtime'; client: string; at: number; rev: number; rows: string[]; tombstones: string[]; evict: string[]; versions: Record<string, string> }
  | { type: 'connect'; client: string; at: number }
  | { type: 'disconnect'; client: string; at: number; reason: string }

export interface ChannelStats {
  sent: number
  dropped: number
  duplicated: number
  delivered: number
}

export interface FaultTransport extends Transport {
  readonly name: string
  /** Whether a connection is up right now. */
  readonly connected: boolean
}

export interface FaultNetwork {
  /** The transport of one client (one per client name). */
  transport(name: string): FaultTransport
  /** Sets the faults of one client's link, or of every link (`null`). */
  setFaults(name: string | null, faults: LinkFaults): void
  /** Cuts a client off: its connection breaks and reconnection fails until {@link heal}. */
  partition(name: string): void
  /** Ends a partition (the client's reconnection attempts succeed again). */
  heal(name: string): void
  /** Breaks a client's current connection once (it reconnects by itself). */
  kick(name: string): void
  /** No faults, no partitions, on every link. */
  healAll(): void
  /** Swaps the server (a restarted one); existing connections break. */
  setServer(server: InMemoryServer): void
  readonly events: WireEvent[]
  readonly stats: Record<'up' | 'down' | 'realtime', ChannelStats>
}

interface Link {
  name: string
  faults: LinkFaults
  partitioned: boolean
  current: Connection | null
  /** Kicks the current connection (set by the transport). */
  breakNow: ((reason: string, byServer: boolean) => void) | null
}

interface Connection extends DuplexConnection {
  id: number
  listeners: Map<string, Array<(...args: unknown[]) => void>>
  ended: boolean
}

const wire = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T))

function summarize(record: WireRecord): PushedRecord {
  const version = record.deleted_at ?? (record.updated_at > record.created_at ? record.updated_at : record.created_at)
  const stamps = { created_at: record.created_at, updated_at: record.updated_at, deleted_at: record.deleted_at, ...(record.fields === undefined ? {} : { fields: { ...record.fields } }) }
  return { uid: record.uid, version, deleted: record.deleted_at !== null, row: record.row === null ? null : { ...record.row }, stamps }
}

export function createFaultNetwork(options: { server: InMemoryServer; rng: Rng; faults?: LinkFaults; now?: () => number }): FaultNetwork {
  let server = options.server
  const rng = options.rng
  const now = options.now ?? Date.now
  const links = new Map<string, Link>()
  const events: WireEvent[] = []
  const stats = {
    up: { sent: 0, dropped: 0, duplicated: 0, delivered: 0 },
    down: { sent: 0, dropped: 0, duplicated: 0, delivered: 0 },
    realtime: { sent: 0, dropped: 0, duplicated: 0, delivered: 0 },
  }
  let defaultFaults = options.faults ?? PERFECT
  let nextConnection = 1
  let nextRequest = 1

  const linkOf = (name: string): Link => {
    let link = links.get(name)
    if (link === undefined) links.set(name, (link = { name, faults: defaultFaults, partitioned: false, current: null, breakNow: null }))
    return link
  }

  /** Per connection and channel: when the last message is due (for FIFO channels). */
  const lastDue = new WeakMap<object, Map<string, number>>()
  /** Sends a message over a channel: calls `deliver` 0–3 times after random delays. */
  const send = (channel: 'up' | 'down' | 'realtime', faults: ChannelFaults, deliver: () => void, reliable = false, order?: object): void => {
    const s = stats[channel]
    s.sent++
    let copies = 1
    if (!reliable) {
      if (rng.chance(faults.drop)) {
        s.dropped++
        return
      }
      while (copies < 3 && rng.chance(faults.duplicate)) copies++
      s.duplicated += copies - 1
    }
    for (let i = 0; i < copies; i++) {
      const [min, max] = faults.delayMs
      let delay = rng.between(min, max)
      if (faults.fifo === true && order !== undefined) {
        let dues = lastDue.get(order)
        if (dues === undefined) lastDue.set(order, (dues = new Map()))
        // Acknowledgements and realtime events travel on one server → client stream.
        const stream = channel === 'up' ? 'up' : 'down'
        const due = Math.max(now() + delay, dues.get(stream) ?? 0)
        dues.set(stream, due)
        delay = due - now()
      }
      setTimeout(() => {
        s.delivered++
        deliver()
      }, delay)
    }
  }

  function createTransport(name: string): FaultTransport {
    const link = linkOf(name)
    let handlers: TransportHandlers | null = null
    let opened = false
    let attempt = 0
    let reconnectTimer: ReturnType<typeof setTimeout> | null = null
    const pending = new Map<number, { resolve: (reply: unknown) => void; reject: (error: LastwordError) => void; timer: ReturnType<typeof setTimeout> }>()

    const failPending = (reason: string): void => {
      for (const [id, p] of [...pending]) {
        pending.delete(id)
        clearTimeout(p.timer)
        p.reject(new LastwordError('TRANSIENT', `The connection was lost before the server answered (${reason}); the request is retried`))
      }
    }

    const scheduleConnect = (delay: number): void => {
      if (!opened) return
      if (reconnectTimer !== null) clearTimeout(reconnectTimer)
      reconnectTimer = setTimeout(() => {
        reconnectTimer = null
        void connect()
      }, delay)
    }

    const reconnectDelay = (): number => rng.between(link.faults.reconnectMs[0], link.faults.reconnectMs[1])

    /** Ends the current connection: the server hears `disconnect`, the client is told (unless closing). */
    const end = (reason: string, byServer: boolean, tellClient: boolean): void => {
      const conn = link.current
      if (conn === null || conn.ended) return
      conn.ended = true
      link.current = null
      events.push({ type: 'disconnect', client: name, at: now(), reason })
      for (const listener of conn.listeners.get('disconnect') ?? []) listener(reason)
      failPending(reason)
      if (!tellClient || handlers === null) return
      const told = handlers
      const notify = (): void => {
        if (handlers !== told) return // closed meanwhile
        // Like socket.io: after a server-side disconnect the client does not reconnect by itself.
        told.onDisconnect(reason, !byServer)
        if (!byServer) scheduleConnect(reconnectDelay())
      }
      // A disconnect decided by the server reaches the client a moment later, never inside the server's call.
      if (byServer) setTimeout(notify, 0)
      else notify()
    }
    link.breakNow = (reason, byServer) => end(reason, byServer, true)

    async function connect(): Promise<void> {
      const h = handlers
      if (!opened || h === null || link.current !== null) return
      const mine = ++attempt
      if (link.partitioned) {
        h.onConnectError(new LastwordError('TRANSIENT', 'Cannot reach the server (partitioned)'), true)
        scheduleConnect(reconnectDelay())
        return
      }
      let auth: Handshake
      try {
        auth = await h.handshake()
      } catch {
        scheduleConnect(reconnectDelay())
        return
      }
      if (!opened || mine !== attempt) return
      const conn: Connection = {
        id: nextConnection++,
        ended: false,
        listeners: new Map(),
        handshake: { auth: wire(auth), headers: {}, address: `in-process:${name}` },
        get connected() {
          return !this.ended
        },
        on(event, listener) {
          let list = conn.listeners.get(event)
          if (list === undefined) conn.listeners.set(event, (list = []))
          list.push(listener as (...args: unknown[]) => void)
        },
        emit(event, ...args) {
          if (conn.ended) return
          const payload = wire(args[0])
          const deliver = (): void => {
            if (conn.ended || link.current !== conn || handlers === null) return
            if (event === 'lw:hello') handlers.onHello(payload)
            else if (event === 'lw:changes') {
              const e = payload as { rev: number; rows: unknown[][]; tombstones: string[][]; evict: [string, string][] }
              const versions: Record<string, string> = {}
              for (const r of e.rows) versions[String(r[0])] = String(r[2] ?? r[1])
              for (const t of e.tombstones) versions[String(t[0])] = String(t[3])
              events.push({ type: 'realtime', client: name, at: now(), rev: e.rev, rows: e.rows.map((r) => String(r[0])), tombstones: e.tombstones.map((t) => String(t[0])), evict: e.evict.map(([uid]) => uid), versions })
              handlers.onChanges(wire(payload))
            }
          }
          // The hello is part of connecting (socket.io sends it on an established connection); it is
          // delayed like anything else but never lost on its own.
          if (event === 'lw:hello') send('down', link.faults.down, deliver, true, conn)
          else send('realtime', link.faults.realtime, deliver, false, conn)
        },
        disconnect() {
          // From the server (expiry, flood, shutdown).
          if (link.current === conn) end('io server disconnect', true, true)
          else conn.ended = true
        },
      }
      link.current = conn
      try {
        await server.serve(conn)
      } catch (error) {
        if (link.current === conn) link.current = null
        conn.ended = true
        if (!opened || mine !== attempt) return
        const lw = toLastwordError(error)
        const retrying = lw.code === 'TRANSIENT' || lw.code === 'CLOSED'
        h.onConnectError(lw, retrying)
        if (retrying) scheduleConnect(reconnectDelay())
        return
      }
      if (!opened || mine !== attempt || conn.ended) {
        if (!conn.ended) {
          conn.ended = true
          for (const listener of conn.listeners.get('disconnect') ?? []) listener('client namespace disconnect')
        }
        if (link.current === conn) link.current = null
        return
      }
      events.push({ type: 'connect', client: name, at: now() })
      h.onConnect()
    }

    const transport: FaultTransport = {
      name,
      get connected() {
        return link.current !== null && !link.current.ended
      },
      open(h) {
        if (opened) return
        handlers = h
        opened = true
        scheduleConnect(rng.between(0, 5))
      },
      close() {
        if (!opened) return
        opened = false
        if (reconnectTimer !== null) clearTimeout(reconnectTimer)
        reconnectTimer = null
        attempt++
        end('io client disconnect', false, false)
        failPending('closed')
        handlers = null
      },
      request(event, payload, timeoutMs) {
        const conn = link.current
        if (conn === null || conn.ended) return Promise.reject(new LastwordError('TRANSIENT', 'Not connected to the sync server'))
        const id = nextRequest++
        const body = wire(payload) as unknown
        const pushed = event === 'lw:sync' ? ((body as { push?: WireRecord[] }).push ?? []).map(summarize) : []
        if (event === 'lw:sync') {
          const b = body as { where?: unknown; checkpoint?: string | null; full?: { cursor?: { after?: string | null } | null } }
          events.push({
            type: 'request',
            client: name,
            request: id,
            at: now(),
            where: JSON.stringify(b.where ?? {}),
            checkpoint: b.checkpoint ?? null,
            cursor: b.full?.cursor?.after ?? null,
            full: b.full !== undefined,
          })
        }
        if (pushed.length > 0) events.push({ type: 'push', client: name, request: id, at: now(), records: pushed })
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            if (!pending.delete(id)) return
            reject(new LastwordError('TRANSIENT', `The server did not answer ${event} within ${timeoutMs} ms`))
          }, timeoutMs)
          pending.set(id, { resolve: resolve as (reply: unknown) => void, reject, timer })
          if (rng.chance(link.faults.disconnect)) {
            setTimeout(() => {
              if (link.current === conn) end('transport close', false, true)
            }, rng.between(0, 2 * link.faults.up.delayMs[1] + 1))
          }
          send('up', link.faults.up, () => {
            if (conn.ended || link.current !== conn) return
            let answered = false
            const ack = (reply: unknown): void => {
              if (answered) return
              answered = true
              const r = wire(reply) as { ok?: boolean; data?: { outcomes?: Array<{ uid: string; status: string; error?: { code?: string } }> } }
              if (pushed.length > 0 && r?.ok === true) {
                for (const outcome of r.data?.outcomes ?? []) {
                  const record = pushed.find((p) => p.uid === outcome.uid)
                  if (record === undefined) continue
                  const status = outcome.status as 'applied' | 'superseded' | 'rejected'
                  events.push({
                    type: 'outcome',
                    client: name,
                    request: id,
                    at: now(),
                    uid: outcome.uid,
                    status,
                    ...(outcome.error?.code === undefined ? {} : { code: outcome.error.code }),
                    record,
                  })
                }
              }
              if (conn.ended) return
              send('down', link.faults.down, () => {
                if (conn.ended || link.current !== conn) return
                const p = pending.get(id)
                if (p === undefined) return // a duplicate, or the request already timed out
                pending.delete(id)
                clearTimeout(p.timer)
                if (r?.ok === true) {
                  for (const outcome of r.data?.outcomes ?? []) {
                    const record = pushed.find((q) => q.uid === outcome.uid)
                    if (record !== undefined && outcome.status === 'applied') events.push({ type: 'acked', client: name, request: id, at: now(), record })
                  }
                  const parsed = event === 'lw:sync' ? syncPageSchema.safeParse(r.data) : null
                  const page = parsed?.success === true ? parsed.data : undefined
                  if (page !== undefined) {
                    const versions: Record<string, string> = {}
                    for (const row of page.rows) versions[String(row[0])] = String(row[2] ?? row[1])
                    for (const t of page.tombstones ?? []) versions[String(t[0])] = String(t[3])
                    events.push({
                      type: 'page',
                      client: name,
                      request: id,
                      at: now(),
                      mode: String(page.mode),
                      checkpoint: page.checkpoint ?? null,
                      rows: page.rows.map((row) => String(row[0])),
                      tombstones: (page.tombstones ?? []).map((t) => String(t[0])),
                      evict: (page.evict ?? []).map(([uid]) => uid),
                      versions,
                    })
                  }
                }
                p.resolve(wire(r))
              }, false, conn)
            }
            for (const listener of conn.listeners.get(event) ?? []) listener(wire(body), ack)
          }, false, conn)
        })
      },
    }
    return transport
  }

  const transports = new Map<string, FaultTransport>()
  return {
    transport(name) {
      let t = transports.get(name)
      if (t === undefined) transports.set(name, (t = createTransport(name)))
      return t
    },
    setFaults(name, faults) {
      if (name === null) {
        defaultFaults = faults
        for (const link of links.values()) link.faults = faults
      } else linkOf(name).faults = faults
    },
    partition(name) {
      const link = linkOf(name)
      link.partitioned = true
      link.breakNow?.('transport close', false)
    },
    heal(name) {
      linkOf(name).partitioned = false
    },
    kick(name) {
      linkOf(name).breakNow?.('transport close', false)
    },
    healAll() {
      defaultFaults = PERFECT
      for (const link of links.values()) {
        link.faults = PERFECT
        link.partitioned = false
      }
    },
    setServer(next) {
      server = next
      for (const link of links.values()) link.breakNow?.('transport close', false)
    },
    events,
    stats,
  }
}
