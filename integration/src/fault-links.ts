/**
 * The fault network's vocabulary (fault-network.ts): the faults of a link and its channels, and the wire
 * history it records for the checkers.
 */
import type { WireRecord } from '@lastword/core'
import type { Rng } from './random.js'

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

/** A value as it crosses the wire (JSON). */
export const wire = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T))

/** A pushed record as the checkers see it. */
export function summarize(record: WireRecord): PushedRecord {
  const version = record.deleted_at ?? (record.updated_at > record.created_at ? record.updated_at : record.created_at)
  const stamps = { created_at: record.created_at, updated_at: record.updated_at, deleted_at: record.deleted_at, ...(record.fields === undefined ? {} : { fields: { ...record.fields } }) }
  return { uid: record.uid, version, deleted: record.deleted_at !== null, row: record.row === null ? null : { ...record.row }, stamps }
}

/** The three channels of every link: each message dropped, duplicated and delayed by its link's faults. */
export function createChannels(rng: Rng, now: () => number): {
  stats: Record<'up' | 'down' | 'realtime', ChannelStats>
  send(channel: 'up' | 'down' | 'realtime', faults: ChannelFaults, deliver: () => void, reliable?: boolean, order?: object): void
} {
  const stats = {
    up: { sent: 0, dropped: 0, duplicated: 0, delivered: 0 },
    down: { sent: 0, dropped: 0, duplicated: 0, delivered: 0 },
    realtime: { sent: 0, dropped: 0, duplicated: 0, delivered: 0 },
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
  return { stats, send }
}
