/**
 * The connection to the server as a state machine: the states are a union, a transition is a pure
 * function of (snapshot, event) returning the next snapshot and the effects to run, and the status the
 * app sees is derived from the state alone. Nothing here touches the transport or a timer: the runner
 * (`connection.ts`) does what the effects say.
 */

/** Why the transport is closed with nothing scheduled. */
export type OfflineReason =
  /** The store is not open yet (the client starts). */
  | 'starting'
  /** No `url`, `socket` or `transport`: the client works offline for good. */
  | 'no-transport'
  /** The app called `disconnect()`. */
  | 'manual'
  /** Another tab owns the connection for this database. */
  | 'follower'
  /** The server speaks another protocol version: only upgrading the app fixes it, so no retry. */
  | 'protocol-mismatch'

/** Where the connection stands. */
export type ConnectionState =
  | { kind: 'offline'; reason: OfflineReason }
  /** The transport was closed after a failure; it reopens when the backoff timer fires. */
  | { kind: 'waiting' }
  /** The transport is open, the server's hello not yet taken. `failed`: the last attempt failed and the transport retries by itself. */
  | { kind: 'connecting'; failed: boolean }
  /** The server's hello was taken: syncs may run. */
  | { kind: 'ready' }
  /** The client is closed: every event is ignored. */
  | { kind: 'closed' }

/** What keeps the transport from opening, whatever the state. */
export interface Holds {
  manual: boolean
  follower: boolean
  starting: boolean
  noTransport: boolean
}

/** The state with what it is decided from. */
export interface ConnectionSnapshot {
  state: ConnectionState
  holds: Holds
  /**
   * Bumped whenever what a connection attempt learnt may be outdated (connected, disconnected, closed):
   * a hello taken under an older epoch is dropped.
   */
  epoch: number
  /** Failed attempts since the last taken hello: the backoff's exponent. */
  attempt: number
}

/** What happens to the connection. */
export type ConnectionEvent =
  | { type: 'started' }
  | { type: 'connect-requested' }
  | { type: 'disconnect-requested' }
  | { type: 'owner-changed'; owner: boolean }
  | { type: 'close-requested' }
  | { type: 'transport-connected' }
  | { type: 'transport-disconnected'; retrying: boolean }
  | { type: 'connect-failed'; protocolMismatch: boolean; retrying: boolean }
  /** The server's hello names another protocol version. */
  | { type: 'hello-mismatch' }
  /** The server's hello was processed under `epoch`. */
  | { type: 'hello-accepted'; epoch: number }
  | { type: 'backoff-elapsed' }

/** What the runner must do, in order. */
export type ConnectionEffect =
  | { type: 'open-transport' }
  /** Close the transport (the driver is told it is disconnected). */
  | { type: 'close-transport' }
  /** Tell the driver it may (or may no longer) send. */
  | { type: 'driver-connected'; connected: boolean }
  /** Reopen after the backoff delay of attempt number `attempt` (0 for the first). */
  | { type: 'schedule-reconnect'; attempt: number }
  | { type: 'cancel-reconnect' }

/** A transition's result. */
export interface Transition {
  next: ConnectionSnapshot
  effects: ConnectionEffect[]
}

/** The snapshot of a client that has not started: offline, waiting for its store. */
export function initialSnapshot(options: { manual: boolean; noTransport: boolean }): ConnectionSnapshot {
  const holds: Holds = { manual: options.manual, follower: true, starting: true, noTransport: options.noTransport }
  return { state: { kind: 'offline', reason: reasonOf(holds) ?? 'starting' }, holds, epoch: 0, attempt: 0 }
}

/** The first hold that keeps the transport closed, or `null` if it may open. */
export function reasonOf(holds: Holds): OfflineReason | null {
  if (holds.noTransport) return 'no-transport'
  if (holds.starting) return 'starting'
  if (holds.manual) return 'manual'
  if (holds.follower) return 'follower'
  return null
}

type Handler<E extends ConnectionEvent['type']> = (snapshot: ConnectionSnapshot, event: Extract<ConnectionEvent, { type: E }>) => Transition

const stay = (snapshot: ConnectionSnapshot): Transition => ({ next: snapshot, effects: [] })

/** With new holds: opens the transport if it is closed and nothing holds it; closes it if something does. */
function withHolds(snapshot: ConnectionSnapshot, holds: Holds): Transition {
  const next = { ...snapshot, holds }
  const reason = reasonOf(holds)
  const { state } = snapshot
  switch (state.kind) {
    case 'closed':
      return stay(snapshot)
    case 'offline':
    case 'waiting':
      if (reason === null) return { next: { ...next, state: { kind: 'connecting', failed: false } }, effects: [{ type: 'cancel-reconnect' }, { type: 'open-transport' }] }
      // A stop for a protocol mismatch stays one until something asks to open again.
      if (state.kind === 'offline' && state.reason === 'protocol-mismatch') return stay(next)
      return { next: { ...next, state: { kind: 'offline', reason } }, effects: [{ type: 'cancel-reconnect' }] }
    case 'connecting':
    case 'ready':
      if (reason === null) return stay(next)
      return stop(next, reason)
  }
}

/** Closes an open transport and stays offline for `reason`. */
function stop(snapshot: ConnectionSnapshot, reason: OfflineReason): Transition {
  return {
    next: { ...snapshot, state: { kind: 'offline', reason }, epoch: snapshot.epoch + 1 },
    effects: [{ type: 'cancel-reconnect' }, { type: 'close-transport' }],
  }
}

/** Closes an open transport and reopens it after a backoff (for failures the transport does not retry). */
function backOff(snapshot: ConnectionSnapshot): Transition {
  return {
    next: { ...snapshot, state: { kind: 'waiting' }, epoch: snapshot.epoch + 1, attempt: snapshot.attempt + 1 },
    effects: [{ type: 'close-transport' }, { type: 'schedule-reconnect', attempt: snapshot.attempt }],
  }
}

const isOpen = (state: ConnectionState): boolean => state.kind === 'connecting' || state.kind === 'ready'

/** Every event's handler: a mapped type, so a new event does not compile until it is decided here. */
const HANDLERS: { [E in ConnectionEvent['type']]: Handler<E> } = {
  'started': (s) => withHolds(s, { ...s.holds, starting: false }),
  // Asking to open reopens after a protocol mismatch too (the app may have been upgraded meanwhile).
  'connect-requested': (s) => withHolds(s, { ...s.holds, manual: false }),
  'disconnect-requested': (s) => withHolds(s, { ...s.holds, manual: true }),
  'owner-changed': (s, e) => withHolds(s, { ...s.holds, follower: !e.owner }),
  'close-requested': (s) => {
    if (s.state.kind === 'closed') return stay(s)
    const effects: ConnectionEffect[] = [{ type: 'cancel-reconnect' }]
    if (isOpen(s.state)) effects.push({ type: 'close-transport' })
    return { next: { ...s, state: { kind: 'closed' }, epoch: s.epoch + 1 }, effects }
  },
  'transport-connected': (s) => (s.state.kind === 'connecting' ? { next: { ...s, state: { kind: 'connecting', failed: false }, epoch: s.epoch + 1 }, effects: [] } : stay(s)),
  'transport-disconnected': (s, e) => {
    if (!isOpen(s.state)) return stay(s)
    if (!e.retrying) return backOff(s)
    const failed = s.state.kind === 'connecting' && s.state.failed
    return { next: { ...s, state: { kind: 'connecting', failed }, epoch: s.epoch + 1 }, effects: [{ type: 'driver-connected', connected: false }] }
  },
  'connect-failed': (s, e) => {
    if (!isOpen(s.state)) return stay(s)
    if (e.retrying) return s.state.kind === 'connecting' ? { next: { ...s, state: { kind: 'connecting', failed: true } }, effects: [] } : stay(s)
    if (e.protocolMismatch) return stop(s, 'protocol-mismatch')
    return backOff(s)
  },
  'hello-mismatch': (s) => (isOpen(s.state) ? stop(s, 'protocol-mismatch') : stay(s)),
  'hello-accepted': (s, e) => {
    if (!isOpen(s.state) || e.epoch !== s.epoch) return stay(s)
    return { next: { ...s, state: { kind: 'ready' }, attempt: 0 }, effects: [{ type: 'driver-connected', connected: true }] }
  },
  'backoff-elapsed': (s) => (s.state.kind === 'waiting' ? withHolds(s, s.holds) : stay(s)),
}

/** The next snapshot and the effects of `event` (pure). */
export function transition(snapshot: ConnectionSnapshot, event: ConnectionEvent): Transition {
  return (HANDLERS[event.type] as Handler<typeof event.type>)(snapshot, event as never)
}

/** Whether a hello processed under `epoch` still belongs to the open connection. */
export function isCurrentEpoch(snapshot: ConnectionSnapshot, epoch: number): boolean {
  return isOpen(snapshot.state) && snapshot.epoch === epoch
}

/** The status the app sees. */
export type ConnectionStatus = 'offline' | 'connecting' | 'syncing' | 'online'

/**
 * The status, derived purely: a follower tab shows its owner's; an owner shows its connection's state,
 * `syncing` while a sync runs once ready.
 */
export function deriveStatus(state: ConnectionState, context: { owner: boolean; ownerStatus: ConnectionStatus; syncing: boolean }): ConnectionStatus {
  if (state.kind === 'closed') return 'offline'
  if (!context.owner) return context.ownerStatus
  switch (state.kind) {
    case 'offline':
    case 'waiting':
      return 'offline'
    case 'connecting':
      return state.failed ? 'offline' : 'connecting'
    case 'ready':
      return context.syncing ? 'syncing' : 'online'
  }
}
