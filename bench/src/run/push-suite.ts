/** Push throughput: clients write offline, then reconnect at once. */
import { CALL_LIMIT_MS, push, PUSH_LIMIT_MS, PUSH_TOTAL } from './config.js'
import { failed, figureOf, limitKey, limits, measure, type Started, startSystem, type Step, type SystemSpec } from './systems.js'

/**
 * Push throughput on a started system: `clients` replicas (synced, then offline) each write their share
 * of PUSH_TOTAL new records, then all reconnect at once; timed until every one is in sync.
 */
export async function runPush(st: Started, sys: SystemSpec, clients: number): Promise<void> {
  const perClient = Math.max(1, Math.floor(PUSH_TOTAL / clients))
  const { server, client, proxy } = st
  const base = { url: sys.url(proxy.port), ...(sys.batchSize ? { batchSize: sys.batchSize } : {}), ...(sys.storage ? { storage: sys.storage } : {}) }
  const vs = { ...sys, variant: `${sys.variant}, ${clients} client${clients > 1 ? 's' : ''}` }
  const ids = Array.from({ length: clients }, (_, i) => `P${clients}_${i}`)
  try {
    for (const [i, id] of ids.entries()) {
      await client.call('open', id, base)
      await client.call('initial', id)
      await client.call('offline', id)
      await client.call('create', id, 0, perClient, 1_000 + clients * 100 + i)
    }
    const before = await server.call<number>('count')
    // A push that has not finished after PUSH_LIMIT_MS is reported as such (below a rate) and the run
    // goes on: a few pathological figures must not eat the run's time budget.
    client.timeout(PUSH_LIMIT_MS)
    let step: Step
    try {
      step = await measure(server, client, proxy, sys, 'pushAll', ids)
    } catch (e) {
      if (!/timed out/.test((e as Error).message)) throw e
      throw new Error(
        `not finished after ${PUSH_LIMIT_MS / 1000} s (< ${Math.round((perClient * clients) / (PUSH_LIMIT_MS / 1000))} records/s); wire so far: ${JSON.stringify(proxy.counts())}`,
      )
    } finally {
      client.timeout(CALL_LIMIT_MS)
    }
    const total = perClient * clients
    const count = await server.call<number>('count')
    if (count !== before + total) throw new Error(`server holds ${count} records after the push, expected ${before + total}`)
    const limName = sys.backend === 'postgres' ? 'postgres' : 'sqlite'
    const lim = limits.get(limitKey(limName, PUSH_TOTAL))
    push(
      figureOf('push', vs, total, [step], {
        clients,
        recordsPerSec: (total / step.ms) * 1000,
        ...(lim ? { limitName: `${limName} insert`, limitMs: lim, ratio: step.ms / lim } : {}),
      }),
    )
  } catch (e) {
    push(failed('push', vs, PUSH_TOTAL, e))
  } finally {
    for (const id of ids) await client.call('close', id).catch(() => null)
  }
}

/** Push throughput on a fresh, empty server. */
export async function runPushSuite(sys: SystemSpec, clients: number): Promise<void> {
  let st: Started
  try {
    st = await startSystem(sys, 0, `${sys.system}_${sys.backend}_push${clients}`.replace(/[^a-z0-9]/gi, '_').toLowerCase())
  } catch (e) {
    push(failed('push', sys, PUSH_TOTAL, e))
    return
  }
  try {
    await runPush(st, sys, clients)
  } finally {
    await st.stop()
  }
}
