import { type Actor, spawnActor } from '../lib/actors.js'
import { dropSchemasStartingWith, PG_URL } from '../lib/pg.js'
import { REDIS_URL, redisAvailable } from '../lib/redis.js'
import { percentile, summarize } from '../lib/stats.js'
import type { MultiNodeOptions, MultiNodeResult, Peaks } from '../scenarios/multi-node.js'
import { CALL_LIMIT_MS, MULTI_NODE, notes, overBudget, push, say, wants } from './config.js'
import { failed, mb } from './systems.js'

// -------------------------------------------------------------------------------------- multi-node
/**
 * lastword on three server processes sharing one PostgreSQL, once per socket.io adapter (PostgreSQL,
 * then Redis if it answers): cross-node fan-out latency and push throughput with clients on 1 node vs
 * 3 (see scenarios/multi-node.ts). Each adapter runs in a fresh actor, which forks the three nodes.
 */
export async function runMultiNodeSuite(pgWhy: string | null): Promise<void> {
  if (pgWhy !== null) {
    notes.push(`Multi-node figures skipped: they need PostgreSQL (${pgWhy})`)
    return
  }
  const fanOut = wants('multi-node-fanout', 'lastword')
  const pushes = wants('multi-node-push', 'lastword')
  const redisWhy = await redisAvailable()
  if (redisWhy) notes.push(`Multi-node figures with the Redis adapter skipped: ${redisWhy}`)
  const adapters: Array<'postgres' | 'redis'> = redisWhy ? ['postgres'] : ['postgres', 'redis']
  for (const adapter of adapters) {
    if (overBudget(`lastword multi-node (${adapter} adapter)`)) continue
    const records = MULTI_NODE.pushClients * MULTI_NODE.pushBatches * MULTI_NODE.batch
    const variant = `${adapter} adapter`
    const sys = { system: 'lastword', backend: 'postgres, 3 nodes', variant }
    // The actor names its schema after our pid and the adapter; a killed actor's is dropped below.
    const schemaPrefix = `lwbench_multi_${process.pid}_${adapter}_`
    let actor: Actor | undefined
    let reported = false
    try {
      actor = await spawnActor('multi-node')
      actor.timeout(CALL_LIMIT_MS)
      say(`multi-node: ${adapter} adapter, 3 nodes`)
      const options: MultiNodeOptions = {
        adapter,
        pgUrl: PG_URL,
        redisUrl: REDIS_URL,
        schemaPrefix,
        batch: MULTI_NODE.batch,
        fanOutWrites: fanOut ? MULTI_NODE.fanOutWrites : 0,
        pushClients: pushes ? MULTI_NODE.pushClients : 0,
        pushBatches: MULTI_NODE.pushBatches,
      }
      const r = await actor.call<MultiNodeResult>('run', options)
      reported = true
      const peaks = (p: Peaks) => ({
        ...(p.server === null ? {} : { serverPeakMb: mb(p.server) }),
        clientPeakMb: mb(p.client),
      })
      for (const [path, l] of [['node 0 → nodes 1, 2', r.crossNode], ['node 0 → node 0 (baseline)', r.sameNode]] as const) {
        if (l === null) continue
        push({
          scenario: 'multi-node-fanout',
          ...sys,
          variant: `${variant}, ${path}`,
          n: MULTI_NODE.fanOutWrites,
          samples: l.samples,
          ms: summarize(l.samples),
          p50: percentile(l.samples, 50),
          p99: percentile(l.samples, 99),
          adapter,
          nodes: 3,
          ...peaks(l.peaks),
        })
      }
      const single = r.throughput.find((t) => t.nodes === 1)
      for (const t of r.throughput) {
        const relative = single && t !== single ? `; ${(t.recordsPerSecond / single.recordsPerSecond).toFixed(2)}× the 1-node rate` : ''
        push({
          scenario: 'multi-node-push',
          ...sys,
          variant: `${variant}, ${t.clients} clients on ${t.nodes} node${t.nodes === 1 ? '' : 's'}`,
          n: t.records,
          samples: [t.seconds * 1000],
          ms: summarize([t.seconds * 1000]),
          recordsPerSec: t.recordsPerSecond,
          clients: t.clients,
          adapter,
          nodes: t.nodes,
          ...peaks(t.peaks),
          note: `${t.syncsPerSecond.toFixed(1)} pushes/s of ${t.batch} records${relative}`,
        })
      }
    } catch (e) {
      if (reported) throw e // the harness, not the scenario
      if (fanOut) push(failed('multi-node-fanout', sys, MULTI_NODE.fanOutWrites, e))
      if (pushes) push(failed('multi-node-push', sys, records, e))
    } finally {
      await actor?.stop()
      await dropSchemasStartingWith(schemaPrefix).catch((e: Error) => say(`multi-node: could not drop ${schemaPrefix}*: ${e.message}`))
    }
  }
}
