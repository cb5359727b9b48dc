/**
 * T26 (docs/test-matrix.md), foreign writes across a cluster: three nodes on one PostgreSQL schema with
 * `@socket.io/postgres-adapter`, and two with `@socket.io/redis-adapter` (Redis at `LW_REDIS_URL`), all
 * in this process, each with its own pool, LISTEN connection and manual feed timers. Plain Drizzle on
 * node 0's pool and raw SQL on a pg client of no node reach a client on every node by realtime, once,
 * in rev order — carried by each node's own change feed from the change log, never by the adapter
 * (`../foreign-realtime/across-nodes.ts`). Without PostgreSQL (or, for the Redis case, Redis) the suite
 * is skipped with the reason printed, except under CI, where it fails.
 */
import { describe, it } from 'vitest'
import { acrossNodesSuite } from '../foreign-realtime/across-nodes.js'
import { requirePostgres, requireRedis } from './harness.js'

const postgres = await requirePostgres('foreign-writes')
const redis = postgres && (await requireRedis('foreign-writes'))

if (postgres) acrossNodesSuite('postgres', 3, 'postgres')
else describe('foreign writes across nodes (postgres adapter)', () => it.skip('PostgreSQL unreachable (reason printed above)', () => undefined))
if (redis) acrossNodesSuite('postgres', 2, 'redis')
else describe('foreign writes across nodes (redis adapter)', () => it.skip('PostgreSQL or Redis unreachable (reason printed above)', () => undefined))
