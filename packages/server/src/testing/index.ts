/**
 * @lastword/server/testing — seams for tests of apps and of lastword itself (the fault campaign, the
 * benchmark). Not needed in production; nothing here is covered by the stability of the main entry.
 *
 * - the engine without a transport (`createEngine`), with its hooks inside write transactions and
 *   around the overlap lock;
 * - the transport on its own, whose `serveConnection` serves an in-process duplex connection (the
 *   fault-injecting network) through the same handshake as a socket.io socket;
 * - `resolveLimits`, the limit overrides as `createSyncServer` resolves them;
 * - the change feed (`createChangeFeed`), to compose with the two as `createSyncServer` does, on the
 *   test's timers (row T24 drives it on virtual time).
 */
export { createEngine } from '../engine/index.js'
export type { Engine, EngineOptions, EngineHooks, ScopeLockEvent, ScopeLockObserver, WriteHooks } from '../engine/index.js'
export { createTransport } from '../transport/transport.js'
export type { Transport, TransportOptions } from '../transport/transport.js'
export type { DuplexConnection } from '../transport/types.js'
export { resolveLimits } from '../create-sync-server.js'
export { createChangeFeed } from '../feed/index.js'
export type { ChangeFeed, FeedOptions, FeedTimers } from '../feed/index.js'
