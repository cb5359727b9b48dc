/**
 * T26 on SQLite, foreign writes across server instances: two servers in this process, each on its own
 * better-sqlite3 connection to one WAL file, no adapter; plain Drizzle on instance 0's connection and raw
 * SQL on a third connection reach a client on each instance by realtime, once, in rev order — each
 * instance's feed woken by its own poll (manual timers), reading the change log (`foreign-realtime/across-nodes.ts`).
 */
import { acrossNodesSuite } from './foreign-realtime/across-nodes.js'

acrossNodesSuite('sqlite', 2, 'none')
