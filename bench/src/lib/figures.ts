/** What one measured figure holds (the JSON report is a list of these). */
import type { Summary } from './stats.js'

export interface Figure {
  /** initial | resync-none | reconnect-none | resync-client | resync-server | resync-create | resync-delete | realtime | push | multi-node-fanout | multi-node-push | limit | batch-sweep */
  scenario: string
  /** e.g. "lastword", "rxdb", "pouchdb", "limit" */
  system: string
  /** e.g. "sqlite", "postgres", "memory", "dexie/fake-indexeddb", "chromium" */
  backend: string
  /** "default", "batch=1000", "full" (the old way)… */
  variant: string
  n: number
  /** Wall time per repetition, ms. */
  samples: number[]
  ms: Summary | null
  p50?: number
  p99?: number
  /** Push throughput. */
  recordsPerSec?: number
  clients?: number
  /** Multi-node figures: the socket.io adapter linking the nodes (postgres | redis), and the nodes the clients use. */
  adapter?: string
  nodes?: number
  /** Bytes on the wire, client→server and server→client (median repetition). */
  up?: number
  down?: number
  roundTrips?: number
  connections?: number
  /** SQL statements the server executed (lastword only; median repetition). */
  statements?: number | null
  /** Multi-node figures: the largest of the nodes' peaks. */
  serverPeakMb?: number
  clientPeakMb?: number
  /** The physical limit this figure is compared with, and the ratio time / limit. */
  limitName?: string
  limitMs?: number
  ratio?: number
  /** The old way (full reconciliation every time): its median, and old / new. */
  fullMs?: number
  gain?: number
  target?: string
  met?: boolean | null
  error?: string
  note?: string
}
