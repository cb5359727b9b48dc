/**
 * The connection runner: holds the machine's snapshot (`machine.ts`), turns transport callbacks and app
 * calls into events, and runs the effects — opening and closing the transport, telling the sync driver,
 * and the reconnect backoff on the runtime's timer and randomness.
 */
import type { Handshake, LastwordError } from '@lastword/core'
import { backoffDelay, type CancelTimer, type RetryOptions, type Runtime } from '../runtime.js'
import type { Transport, TransportHandlers } from '../transport.js'
import {
  initialSnapshot,
  isCurrentEpoch,
  transition,
  type ConnectionEffect,
  type ConnectionEvent,
  type ConnectionSnapshot,
  type ConnectionState,
} from './machine.js'

/** Options of {@link createConnection}. */
export interface ConnectionOptions {
  /** `null`: the client stays offline. */
  transport: Transport | null
  runtime: Runtime
  retry: Required<RetryOptions>
  /** `false`: offline until `connect-requested`. */
  autoConnect: boolean
  /** The handshake of each connection attempt. */
  handshake(): Promise<Handshake>
  /** The server's hello arrived on the connection of `epoch` (see {@link Connection.isCurrent}). */
  onHello(raw: unknown, epoch: number): void
  /** A realtime event arrived. */
  onChanges(event: unknown): void
  /** A connection attempt failed: called before the state changes (the error is the client's last). */
  noteError(error: LastwordError): void
  /** A connection attempt failed for a reason worth telling the app (not a mere network failure). */
  report(error: LastwordError): void
  /** The sync driver may (or may no longer) send. */
  setDriverConnected(connected: boolean): void
  /** The state may have changed: recompute the status. */
  onChange(): void
}

/** The connection of one client. */
export interface Connection {
  readonly state: ConnectionState
  dispatch(event: ConnectionEvent): void
  /** Whether a hello received under `epoch` still belongs to the open connection. */
  isCurrent(epoch: number): boolean
}

/** Creates the connection runner, offline until `started` (and, without `autoConnect`, `connect-requested`). */
export function createConnection(options: ConnectionOptions): Connection {
  const { transport, runtime, retry } = options
  let snapshot: ConnectionSnapshot = initialSnapshot({ manual: !options.autoConnect, noTransport: transport === null })
  let cancelReconnect: CancelTimer | null = null

  const handlers: TransportHandlers = {
    handshake: () => options.handshake(),
    onConnect: () => dispatch({ type: 'transport-connected' }),
    // A server that shut down (or dropped us) disconnects the socket itself: not retried, so backed off.
    onDisconnect: (_reason, retrying) => dispatch({ type: 'transport-disconnected', retrying }),
    onConnectError(error, retrying) {
      options.noteError(error)
      dispatch({ type: 'connect-failed', protocolMismatch: error.code === 'PROTOCOL_MISMATCH', retrying })
      if (error.code !== 'TRANSIENT') options.report(error)
    },
    onHello: (raw) => options.onHello(raw, snapshot.epoch),
    onChanges: (event) => options.onChanges(event),
  }

  function run(effect: ConnectionEffect): void {
    switch (effect.type) {
      case 'open-transport':
        transport?.open(handlers)
        return
      case 'close-transport':
        transport?.close()
        options.setDriverConnected(false)
        return
      case 'driver-connected':
        options.setDriverConnected(effect.connected)
        return
      case 'schedule-reconnect':
        cancelReconnect?.()
        cancelReconnect = runtime.setTimer(() => {
          cancelReconnect = null
          dispatch({ type: 'backoff-elapsed' })
        }, backoffDelay(retry, effect.attempt, runtime.random))
        return
      case 'cancel-reconnect':
        cancelReconnect?.()
        cancelReconnect = null
        return
    }
  }

  function dispatch(event: ConnectionEvent): void {
    const { next, effects } = transition(snapshot, event)
    // Set first: an effect may call back into the runner (a transport closing reports its disconnect).
    snapshot = next
    for (const effect of effects) run(effect)
    options.onChange()
  }

  return {
    get state() {
      return snapshot.state
    },
    dispatch,
    isCurrent: (epoch) => isCurrentEpoch(snapshot, epoch),
  }
}
