/**
 * A transport wrapper that loses realtime events on purpose, as socket.io may: tests check that a
 * client recovers what it missed through its next pull. It replaces a hook the client used to take.
 */
import { realtimeEventSchema, type RealtimeEvent } from '@lastword/core'
import type { Transport } from '../transport.js'

/**
 * Wraps `transport` so that the realtime events for which `drop` returns `true` never reach the client.
 * Events that are not well-formed pass through untouched (the client refuses them itself).
 *
 * @example
 * let dropping = false
 * const client = createSyncClient({ name: 'app', transport: withDroppedRealtime(transport, () => dropping) })
 */
export function withDroppedRealtime(transport: Transport, drop: (event: RealtimeEvent) => boolean): Transport {
  return {
    open(handlers) {
      transport.open({
        ...handlers,
        handshake: () => handlers.handshake(),
        onConnect: () => handlers.onConnect(),
        onDisconnect: (reason, retrying) => handlers.onDisconnect(reason, retrying),
        onConnectError: (error, retrying) => handlers.onConnectError(error, retrying),
        onHello: (hello) => handlers.onHello(hello),
        onChanges(raw) {
          const parsed = realtimeEventSchema.safeParse(raw)
          if (parsed.success && drop(parsed.data)) return
          handlers.onChanges(raw)
        },
      })
    },
    close: () => transport.close(),
    request: (event, payload, timeoutMs) => transport.request(event, payload, timeoutMs),
  }
}
