/**
 * The checks of a {@link Cluster}: liveness when the faults heal (its `heal()`, I9), then safety (its
 * `check()`): every client's kept scopes against the server, and the checkers of checkers.ts and
 * field-checkers.ts over the wire history.
 */
import {
  checkAcknowledged,
  checkDriftBound,
  checkIdempotent,
  checkLocalWrites,
  checkLww,
  checkNothingVanished,
  checkScopeConvergence,
  readServerState,
  type Violation,
} from './checkers.js'
import { COLUMNS, type Cluster } from './cluster.js'
import { checkFieldIdempotent, checkFieldLocalWrites, checkFieldMerge } from './field-checkers.js'
import type { WireEvent } from './fault-network.js'
import { SCOPES } from './schema.js'

/** What a run did that the checks must allow for: a purge, refusals on purpose, a restore. */
export interface CheckOptions {
  purged?: boolean
  refusals?: boolean
  restored?: boolean
  /**
   * Writes the server took from other writers (row T24: plain Drizzle, raw SQL, late transactions), as
   * `applied` outcomes with the stamps the database gave them: I3 and I5 count them with the pushes.
   */
  foreign?: readonly WireEvent[]
}

/**
 * I1 (every kept scope of every client), I2 (acknowledged and local writes; nothing created vanished;
 * no stamp stored beyond the drift bound), I3, I5 (one logged change per accepted version), no record
 * left refused, and what the monitor flagged. `purged`: the server purged tombstones during the run.
 */
export async function checkCluster(cluster: Cluster, options: CheckOptions = {}): Promise<Violation[]> {
  await cluster.sample()
  const out: Violation[] = [...cluster.monitor.violations]
  if (out.length > 0) {
    const server = await readServerState((q, p) => cluster.database.raw(q, p), 'items')
    for (const v of out.slice(0, 3)) {
      const c = cluster.clients.find((x) => x.name === v.client)
      if (c !== undefined && v.uid !== undefined && !c.closed) out.push({ invariant: v.invariant, message: await cluster.explain(c, v.uid, server) })
    }
  }
  const service = cluster.server.engine.service('items')
  const all = await cluster.vt.await(service.findMany({}))
  for (const c of cluster.clients) {
    if (c.closed) continue
    for (const scope of c.subscriptions.keys()) {
      const where = SCOPES[scope] as Record<string, unknown>
      const clientRows = await c.items.findMany(where as Record<string, never>)
      const serverRows = await cluster.vt.await(service.findMany(where as Record<string, never>))
      const found = checkScopeConvergence(c.name, where, clientRows as unknown as Array<Record<string, unknown>>, serverRows, all, cluster.descriptor)
      out.push(...found)
      if (found.length > 0) {
        const server = await readServerState((q, p) => cluster.database.raw(q, p), 'items')
        const clientUids = new Set(clientRows.map((r) => r.uid))
        const serverUids = new Set(serverRows.map((r) => String(r['uid'])))
        const odd = [...clientUids].filter((u) => !serverUids.has(u)).concat([...serverUids].filter((u) => !clientUids.has(u)))
        for (const uid of odd.slice(0, 3)) out.push({ invariant: 'I1', message: await cluster.explain(c, uid, server) })
      }
    }
  }
  const server = await readServerState((q, p) => cluster.database.raw(q, p), 'items')
  out.push(...checkAcknowledged(cluster.network.events, server, { purged: options.purged === true }))
  out.push(...checkLocalWrites(cluster.history, cluster.network.events, server, { purged: options.purged === true }))
  const events = [...cluster.network.events, ...(options.foreign ?? [])]
  const fieldMerge = cluster.options.merge === 'field'
  if (fieldMerge) {
    const fields = new Map<string, Record<string, string> | null>()
    for (const r of await cluster.database.raw(`SELECT uid, fields FROM lastword_meta WHERE tbl = 'items'`)) {
      fields.set(String(r['uid']), typeof r['fields'] === 'string' ? (JSON.parse(r['fields']) as Record<string, string>) : null)
    }
    out.push(...checkFieldMerge(events, server, fields, COLUMNS))
    out.push(...checkFieldLocalWrites(cluster.history, cluster.network.events, server, fields))
  } else out.push(...checkLww(events, server, COLUMNS, { purged: options.purged === true }))
  out.push(...checkDriftBound(server, cluster.vt.now(), cluster.server.engine.limits.maxDriftMs))
  if (options.purged !== true) out.push(...checkNothingVanished(cluster.history, server))
  // I5 counts logged changes per accepted version: a restored database lost the log of what was
  // accepted after its backup (versions superseded before the restore never come back), by design.
  if (options.purged !== true && options.restored !== true) {
    const changes = new Map<string, number>()
    for (const r of await cluster.database.raw(`SELECT uid, count(*) AS n FROM lastword_changes WHERE tbl = 'items' GROUP BY uid`)) changes.set(String(r['uid']), Number(r['n']))
    out.push(...(fieldMerge ? checkFieldIdempotent(events, changes) : checkIdempotent(events, changes)))
  }
  if (options.refusals !== true) {
    for (const c of cluster.clients) {
      if (c.closed) continue
      for (const r of (await cluster.clientState(c)).records) {
        if (r.rejected !== undefined) out.push({ invariant: 'I2', uid: r.uid, client: c.name, message: `${c.name}: ${r.uid} was refused by the server (${r.rejected.code}: ${r.rejected.message})` })
      }
    }
  }
  // Explain the first few violations the checks above found about a uid of a client (the monitor's were explained already).
  const explained = new Set(cluster.monitor.violations)
  const unexplained = out.filter((v) => !explained.has(v) && v.uid !== undefined && v.client !== undefined && !v.message.startsWith('explain ')).slice(0, 3)
  for (const v of unexplained) {
    const c = cluster.clients.find((x) => x.name === v.client)
    if (c !== undefined && !c.closed) out.push({ invariant: v.invariant, message: await cluster.explain(c, v.uid as string, server) })
  }
  return out
}

/**
 * Heals every fault and brings every client online; then (I9) every dirty queue must drain within
 * `boundMs` of virtual time, with no 11 s stretch without progress; then each client syncs once more
 * (the final read).
 */
export async function healCluster(cluster: Cluster, boundMs = 60_000): Promise<Violation[]> {
  cluster.network.healAll()
  for (const c of cluster.clients) if (c.offline && !c.closed) cluster.goOnline(c)
  const out: Violation[] = []
  let best = Number.POSITIVE_INFINITY
  let progressAt = cluster.vt.now()
  let stalled = false
  const live = cluster.clients.filter((c) => !c.closed)
  const drained = await cluster.vt.runUntil(
    async () => {
      let total = 0
      for (const c of live) total += await c.client.pendingCount()
      if (total < best) {
        best = total
        progressAt = cluster.vt.now()
      }
      if (total > 0 && cluster.vt.now() - progressAt > 11_000) {
        stalled = true
        return true
      }
      return total === 0 && live.every((c) => c.client.status === 'online')
    },
    boundMs,
    250,
  )
  if (!drained || stalled) {
    const counts = await Promise.all(live.map(async (c) => `${c.name}:${await c.client.pendingCount()}/${c.client.status}`))
    out.push({ invariant: 'I9', message: `${stalled ? 'no progress for 11 s' : `queues not drained within ${boundMs} ms`} after healing (pending/status: ${counts.join(' ')})` })
    return out
  }
  for (let round = 0; round < 2; round++) {
    const pushesBefore = cluster.network.events.filter((e) => e.type === 'push').length
    for (const c of live) {
      let ok = false
      for (let attempt = 0; attempt < 5 && !ok; attempt++) {
        // A connection break scheduled before the heal may still land: let it reconnect first.
        await cluster.vt.runUntil(() => c.client.status === 'online' || c.client.status === 'syncing', 30_000, 50)
        ok = await cluster.vt.await(cluster.sync(c), boundMs, `${c.name}.sync()`)
      }
      if (!ok) {
        const errors = cluster.history.entries.filter((e) => e.process === c.name && e.f === 'sync' && e.type === 'fail').slice(-3).map((e) => e.error)
        out.push({ invariant: 'I9', message: `${c.name}: the final sync kept failing after healing (status ${c.client.status}; ${errors.join(' | ')})` })
      }
    }
    if (cluster.network.events.filter((e) => e.type === 'push').length === pushesBefore) break
  }
  await cluster.vt.settle()
  return out
}
