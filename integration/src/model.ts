/**
 * T01 — model-based testing with `fc.commands`: 2–5 real clients, random overlapping scopes, and random
 * sequences of create, update, delete, sync, go offline, go online, subscribe, unsubscribe and waits
 * (which let the clients' background syncs interleave). Every command checks what must hold at once —
 * a completed local write is visible locally (I6) — and the stores are sampled after each (I4, I7).
 * After the sequence everything heals: I9, then I1, I2 and I3 against the history.
 *
 * fast-check prints its seed and path on failure; `FC_SEED` (and `FC_PATH`) replay it, `RUNS` scales.
 */
import fc from 'fast-check'
import { versionOf } from '@lastword/core'
import { formatViolations, type Violation } from './checkers.js'
import { reportCampaign } from './campaign.js'
import { Cluster, type ClusterOptions, type ItemRow, type SimClient } from './cluster.js'
import type { CheckOptions } from './cluster-check.js'
import type { TestDatabase } from './databases.js'
import { baseSeed, scaledRuns } from './random.js'
import { LISTS, SCOPES } from './schema.js'

export interface Model {
  clients: number
  online: boolean[]
  subscriptions: Set<number>[]
  /** Scope changes allowed. */
  scopeChanges: boolean
}

export interface Real {
  cluster: Cluster
  clients: SimClient[]
  violations: Violation[]
}

export type Cmd = fc.AsyncCommand<Model, Real, boolean>

export const clientOf = (real: Real, index: number): SimClient => real.clients[index % real.clients.length] as SimClient

export async function after(real: Real, waitMs: number): Promise<void> {
  if (waitMs > 0) await real.cluster.vt.runFor(waitMs)
  await real.cluster.sample()
}

/**
 * I6: right after a local write completed, the store shows it — or a newer version (a remote write that
 * arrived meanwhile), never an older one or nothing.
 */
async function checkVisible(real: Real, c: SimClient, uid: string): Promise<void> {
  const last = real.cluster.history.entries.at(-1)
  if (last?.type !== 'ok' || last.uid !== uid) return
  const record = await real.cluster.vt.await(c.items.record(uid))
  if (record === null) {
    real.violations.push({ invariant: 'I6', message: `${c.name}: ${last.f} of ${uid} completed but the store has no record` })
    return
  }
  if (last.stamp === undefined) {
    // The store did not show the write right after it: only a newer version may explain that.
    const history = real.cluster.history.entries.filter((e) => e.uid === uid && e.type === 'ok' && e.stamp !== undefined)
    const mine = history.filter((e) => e.process === c.name).at(-1)
    if (mine !== undefined && versionOf(record) <= (mine.stamp as string)) {
      real.violations.push({ invariant: 'I6', message: `${c.name}: ${last.f} of ${uid} completed but the store shows an older state` })
    }
  }
}

class CreateCmd implements Cmd {
  constructor(
    readonly client: number,
    readonly row: ItemRow,
    readonly waitMs: number,
  ) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const c = clientOf(real, this.client)
    const uid = await real.cluster.vt.await(real.cluster.create(c, this.row))
    if (uid === null) throw new Error(`${c.name}: create failed: ${JSON.stringify(real.cluster.history.entries.at(-1))}`)
    // I6: a completed local write is visible at once (a newer remote version may already have replaced it).
    const record = await real.cluster.vt.await(c.items.record(uid))
    if (record === null) real.violations.push({ invariant: 'I6', message: `${c.name}: created ${uid} but it is not in the store` })
    await after(real, this.waitMs)
  }
  toString = (): string => `create(c${this.client}, ${JSON.stringify(this.row)}) +${this.waitMs}ms`
}

class UpdateCmd implements Cmd {
  constructor(
    readonly client: number,
    readonly pick: number,
    readonly patch: Partial<ItemRow>,
    readonly waitMs: number,
  ) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const c = clientOf(real, this.client)
    const rows = await real.cluster.vt.await(c.items.findMany({}))
    if (rows.length === 0) return
    const uid = (rows[this.pick % rows.length] as { uid: string }).uid
    await real.cluster.vt.await(real.cluster.update(c, uid, { ...this.patch }))
    await checkVisible(real, c, uid)
    await after(real, this.waitMs)
  }
  toString = (): string => `update(c${this.client}, #${this.pick}, ${JSON.stringify(this.patch)}) +${this.waitMs}ms`
}

class DeleteCmd implements Cmd {
  constructor(
    readonly client: number,
    readonly pick: number,
    readonly waitMs: number,
  ) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const c = clientOf(real, this.client)
    const rows = await real.cluster.vt.await(c.items.findMany({}))
    if (rows.length === 0) return
    const uid = (rows[this.pick % rows.length] as { uid: string }).uid
    await real.cluster.vt.await(real.cluster.remove(c, uid))
    await checkVisible(real, c, uid)
    await after(real, this.waitMs)
  }
  toString = (): string => `delete(c${this.client}, #${this.pick}) +${this.waitMs}ms`
}

class SyncCmd implements Cmd {
  constructor(readonly client: number) {}
  check = (m: Model): boolean => m.online[this.client % m.clients] === true
  async run(_m: Model, real: Real): Promise<void> {
    const c = clientOf(real, this.client)
    // Connected or not yet (reconnecting): a failed sync is fine, it is retried by the driver.
    await real.cluster.vt.await(real.cluster.sync(c), 120_000, `${c.name}.sync()`)
    await after(real, 0)
  }
  toString = (): string => `sync(c${this.client})`
}

class OfflineCmd implements Cmd {
  constructor(readonly client: number) {}
  check = (m: Model): boolean => m.online[this.client % m.clients] === true
  async run(m: Model, real: Real): Promise<void> {
    m.online[this.client % m.clients] = false
    real.cluster.goOffline(clientOf(real, this.client))
    await after(real, 0)
  }
  toString = (): string => `offline(c${this.client})`
}

class OnlineCmd implements Cmd {
  constructor(readonly client: number) {}
  check = (m: Model): boolean => m.online[this.client % m.clients] === false
  async run(m: Model, real: Real): Promise<void> {
    m.online[this.client % m.clients] = true
    real.cluster.goOnline(clientOf(real, this.client))
    await after(real, 0)
  }
  toString = (): string => `online(c${this.client})`
}

class SubscribeCmd implements Cmd {
  constructor(
    readonly client: number,
    readonly scope: number,
  ) {}
  check = (m: Model): boolean => m.scopeChanges && !(m.subscriptions[this.client % m.clients] as Set<number>).has(this.scope)
  async run(m: Model, real: Real): Promise<void> {
    ;(m.subscriptions[this.client % m.clients] as Set<number>).add(this.scope)
    real.cluster.subscribe(clientOf(real, this.client), this.scope)
    await after(real, 0)
  }
  toString = (): string => `subscribe(c${this.client}, ${JSON.stringify(SCOPES[this.scope])})`
}

class UnsubscribeCmd implements Cmd {
  constructor(
    readonly client: number,
    readonly scope: number,
  ) {}
  check = (m: Model): boolean => {
    const subs = m.subscriptions[this.client % m.clients] as Set<number>
    return m.scopeChanges && subs.has(this.scope) && subs.size > 1
  }
  async run(m: Model, real: Real): Promise<void> {
    ;(m.subscriptions[this.client % m.clients] as Set<number>).delete(this.scope)
    real.cluster.unsubscribe(clientOf(real, this.client), this.scope)
    await after(real, 0)
  }
  toString = (): string => `unsubscribe(c${this.client}, ${JSON.stringify(SCOPES[this.scope])})`
}

class WaitCmd implements Cmd {
  constructor(readonly ms: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    await after(real, this.ms)
  }
  toString = (): string => `wait(${this.ms}ms)`
}

export const MAX_CLIENTS = 5
export const clientArb = fc.nat({ max: MAX_CLIENTS - 1 })
export const waitArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 }))
export const rowArb: fc.Arbitrary<ItemRow> = fc.record({
  list: fc.constantFrom(...LISTS),
  title: fc.constant(''),
  done: fc.boolean(),
  n: fc.option(fc.nat({ max: 9 }), { nil: null }),
})
export const patchArb: fc.Arbitrary<Partial<ItemRow>> = fc.record(
  { list: fc.constantFrom(...LISTS), done: fc.boolean(), n: fc.option(fc.nat({ max: 9 }), { nil: null }) },
  { requiredKeys: [] },
)
const scopeArb = fc.nat({ max: SCOPES.length - 1 })

/** T01's commands (row T24 mixes its foreign writers into them). */
export const CLIENT_COMMANDS: Array<fc.Arbitrary<Cmd>> = [
    fc.tuple(clientArb, rowArb, waitArb).map(([c, r, w]) => new CreateCmd(c, r, w)),
    fc.tuple(clientArb, fc.nat(), patchArb, waitArb).map(([c, p, patch, w]) => new UpdateCmd(c, p, patch, w)),
    fc.tuple(clientArb, fc.nat(), patchArb, waitArb).map(([c, p, patch, w]) => new UpdateCmd(c, p, patch, w)),
    fc.tuple(clientArb, fc.nat(), waitArb).map(([c, p, w]) => new DeleteCmd(c, p, w)),
    clientArb.map((c) => new SyncCmd(c)),
    clientArb.map((c) => new OfflineCmd(c)),
    clientArb.map((c) => new OnlineCmd(c)),
    fc.tuple(clientArb, scopeArb).map(([c, s]) => new SubscribeCmd(c, s)),
    fc.tuple(clientArb, scopeArb).map(([c, s]) => new UnsubscribeCmd(c, s)),
    fc.integer({ min: 50, max: 3_000 }).map((ms) => new WaitCmd(ms)),
]

export const commandsArb = fc.commands(CLIENT_COMMANDS, { maxCommands: 30, size: 'max' })

/**
 * A variant of the campaign (row T24): its own commands, and per run the cluster's extra options and
 * hooks — after the clients are set up, before healing (what the commands left open is closed), after
 * the cluster's checks (its own), and at the end.
 */
export interface ModelVariant {
  label: string
  commands: fc.Arbitrary<Iterable<Cmd>>
  run(): VariantRun
}

export interface VariantRun {
  cluster: Pick<ClusterOptions, 'server' | 'startAt'>
  started(real: Real): Promise<void>
  beforeHeal(real: Real): Promise<void>
  /** Right after healing, before the checks: violations of its own. */
  afterHeal(real: Real): Promise<Violation[]>
  /** The options of the cluster's checks (writes from other writers), and the variant's own checks. */
  checkOptions(real: Real): Promise<CheckOptions>
  check(real: Real): Promise<Violation[]>
  close(): Promise<void>
}

export interface ModelCampaignOptions {
  row: string
  ciCount: number
  openDatabase: () => Promise<TestDatabase>
  /** Seeds (fast-check seeds) that once failed; replayed first. */
  regressions?: ReadonlyArray<{ seed: number; path?: string }>
  /** How `items` merges (row T25 runs the same commands on a `merge: 'field'` table). */
  merge?: 'row' | 'field'
  variant?: ModelVariant
}

/** One property run: a cluster, the commands, healing, the checkers. */
function property(open: () => Promise<TestDatabase>, merge: 'row' | 'field' = 'row', variant?: ModelVariant) {
  return fc.asyncProperty(
    fc.integer({ min: 2, max: MAX_CLIENTS }),
    fc.array(scopeArb, { minLength: MAX_CLIENTS, maxLength: MAX_CLIENTS }),
    fc.array(scopeArb, { minLength: MAX_CLIENTS, maxLength: MAX_CLIENTS }),
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    variant?.commands ?? commandsArb,
    async (count, firstScopes, secondScopes, seed, cmds) => {
      const run = variant?.run()
      let cluster: Cluster
      try {
        cluster = await Cluster.start({ label: variant?.label ?? (merge === 'field' ? 'T25' : 'T01'), seed, openDatabase: open, ...(merge === 'field' ? { merge } : {}), ...run?.cluster })
      } catch (error) {
        await run?.close()
        throw error
      }
      const real: Real = { cluster, clients: [], violations: [] }
      try {
        const model: Model = { clients: count, online: [], subscriptions: [], scopeChanges: true }
        for (let i = 0; i < count; i++) {
          const c = cluster.addClient()
          real.clients.push(c)
          const subs = new Set<number>([firstScopes[i] as number])
          if (secondScopes[i] !== firstScopes[i]) subs.add(secondScopes[i] as number)
          for (const s of subs) cluster.subscribe(c, s)
          model.online.push(true)
          model.subscriptions.push(subs)
        }
        // Some shared data to conflict over.
        for (const c of real.clients) for (let k = 0; k < 2; k++) await cluster.vt.await(cluster.create(c))
        await run?.started(real)
        await cluster.vt.runFor(500)
        await fc.asyncModelRun(() => ({ model, real }), cmds)
        if (process.env.LW_VERBOSE === "1") console.log(`T01 run: ${count} clients, ${String(cmds)} :: ${cluster.history.summary()}`)
        await run?.beforeHeal(real)
        real.violations.push(...(await cluster.heal(120_000)))
        if (run !== undefined) real.violations.push(...(await run.afterHeal(real)))
        real.violations.push(...(await cluster.check(run === undefined ? {} : await run.checkOptions(real))))
        if (run !== undefined) real.violations.push(...(await run.check(real)))
        if (real.violations.length > 0) {
          throw new Error(`cluster seed ${seed}, ${count} clients:\n${formatViolations(real.violations)}\nhistory: ${cluster.history.summary()}`)
        }
      } finally {
        await cluster.close()
        await run?.close()
      }
    },
  )
}

export async function runModelCampaign(options: ModelCampaignOptions): Promise<void> {
  const seed = baseSeed(options.row)
  const replaying = process.env['FC_SEED'] !== undefined && process.env['FC_SEED'] !== ''
  const path = process.env['FC_PATH']
  const prop = property(options.openDatabase, options.merge, options.variant)
  const shrink = process.env['FC_SHRINK'] === '1'
  let runs = 0
  let failedRuns = 0
  let firstFailure: number | null = null
  const failures: string[] = []
  const attempts: Array<{ seed: number; path?: string; numRuns: number }> = [
    ...(replaying ? [] : (options.regressions ?? []).map((r) => ({ ...r, numRuns: 1 }))),
    { seed, ...(path === undefined || path === '' ? {} : { path }), numRuns: scaledRuns(options.ciCount) },
  ]
  for (const attempt of attempts) {
    const details = await fc.check(prop, { ...attempt, endOnFailure: !shrink, verbose: 1 })
    runs += details.numRuns
    if (details.failed) {
      failedRuns++
      firstFailure ??= attempt.seed
      failures.push(
        `fast-check seed ${details.seed} path ${details.counterexamplePath ?? ''} (replay: FC_SEED=${details.seed} FC_PATH=${details.counterexamplePath ?? ''}; FC_SHRINK=1 to shrink)\n${String(
          details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance,
        )}\ncommands: ${details.counterexample === null ? '' : String(details.counterexample[4])}`,
      )
    }
  }
  reportCampaign({ row: options.row, runs, failedRuns, violations: failedRuns, firstFailure })
  console.log(`[${options.row}] ${runs} runs, ${failedRuns} failed`)
  if (failures.length > 0) throw new Error(`[${options.row}] model-based run failed\n${failures.join('\n')}`)
}
