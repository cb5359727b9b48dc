/**
 * The connection state machine: its transition table, the status derived from the state alone, and the
 * runner's reconnect backoff on a manual runtime (no sleeps).
 */
import { describe, expect, it } from 'vitest'
import { LastwordError } from '@lastword/core'
import { createConnection } from '../../src/connection/connection.js'
import {
  deriveStatus,
  initialSnapshot,
  isCurrentEpoch,
  transition,
  type ConnectionEvent,
  type ConnectionSnapshot,
  type ConnectionState,
} from '../../src/connection/machine.js'
import { DEFAULT_RETRY } from '../../src/runtime.js'
import { createManualRuntime } from '../../src/testing/index.js'
import type { Transport, TransportHandlers } from '../../src/transport.js'

/** Runs events from a fresh auto-connecting snapshot; returns the snapshots and the effect types. */
function run(events: ConnectionEvent[], start: ConnectionSnapshot = initialSnapshot({ manual: false, noTransport: false })) {
  let snapshot = start
  const effects: string[] = []
  for (const event of events) {
    const t = transition(snapshot, event)
    snapshot = t.next
    effects.push(...t.effects.map((e) => (e.type === 'schedule-reconnect' ? `schedule#${e.attempt}` : e.type === 'driver-connected' ? `driver:${e.connected}` : e.type)))
  }
  return { snapshot, effects }
}

const owned: ConnectionEvent[] = [{ type: 'started' }, { type: 'owner-changed', owner: true }]

describe('connection machine: transitions', () => {
  it('stays offline until started and owner, then opens', () => {
    expect(run([{ type: 'started' }]).snapshot.state).toEqual({ kind: 'offline', reason: 'follower' })
    const { snapshot, effects } = run(owned)
    expect(snapshot.state).toEqual({ kind: 'connecting', failed: false })
    expect(effects).toEqual(['cancel-reconnect', 'cancel-reconnect', 'open-transport'])
  })

  it('never opens without a transport, or while disconnected by the app', () => {
    expect(run(owned, initialSnapshot({ manual: false, noTransport: true })).snapshot.state).toEqual({ kind: 'offline', reason: 'no-transport' })
    const manual = run(owned, initialSnapshot({ manual: true, noTransport: false }))
    expect(manual.snapshot.state).toEqual({ kind: 'offline', reason: 'manual' })
    expect(run([{ type: 'connect-requested' }], manual.snapshot).snapshot.state).toEqual({ kind: 'connecting', failed: false })
  })

  it('becomes ready on a hello of the current epoch only', () => {
    const connected = run([...owned, { type: 'transport-connected' }]).snapshot
    const stale = run([{ type: 'hello-accepted', epoch: connected.epoch - 1 }], connected)
    expect(stale.snapshot.state.kind).toBe('connecting')
    const fresh = run([{ type: 'hello-accepted', epoch: connected.epoch }], connected)
    expect(fresh.snapshot.state).toEqual({ kind: 'ready' })
    expect(fresh.effects).toEqual(['driver:true'])
  })

  it('a disconnect bumps the epoch: a hello processed across it is dropped', () => {
    const connected = run([...owned, { type: 'transport-connected' }]).snapshot
    const after = run([{ type: 'transport-disconnected', retrying: true }], connected).snapshot
    expect(isCurrentEpoch(after, connected.epoch)).toBe(false)
    expect(after.state).toEqual({ kind: 'connecting', failed: false })
  })

  it('backs off after a failure the transport does not retry, with a growing attempt, reset by a hello', () => {
    const connecting = run(owned).snapshot
    const once = run([{ type: 'connect-failed', protocolMismatch: false, retrying: false }], connecting)
    expect(once.snapshot.state).toEqual({ kind: 'waiting' })
    expect(once.effects).toEqual(['close-transport', 'schedule#0'])
    const twice = run([{ type: 'backoff-elapsed' }, { type: 'transport-disconnected', retrying: false }], once.snapshot)
    expect(twice.effects).toEqual(['cancel-reconnect', 'open-transport', 'close-transport', 'schedule#1'])
    const ready = run([{ type: 'backoff-elapsed' }, { type: 'transport-connected' }], twice.snapshot).snapshot
    expect(run([{ type: 'hello-accepted', epoch: ready.epoch }], ready).snapshot.attempt).toBe(0)
  })

  it('a failure the transport retries itself shows as offline without closing', () => {
    const t = run([...owned, { type: 'connect-failed', protocolMismatch: false, retrying: true }])
    expect(t.snapshot.state).toEqual({ kind: 'connecting', failed: true })
    expect(t.effects).not.toContain('close-transport')
    expect(run([{ type: 'transport-connected' }], t.snapshot).snapshot.state).toEqual({ kind: 'connecting', failed: false })
  })

  it('stops for a protocol mismatch and stays stopped until asked to open again', () => {
    for (const stop of [{ type: 'hello-mismatch' }, { type: 'connect-failed', protocolMismatch: true, retrying: false }] as ConnectionEvent[]) {
      const stopped = run([...owned, stop])
      expect(stopped.snapshot.state).toEqual({ kind: 'offline', reason: 'protocol-mismatch' })
      expect(stopped.effects).not.toContain('schedule#0')
      expect(run([{ type: 'backoff-elapsed' }], stopped.snapshot).snapshot.state.kind).toBe('offline')
      expect(run([{ type: 'disconnect-requested' }], stopped.snapshot).snapshot.state).toEqual({ kind: 'offline', reason: 'protocol-mismatch' })
      expect(run([{ type: 'connect-requested' }], stopped.snapshot).snapshot.state.kind).toBe('connecting')
    }
  })

  it('losing ownership or disconnecting closes the transport and cancels a pending reconnect', () => {
    const ready = run([...owned, { type: 'transport-connected' }])
    const lost = run([{ type: 'owner-changed', owner: false }], ready.snapshot)
    expect(lost.snapshot.state).toEqual({ kind: 'offline', reason: 'follower' })
    expect(lost.effects).toEqual(['cancel-reconnect', 'close-transport'])
    const waiting = run([...owned, { type: 'transport-disconnected', retrying: false }]).snapshot
    expect(run([{ type: 'disconnect-requested' }], waiting).effects).toEqual(['cancel-reconnect'])
  })

  it('ignores everything once closed', () => {
    const closed = run([...owned, { type: 'close-requested' }])
    expect(closed.effects.slice(-2)).toEqual(['cancel-reconnect', 'close-transport'])
    const events: ConnectionEvent[] = [{ type: 'connect-requested' }, { type: 'owner-changed', owner: true }, { type: 'transport-connected' }, { type: 'backoff-elapsed' }]
    expect(run(events, closed.snapshot)).toEqual({ snapshot: closed.snapshot, effects: [] })
  })
})

describe('connection machine: status', () => {
  const context = { owner: true, ownerStatus: 'online' as const, syncing: false }
  const cases: [ConnectionState, string][] = [
    [{ kind: 'offline', reason: 'manual' }, 'offline'],
    [{ kind: 'waiting' }, 'offline'],
    [{ kind: 'connecting', failed: false }, 'connecting'],
    [{ kind: 'connecting', failed: true }, 'offline'],
    [{ kind: 'ready' }, 'online'],
    [{ kind: 'closed' }, 'offline'],
  ]
  it.each(cases)('%j → %s', (state, status) => expect(deriveStatus(state, context)).toBe(status))
  it('is syncing while a sync runs once ready; a follower shows its owner’s', () => {
    expect(deriveStatus({ kind: 'ready' }, { ...context, syncing: true })).toBe('syncing')
    expect(deriveStatus({ kind: 'offline', reason: 'follower' }, { ...context, owner: false, ownerStatus: 'syncing' })).toBe('syncing')
    expect(deriveStatus({ kind: 'closed' }, { ...context, owner: false })).toBe('offline')
  })
})

describe('connection runner', () => {
  function setup() {
    const runtime = createManualRuntime({ seed: 7 })
    let handlers: TransportHandlers | null = null
    const log: string[] = []
    const transport: Transport = {
      open(h) {
        handlers = h
        log.push('open')
      },
      close() {
        log.push('close')
        // A transport closing reports its own disconnect, re-entering the runner.
        handlers?.onDisconnect('io client disconnect', false)
      },
      request: () => Promise.reject(new Error('unused')),
    }
    const errors: string[] = []
    const connection = createConnection({
      transport,
      runtime,
      retry: { ...DEFAULT_RETRY, baseMs: 100, jitter: 0 },
      autoConnect: true,
      handshake: async () => ({ protocolVersion: 1, clientId: 'x' }) as never,
      onHello: () => undefined,
      onChanges: () => undefined,
      noteError: () => undefined,
      report: (e) => errors.push(e.code),
      setDriverConnected: (c) => log.push(`driver:${c}`),
      onChange: () => undefined,
    })
    return { runtime, connection, log, errors, handlers: () => handlers as unknown as TransportHandlers }
  }

  it('reopens after the backoff delay of each attempt, on the runtime’s timer', async () => {
    const { runtime, connection, log, errors, handlers } = setup()
    connection.dispatch({ type: 'started' })
    connection.dispatch({ type: 'owner-changed', owner: true })
    expect(log).toEqual(['open'])
    handlers().onConnectError(new LastwordError('TRANSIENT', 'down'), false)
    expect(connection.state.kind).toBe('waiting')
    expect(log).toEqual(['open', 'close', 'driver:false'])
    await runtime.advance(99)
    expect(log.filter((l) => l === 'open')).toHaveLength(1)
    await runtime.advance(1)
    expect(log.filter((l) => l === 'open')).toHaveLength(2)
    handlers().onConnectError(new LastwordError('TRANSIENT', 'down'), false)
    await runtime.advance(199)
    expect(log.filter((l) => l === 'open')).toHaveLength(2)
    await runtime.advance(1)
    expect(log.filter((l) => l === 'open')).toHaveLength(3)
    expect(errors).toEqual([]) // a network failure is not the app's to hear about
  })

  it('reports a refusal, and a protocol mismatch schedules nothing', async () => {
    const { runtime, connection, errors, handlers } = setup()
    connection.dispatch({ type: 'started' })
    connection.dispatch({ type: 'owner-changed', owner: true })
    handlers().onConnectError(new LastwordError('PROTOCOL_MISMATCH', 'old'), false)
    expect(connection.state).toEqual({ kind: 'offline', reason: 'protocol-mismatch' })
    expect(errors).toEqual(['PROTOCOL_MISMATCH'])
    expect(runtime.pendingTimers()).toBe(0)
  })
})
