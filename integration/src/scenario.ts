/**
 * A fault scenario: N clients write at a given rate for a while under a seeded fault schedule (lossy,
 * duplicating, reordering links; connections broken mid-request; partitions; clients taken offline),
 * with every store sampled along the way; then everything heals and the checkers judge the run.
 */
import 'fake-indexeddb/auto'
import { IDBKeyRange } from 'fake-indexeddb'
import { createIdbStore, type StoredScope } from '@lastword/client'
import { idbConnection } from '@lastword/client/testing'
import { restoreBackup, takeBackup } from './backup.js'
import { runCampaign, type CampaignOptions, type CampaignResult } from './campaign.js'
import { formatViolations, type Violation } from './checkers.js'
import { Cluster, type ClusterOptions, type SimClient } from './cluster.js'
import type { LinkFaults } from './fault-network.js'
import type { Rng } from './random.js'
import { SCOPES } from './schema.js'

export interface ScenarioOptions extends Omit<ClusterOptions, 'faults'> {
  /** Number of clients, or a range to draw from. */
  clients: number | readonly [number, number]
  /** How long clients write, virtual ms. */
  durationMs: number
  /** Writes per second, all clients together. */
  writesPerSecond: number
  /** The faults of each client's link (drawn per client). */
  faults: (rng: Rng, client: number) => LinkFaults
  /** Partitions: each client is cut off at random moments for 0..maxMs. */
  partitions?: { perClientPerMinute: number; maxMs: number }
  /** Connections broken at random moments (besides the per-request breaks of the link faults). */
  kicksPerClientPerMinute?: number
  /** Clients taken offline through the API (`disconnect()`/`connect()`). */
  offlinePerClientPerMinute?: number
  /** Clock skew per client (ms), cycled. */
  skews?: readonly number[]
  /** Scope changes (subscribe/unsubscribe) per client per minute. */
  scopeChangesPerClientPerMinute?: number
  /** Every client holds this scope (an index of SCOPES) besides its random one; T20 uses `{}`. */
  heldByAll?: number
  /** At most this many scopes per client (default 2). */
  maxScopesPerClient?: number
  /** Explicit `sync()` calls per client per minute. */
  syncsPerClientPerMinute?: number
  /** How often stores are sampled for I4/I7, virtual ms. */
  sampleEveryMs?: number
  /** I9: how long, after healing, the queues may take to drain (virtual ms). */
  healBoundMs?: number
  /** T07: clients crash (tab killed mid-sync, IndexedDB connection closed under it) and reopen. */
  crashesPerClientPerMinute?: number
  /** D02: the IndexedDB connection of a client is force-closed at random moments (it must reopen). */
  idbClosesPerClientPerMinute?: number
  /** Tombstone retention: the server purges everything older than `olderThanMs` at random moments. */
  purges?: { perMinute: number; olderThanMs: number }
  /**
   * T20: the server's database is backed up at a random moment of the run's first half and restored in
   * its second half (the server stopped, the backup written back, a new server started on it), while
   * the clients keep writing. `purgeBeforeBackup`: retention purges tombstones older than this just
   * before the backup, so the restored database really purged something.
   */
  restore?: { purgeBeforeBackupMs?: number }
}

export interface ScenarioResult {
  seed: number
  violations: Violation[]
  summary: string
}

/** Exponentially distributed delay with the given mean. */
const expDelay = (rng: Rng, meanMs: number): number => Math.max(1, Math.round(-Math.log(1 - rng.next()) * meanMs))

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { faults: _faults, ...clusterOptions } = options
  const cluster = await Cluster.start(clusterOptions)
  const { rng, vt, network } = cluster
  try {
    const count = typeof options.clients === 'number' ? options.clients : rng.between(options.clients[0], options.clients[1])
    for (let i = 0; i < count; i++) {
      const skews = options.skews ?? [0]
      const c = cluster.addClient({ skewMs: skews[i % skews.length] ?? 0 })
      network.setFaults(c.name, options.faults(rng, i))
      // One or two scopes each, drawn from overlapping ones.
      cluster.subscribe(c, rng.int(SCOPES.length))
      if (rng.chance(0.5) && (options.maxScopesPerClient ?? 2) > 1) cluster.subscribe(c, rng.int(SCOPES.length))
      if (options.heldByAll !== undefined && !c.subscriptions.has(options.heldByAll)) cluster.subscribe(c, options.heldByAll)
    }
    let stopped = false
    const meanWriteMs = (1_000 * count) / options.writesPerSecond
    const perMinute = (rate: number | undefined): number | null => (rate === undefined || rate <= 0 ? null : 60_000 / rate)
    /** Sleeps that end early when the workload stops. */
    const sleepers = new Set<() => void>()
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const wake = (): void => {
          clearTimeout(timer)
          sleepers.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, ms)
        sleepers.add(wake)
      })

    const writer = async (i: number, r: Rng): Promise<void> => {
      while (!stopped) {
        await sleep(expDelay(r, meanWriteMs))
        if (stopped) break
        const c = cluster.clients[i] as SimClient
        if (c.closed) continue
        const roll = r.next()
        running.set(`${c.name}.writer`, roll < 0.4 ? 'create' : roll < 0.85 ? 'update' : 'remove')
        if (roll < 0.4) await cluster.create(c)
        else if (roll < 0.85) await cluster.update(c)
        else await cluster.remove(c)
        running.set(`${c.name}.writer`, 'sleep')
      }
    }
    /** Runs `act` at exponentially distributed moments until the workload stops. */
    const every = async (meanMs: number | null, r: Rng, act: () => Promise<void> | void): Promise<void> => {
      if (meanMs === null) return
      while (!stopped) {
        await sleep(expDelay(r, meanMs))
        if (stopped) return
        await act()
      }
    }
    const loops: Promise<void>[] = []
    const extra: Violation[] = []
    const running = new Map<string, string>()
    const track = (label: string, p: Promise<void>): Promise<void> => {
      running.set(label, 'started')
      return p.finally(() => running.delete(label))
    }
    for (const [i, first] of cluster.clients.entries()) {
      const r = rng.fork()
      /** The client's current instance (a crashed one is replaced when it reopens). */
      const now = (): SimClient => cluster.clients[i] as SimClient
      const c = first
      loops.push(track(`${c.name}.writer`, writer(i, r.fork())))
      loops.push(track(`${c.name}.partitions`,
        every(perMinute(options.partitions?.perClientPerMinute), r.fork(), async () => {
          network.partition(c.name)
          await sleep(r.between(0, options.partitions?.maxMs ?? 0))
          network.heal(c.name)
        })),
      )
      loops.push(track(`${c.name}.kicks`, every(perMinute(options.kicksPerClientPerMinute), r.fork(), () => network.kick(c.name))))
      loops.push(track(`${c.name}.offline`,
        every(perMinute(options.offlinePerClientPerMinute), r.fork(), async () => {
          const current = now()
          if (current.closed) return
          cluster.goOffline(current)
          await sleep(r.between(100, 5_000))
          cluster.goOnline(current)
        })),
      )
      loops.push(track(`${c.name}.scopes`,
        every(perMinute(options.scopeChangesPerClientPerMinute), r.fork(), () => {
          const c = now()
          if (c.closed) return
          const scope = r.int(SCOPES.length)
          // Keep at least one scope: the client's data stays in some synced scope (and a carrier exists).
          if (c.subscriptions.has(scope) && c.subscriptions.size > 1) cluster.unsubscribe(c, scope)
          else if (c.subscriptions.size < (options.maxScopesPerClient ?? 2)) cluster.subscribe(c, scope)
          else {
            const [first] = c.subscriptions.keys()
            if (first !== undefined && first !== scope) {
              cluster.subscribe(c, scope)
              cluster.unsubscribe(c, first)
            }
          }
        })),
      )
      loops.push(track(`${c.name}.syncs`,
        every(perMinute(options.syncsPerClientPerMinute), r.fork(), async () => {
          if (!now().closed) await cluster.sync(now())
        })),
      )
      loops.push(
        track(
          `${c.name}.crashes`,
          every(perMinute(options.crashesPerClientPerMinute), r.fork(), async () => {
            const victim = now()
            if (victim.closed || victim.offline) return
            await cluster.crash(victim)
            const stored = await storedScopes(victim)
            await sleep(r.between(0, 3_000))
            const from = network.events.length
            const next = cluster.reopen(victim)
            await checkReopened(victim, next, stored, from)
          }),
        ),
      )
      loops.push(
        track(
          `${c.name}.idb-closes`,
          every(perMinute(options.idbClosesPerClientPerMinute), r.fork(), async () => {
            const current = now()
            if (current.closed) return
            try {
              ;(await idbConnection(current.client.store)).close()
            } catch {
              // Not open right now.
            }
          }),
        ),
      )
    }

    /** The scopes a crashed client's database holds (what its next instance must resume from). */
    async function storedScopes(c: SimClient): Promise<StoredScope[]> {
      const store = createIdbStore({ name: `lastword:${c.dbName}`, indexedDB: c.indexedDB, IDBKeyRange })
      try {
        return await store.transaction('readonly', (tx) => tx.listScopes('items'))
      } finally {
        await store.close()
      }
    }

    /**
     * I6: every write the crashed instance completed is in the reopened store (or superseded by a newer
     * version), dirty unless acknowledged. I10: the first request of each stored scope resumes from its
     * stored checkpoint or cursor.
     */
    async function checkReopened(old: SimClient, next: SimClient, stored: StoredScope[], from: number): Promise<void> {
      // What the server took (acknowledged or not: a crash can lose the answer to a committed push).
      const taken = new Map<string, string>()
      for (const e of network.events) {
        if (e.type !== 'outcome' || e.status !== 'applied') continue
        const before = taken.get(e.uid)
        if (before === undefined || e.record.version > before) taken.set(e.uid, e.record.version)
      }
      const serverHas = (uid: string, stamp: string): boolean => (taken.get(uid) ?? '') >= stamp
      for (const w of cluster.history.okWrites()) {
        if (w.process !== old.name || w.uid === undefined || w.stamp === undefined || serverHas(w.uid, w.stamp)) continue
        const r = await next.items.record(w.uid)
        if (r === null) {
          extra.push({ invariant: 'I6', uid: w.uid, client: old.name, message: `${old.name}: ${w.f} ${w.uid}@${w.stamp} completed before a crash, never taken by the server, gone after reopening` })
          continue
        }
        const version = r.deleted_at ?? (r.updated_at > r.created_at ? r.updated_at : r.created_at)
        if (version < w.stamp) extra.push({ invariant: 'I6', uid: w.uid, client: old.name, message: `${old.name}: ${w.uid} reopened at ${version}, older than the completed ${w.f}@${w.stamp}` })
        if (version === w.stamp && !r.dirty) {
          extra.push({ invariant: 'I6', uid: w.uid, client: old.name, message: `${old.name}: ${w.uid}@${w.stamp} is not dirty after reopening, yet the server never took it` })
        }
      }
      const ok = await vt.runUntil(() => network.events.slice(from).some((e) => e.type === 'request' && e.client === old.name), 30_000, 100)
      if (!ok) return
      for (const scope of stored) {
        const first = network.events.slice(from).find((e) => e.type === 'request' && e.client === old.name && e.where === JSON.stringify(scope.where))
        if (first === undefined || first.type !== 'request') continue
        const want = { checkpoint: scope.checkpoint, cursor: scope.checkpoint === null ? (scope.fullCursor?.after ?? null) : null }
        const got = { checkpoint: first.checkpoint, cursor: first.checkpoint === null ? first.cursor : null }
        if (JSON.stringify(want) !== JSON.stringify(got)) {
          extra.push({ invariant: 'I10', client: old.name, message: `${old.name}: reopened and asked ${JSON.stringify(got)} for ${first.where}; it had stored ${JSON.stringify(want)}` })
        }
      }
    }
    if (options.purges !== undefined) {
      const { perMinute, olderThanMs } = options.purges
      cluster.monitor.allowPurge = true
      loops.push(
        track(
          'purges',
          every(60_000 / perMinute, rng.fork(), async () => {
            const cutoff = vt.now() - olderThanMs
            await cluster.server.engine.purge({ olderThanMs })
            cluster.monitor.purged(cutoff)
          }),
        ),
      )
    }
    if (options.restore !== undefined) {
      const { purgeBeforeBackupMs } = options.restore
      if (purgeBeforeBackupMs !== undefined) cluster.monitor.allowPurge = true
      const r = rng.fork()
      loops.push(
        track('restore', (async () => {
          await sleep(r.between(Math.round(options.durationMs * 0.15), Math.round(options.durationMs * 0.45)))
          if (stopped) return
          if (purgeBeforeBackupMs !== undefined) {
            const cutoff = vt.now() - purgeBeforeBackupMs
            await vt.await(cluster.server.engine.purge({ olderThanMs: purgeBeforeBackupMs }))
            cluster.monitor.purged(cutoff)
          }
          const backup = await vt.await(takeBackup(cluster.database))
          await sleep(r.between(Math.round(options.durationMs * 0.2), Math.round(options.durationMs * 0.4)))
          await cluster.sample()
          cluster.monitor.serverRestoring(true)
          try {
            await cluster.restartServer((database) => restoreBackup(database, backup))
          } finally {
            cluster.monitor.serverRestoring(false)
          }
        })()),
      )
    }
    let sampling = Promise.resolve()
    const sampleEvery = options.sampleEveryMs ?? 500
    const sampler = setInterval(() => {
      sampling = sampling.then(() => cluster.sample())
    }, sampleEvery)
    try {
      await vt.runFor(options.durationMs)
      stopped = true
      for (const wake of [...sleepers]) wake()
      await vt.await(Promise.all(loops), 120_000, 'the workload to stop').catch((error: unknown) => {
        const open = cluster.history.open().map((e) => `${e.process} ${e.f} ${e.uid ?? ''} at ${e.at}`)
        const stuck = [...running].map(([k, v]) => `${k}=${v}`).join(',')
        const status = cluster.clients.map((c) => `${c.name}:${c.client.status}${c.offline ? '(offline)' : ''}`)
        throw new Error(`${String(error)}; unfinished: ${open.join(', ')}; loops ${stuck}; clients ${status.join(' ')}; now ${vt.now()}`)
      })
    } finally {
      clearInterval(sampler)
      await vt.await(sampling, 60_000, 'sampling')
    }
    const violations = [...extra, ...(await cluster.heal(options.healBoundMs ?? 60_000))]
    // A record whose last accepted write is a delete may end unknown to the server: purged after
    // retention, or — after a restore — deleted after the backup by a client that no longer holds the
    // tombstone (a tombstone in no scope is evicted, and nothing is left to offer back). Live records are
    // still held by some client (every client holds `{}`) and must come back (I1, I2).
    const purged = options.purges !== undefined || options.restore !== undefined
    violations.push(...(await cluster.check({ purged, restored: options.restore !== undefined })))
    const s = network.stats
    const summary = `${count} clients; ${cluster.history.summary()}; up ${s.up.sent}/${s.up.dropped}d/${s.up.duplicated}x, down ${s.down.sent}/${s.down.dropped}d/${s.down.duplicated}x, realtime ${s.realtime.sent}/${s.realtime.dropped}d/${s.realtime.duplicated}x; samples ${cluster.monitor.samples}`
    return { seed: options.seed, violations, summary }
  } finally {
    await cluster.close()
  }
}

/** Throws with the seed and the violations if a run found any. */
export function assertClean(label: string, result: ScenarioResult): void {
  if (result.violations.length === 0) return
  throw new Error(`[${label}] ${result.violations.length} violation(s) with seed ${result.seed} (replay: FC_SEED=${result.seed})\n${formatViolations(result.violations)}\n${result.summary}`)
}

/** A campaign of scenario runs (one per seed) for a matrix row. */
export async function runScenarioCampaign(
  campaign: CampaignOptions,
  scenario: Omit<ScenarioOptions, 'seed' | 'label'>,
): Promise<CampaignResult> {
  return runCampaign(campaign, (seed) => runScenario({ ...scenario, label: campaign.row, seed }))
}
