/**
 * Row T30's campaign: each run a {@link RelCluster} of 2–4 clients with random scopes, shared lists and
 * todos, a random command sequence (relational-model.ts), healing, and the final checks
 * (relational-checks.ts). fast-check prints its seed and path on failure; `FC_SEED` (and `FC_PATH`)
 * replay it, `FC_SHRINK=1` shrinks it, `RUNS` scales the count; regressions replay first.
 */
import fc from 'fast-check'
import { reportCampaign } from './campaign.js'
import { baseSeed, scaledRuns } from './random.js'
import { checkFinal } from './relational-checks.js'
import { RelCluster } from './relational-cluster.js'
import { CreateListCmd, CreateTodoCmd, MAX_CLIENTS, after, relationalCommands, type Model, type Real } from './relational-model.js'
import type { OnDelete, RelationalDatabase } from './relational-schema.js'

/** What the runs of a campaign exercised (printed, and required of a campaign of 10 runs or more). */
interface Stats {
  runs: number
  units: number
  atomic: number
  refusedUnits: number
  parentDeleted: number
  unitRefused: number
  transactions: number
  split: number
}

function tally(stats: Stats, cluster: RelCluster): void {
  stats.runs++
  stats.units += cluster.units.length
  stats.atomic += cluster.units.filter((u) => u.atomic && u.records.length > 1).length
  stats.refusedUnits += cluster.units.filter((u) => u.atomic && u.records.some((r) => r.status === 'rejected')).length
  for (const u of cluster.units) {
    for (const r of u.records) {
      if (r.code === 'PARENT_DELETED') stats.parentDeleted++
      if (r.code === 'UNIT_REFUSED') stats.unitRefused++
    }
  }
  stats.transactions += cluster.transactions.length
  stats.split += cluster.transactions.filter((t) => t.split).length
}

function property(open: () => Promise<RelationalDatabase>, onDelete: OnDelete, row: string, stats: Stats) {
  return fc.asyncProperty(
    fc.integer({ min: 2, max: MAX_CLIENTS }),
    fc.array(fc.subarray([0, 1, 2], { minLength: 1 }), { minLength: MAX_CLIENTS, maxLength: MAX_CLIENTS }),
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    relationalCommands,
    async (count, scopes, seed, cmds) => {
      const cluster = await RelCluster.start({ label: row, seed, open })
      const real: Real = { cluster, violations: [], created: new Map(), onDelete }
      try {
        const model: Model = { clients: count, online: [], subscriptions: [] }
        for (let i = 0; i < count; i++) {
          const c = cluster.addClient()
          const subs = new Set(scopes[i] as number[])
          for (const s of subs) cluster.subscribe(c, s)
          model.online.push(true)
          model.subscriptions.push(subs)
        }
        // Lists every client shares, and a todo in each, to delete and edit concurrently.
        for (const c of cluster.clients) await new CreateListCmd(cluster.clients.indexOf(c), 0).run(model, real)
        await cluster.vt.runFor(500)
        for (const c of cluster.clients) await new CreateTodoCmd(cluster.clients.indexOf(c), cluster.clients.indexOf(c), 'x', 0).run(model, real)
        await cluster.vt.runFor(500)
        await fc.asyncModelRun(() => ({ model, real }), cmds)
        if (process.env['LW_VERBOSE'] === '1') console.log(`${row} run: ${count} clients, ${String(cmds)}`)
        real.violations.push(...(await cluster.heal()))
        await after(real, 0)
        real.violations.push(...(await checkFinal(cluster, real.created)))
        tally(stats, cluster)
        if (real.violations.length > 0) throw new Error(`cluster seed ${seed}, ${count} clients, onDelete ${onDelete}:\n  ${real.violations.slice(0, 12).join('\n  ')}`)
      } finally {
        await cluster.close()
      }
    },
  )
}

export interface RelationalCampaignOptions {
  row: string
  ciCount: number
  onDelete: OnDelete
  open: () => Promise<RelationalDatabase>
  /** fast-check seeds and paths that once failed (docs/test-matrix.md, bugs): replayed first, one run each. */
  regressions?: ReadonlyArray<{ seed: number; path: string }>
}

/** `ciCount × RUNS` runs (one with `FC_SEED`, at `FC_PATH` if given), regressions first; throws with the replay line on a failure. */
export async function runRelationalCampaign(options: RelationalCampaignOptions): Promise<void> {
  const seed = baseSeed(options.row)
  const path = process.env['FC_PATH']
  const stats: Stats = { runs: 0, units: 0, atomic: 0, refusedUnits: 0, parentDeleted: 0, unitRefused: 0, transactions: 0, split: 0 }
  const prop = property(options.open, options.onDelete, options.row, stats)
  const replaying = process.env['FC_SEED'] !== undefined && process.env['FC_SEED'] !== ''
  for (const r of replaying ? [] : (options.regressions ?? [])) {
    const again = await fc.check(prop, { seed: r.seed, path: r.path, numRuns: 1 })
    if (again.failed) throw new Error(`[${options.row}] regression FC_SEED=${r.seed} FC_PATH=${r.path} failed again:\n${again.errorInstance instanceof Error ? again.errorInstance.message : String(again.errorInstance)}`)
  }
  const details = await fc.check(prop, {
    seed,
    ...(path === undefined || path === '' ? {} : { path }),
    numRuns: scaledRuns(options.ciCount),
    endOnFailure: process.env['FC_SHRINK'] !== '1',
  })
  reportCampaign({ row: options.row, runs: details.numRuns, failedRuns: details.failed ? 1 : 0, violations: details.failed ? 1 : 0, firstFailure: details.failed ? seed : null })
  console.log(`[${options.row}] ${details.numRuns} runs, ${details.failed ? 1 : 0} failed; exercised: ${JSON.stringify(stats)}`)
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
    throw new Error(
      `[${options.row}] failed: fast-check seed ${details.seed} path ${details.counterexamplePath ?? ''} (replay: FC_SEED=${details.seed} FC_PATH=${details.counterexamplePath ?? ''}; FC_SHRINK=1 to shrink)\n${error}\ncommands: ${details.counterexample === null ? '' : String(details.counterexample[3])}`,
    )
  }
}
