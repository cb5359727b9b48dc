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

export { PERFECT, hostileLink } from './fault-links.js'
export type { ChannelFaults, ChannelStats, LinkFaults, PushedRecord, WireEvent } from './fault-links.js'
import { PERFECT, createChannels, summarize, wire, type ChannelStats, type LinkFaults, type WireEvent } from './fault-links.js'

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

export function createFaultNetwork(options: { server: InMemoryServer; rng: Rng; faults?: LinkFaults; now?: () => number }): FaultNetwork {
  let server = options.server
  const rng = options.rng
  const now = options.now ?? Date.now
  const links = new Map<string, Link>()
  const events: WireEvent[] = []
  let defaultFaults = options.faults ?? PERFECT
  let nextConnection = 1
  let nextRequest = 1

  const linkOf = (name: string): Link => {
    let link = links.get(name)
    if (link === undefined) links.set(name, (link = { name, faults: defaultFaults, partitioned: false, current: null, breakNow: null }))
    return link
  }

  const { stats, send } = createChannels(rng, now)

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
        // `lw:sync` pushes (protocol 6's way) and `lw:push` units (protocol 7): the records pushed, in order.
        const sent: WireRecord[] =
          event === 'lw:sync'
            ? ((body as { push?: WireRecord[] }).push ?? [])
            : event === 'lw:push'
              ? ((body as { units?: { groups?: { records?: WireRecord[] }[] }[] }).units ?? []).flatMap((u) => (u.groups ?? []).flatMap((g) => g.records ?? []))
              : []
        const pushed = sent.map(summarize)
        /** A reply's outcomes, flat, in the order of the records pushed. */
        const outcomesOf = (data: unknown): Array<{ uid: string; status: string; error?: { code?: string } }> => {
          const d = data as { outcomes?: Array<{ uid: string; status: string; error?: { code?: string } }>; units?: { outcomes?: Array<{ uid: string; status: string; error?: { code?: string } }> }[] } | undefined
          return event === 'lw:push' ? (d?.units ?? []).flatMap((u) => u.outcomes ?? []) : (d?.outcomes ?? [])
        }
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
              const r = wire(reply) as { ok?: boolean; data?: unknown }
              if (pushed.length > 0 && r?.ok === true) {
                for (const outcome of outcomesOf(r.data)) {
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
                  for (const outcome of outcomesOf(r.data)) {
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
