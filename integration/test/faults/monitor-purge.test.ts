/**
 * The monitor's judgement of the server's versions across a purge (I7). A create taken again after its
 * tombstone was purged is an offline create of an unknown uid (SPEC.md R10, R1): the server goes
 * tombstone → nothing → the create's older version, and a sample may fall on either side of the purge
 * (T20-S-purged 1114176268: the creator's first push was taken, its answer lost; another client deleted
 * the record; retention purged the tombstone; the creator sent its create again). Every other way back
 * is still flagged.
 */
import { describe, expect, it } from 'vitest'
import type { ServerState } from '../../src/checkers.js'
import type { PushedRecord, WireEvent } from '../../src/fault-network.js'
import { Monitor } from '../../src/monitor.js'

const v = (ms: number, counter = 0): string => `${ms.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-00000000000000aa`
const created = v(1_000)
const deletedAt = v(1_100, 1)
const rec = (version: string, deleted: boolean): PushedRecord => ({ uid: 'u', version, deleted, row: deleted ? null : { title: 'x' } })
const applied = (client: string, request: number, version: string, deleted: boolean): WireEvent => ({
  type: 'outcome',
  client,
  request,
  at: 0,
  uid: 'u',
  status: 'applied',
  record: rec(version, deleted),
})
const server = (version: string | null, deleted = false): ServerState => ({
  meta: version === null ? new Map() : new Map([['u', { version, deleted, created_at: created, updated_at: created, deleted_at: deleted ? version : null }]]),
  rows: new Map(),
})

/** The seed's sequence up to the purge: created by a, deleted by b, the tombstone sampled at t=1500. */
function beforePurge(): { events: WireEvent[]; monitor: Monitor } {
  const events: WireEvent[] = [applied('a', 1, created, false), applied('b', 2, deletedAt, true)]
  const monitor = new Monitor(events)
  monitor.allowPurge = true
  monitor.observeServer(server(created), 1_050)
  monitor.observeServer(server(deletedAt, true), 1_500)
  return { events, monitor }
}

describe('monitor: the server version of a uid across a purge (I7)', () => {
  it('lets a create taken after its tombstone was purged through, sampled or not in between', () => {
    const unseen = beforePurge()
    unseen.monitor.purged(1_600)
    unseen.events.push(applied('a', 3, created, false))
    unseen.monitor.observeServer(server(created), 2_000)
    expect(unseen.monitor.violations).toEqual([])

    const seen = beforePurge()
    seen.monitor.purged(1_600)
    seen.monitor.observeServer(server(null), 1_800)
    seen.events.push(applied('a', 3, created, false))
    seen.monitor.observeServer(server(created), 2_000)
    expect(seen.monitor.violations).toEqual([])
  })

  it('still flags the older version without a purge, or with a purge the tombstone was too young for', () => {
    const noPurge = beforePurge()
    noPurge.events.push(applied('a', 3, created, false))
    noPurge.monitor.observeServer(server(created), 2_000)
    expect(noPurge.monitor.violations.map((x) => x.invariant)).toEqual(['I7'])

    const young = beforePurge()
    young.monitor.purged(1_400)
    young.events.push(applied('a', 3, created, false))
    young.monitor.observeServer(server(created), 2_000)
    expect(young.monitor.violations.map((x) => x.invariant)).toEqual(['I7'])
  })

  it('still flags an older version the server never answered applied after the purge, or below a newer write it took', () => {
    const unanswered = beforePurge()
    unanswered.events.push(applied('a', 3, created, false))
    unanswered.monitor.purged(1_600)
    unanswered.monitor.observeServer(server(created), 2_000)
    expect(unanswered.monitor.violations.map((x) => x.invariant)).toEqual(['I7'])

    const newer = beforePurge()
    newer.monitor.purged(1_600)
    newer.events.push(applied('a', 3, created, false), applied('c', 4, v(1_700), false))
    newer.monitor.observeServer(server(created), 2_000)
    expect(newer.monitor.violations.map((x) => x.invariant)).toEqual(['I7'])
  })
})
