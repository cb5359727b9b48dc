/**
 * @lastword/client/testing — seams for tests of apps and of lastword itself. Not needed in production;
 * these may change between minor versions.
 */
export { createManualRuntime } from './manual-runtime.js'
export type { ManualRuntime } from './manual-runtime.js'
export { withDroppedRealtime } from './dropped-realtime.js'
export { idbConnection } from './idb-connection.js'
