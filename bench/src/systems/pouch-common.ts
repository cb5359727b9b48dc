/** PouchDB, assembled from its core and the plugins a replicating Node client and server need. */
// @ts-expect-error no types
import HttpAdapter from 'pouchdb-adapter-http'
// @ts-expect-error no types
import MemoryAdapter from 'pouchdb-adapter-memory'
// @ts-expect-error no types
import PouchDB from 'pouchdb-core'
// @ts-expect-error no types
import MapReduce from 'pouchdb-mapreduce'
// @ts-expect-error no types
import Replication from 'pouchdb-replication'

PouchDB.plugin(HttpAdapter).plugin(MemoryAdapter).plugin(Replication).plugin(MapReduce)

/* PouchDB ships no types; these name the little the benchmark uses. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PouchDb = any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PouchSync = any
export { PouchDB }
export type Doc = { _id: string; _rev?: string; _deleted?: boolean; title?: string; [k: string]: unknown }
