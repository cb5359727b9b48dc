/** Several server nodes on one database: cross-node fan-out through a socket.io adapter (`cluster.ts`), repaired by the change feed. */
export { createCluster, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_REPAIR_INTERVAL_MS } from './cluster.js'
export type { Cluster, ClusterOptions, ClusterStats } from './cluster.js'
export { COMMITTED_EVENT } from './message.js'
export type { CommittedMessage } from './message.js'
export { preparePostgresAdapter, DEFAULT_ATTACHMENTS_TABLE } from './postgres.js'
export type { PreparePostgresAdapterOptions, PgPoolLike } from './postgres.js'
