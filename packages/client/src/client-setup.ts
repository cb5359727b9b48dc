/**
 * The parts of a client that follow from its options alone: its local store, the settings of its sync
 * driver, and the handshake it opens each connection with. `client.ts` wires them.
 */
import { LastwordError, PROTOCOL_VERSION, WIRE_BOUNDS, type Handshake } from '@lastword/core'
import type { SyncClientOptions } from './client-api.js'
import { randomNodeId } from './ids.js'
import type { RetryOptions, Runtime } from './runtime.js'
import { createIdbStore } from './store/idb-store.js'
import { createMemoryStore } from './store/memory-store.js'
import type { LocalStore } from './store/types.js'
import type { DriverDeps } from './sync/types.js'

/** The store `options.store` names (IndexedDB by default), with what it reports of its database. */
export function openStore(options: SyncClientOptions, runtime: Runtime, events: { replaced(): void; connectionLost(): void }): LocalStore {
  if (typeof options.store === 'object') return options.store
  if (options.store === 'memory') return createMemoryStore()
  return createIdbStore({
    name: `lastword:${options.name}`,
    indexedDB: options.indexedDB,
    IDBKeyRange: options.IDBKeyRange,
    newMarkerId: () => randomNodeId(runtime) + randomNodeId(runtime),
    onReplaced: () => events.replaced(),
    onConnectionLost: () => events.connectionLost(),
  })
}

/** The sync driver's settings from the options. */
export function driverSettings(options: SyncClientOptions, retry: Required<RetryOptions>, requestTimeoutMs: number): DriverDeps['settings'] {
  return {
    retry,
    requestTimeoutMs,
    pageSize: options.pageSize,
    maxPushPerRequest: Math.min(options.maxPushPerRequest ?? 5_000, WIRE_BOUNDS.maxPushRecords),
    maxEntriesPerRequest: 5_000,
  }
}

/** The handshake of one connection: the protocol, this client's id and the app's token (asked each time). */
export async function buildHandshake(options: SyncClientOptions, clientId: string, report: (error: LastwordError) => void): Promise<Handshake> {
  const handshake: Handshake = { protocolVersion: PROTOCOL_VERSION, clientId }
  const token = options.auth?.token
  try {
    const value = typeof token === 'function' ? await token() : token
    if (value !== undefined) handshake.token = value
  } catch (error) {
    report(new LastwordError('UNAUTHENTICATED', 'The auth.token function failed; connecting without a token', undefined, { cause: error }))
  }
  return handshake
}
