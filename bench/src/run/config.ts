/** The run's settings (from the command line), its shared state, and how figures are recorded. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setActorLog } from '../lib/actors.js'
import type { Figure } from '../lib/figures.js'
import { PG_URL } from '../lib/pg.js'
import { renderChart, renderMarkdown } from '../lib/report.js'
import { checkTargets } from '../lib/targets.js'

// ---------------------------------------------------------------------------------------------- CLI
export const argv = process.argv.slice(2)
export const quick = argv.includes('--quick')
export const onlyIdx = argv.indexOf('--only')
export const only = onlyIdx >= 0 ? (argv[onlyIdx + 1] ?? '').split(',').filter(Boolean) : []
export const nIdx = argv.indexOf('--n')
/** `--n 10000` (comma-separated) runs only these N (the limits included). */
export const onlyNs = nIdx >= 0 ? (argv[nIdx + 1] ?? '').split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0) : []
/** `--no-peers`: lastword's figures only (with `--only initial,resync-…`, which would otherwise run the peers' too). */
export const noPeers = argv.includes('--no-peers')
export const NS = onlyNs.length > 0 ? onlyNs : quick ? [1_000] : [1_000, 10_000, 100_000]
export const REPS = quick ? 1 : 3
export const PEER_MAX_N = quick ? 1_000 : 100_000
export const REALTIME_SAMPLES = quick ? 20 : 200
export const COMMIT_SAMPLES = quick ? 50 : 500
export const PUSH_TOTAL = quick ? 1_000 : 10_000
export const PUSH_CLIENTS = quick ? [10] : [1, 10, 50]
/** Multi-node, per adapter: timed writes, then pushing clients × batches × records (about 10 s quick, 15–30 s full). */
export const MULTI_NODE = { fanOutWrites: quick ? 40 : 200, pushClients: quick ? 6 : 12, pushBatches: quick ? 5 : 15, batch: 20 }
/** Quick: peers at their default settings only (no batch-size sweep). */
export const PEER_SWEEP = !quick
export const CALL_LIMIT_MS = quick ? 60_000 : 600_000
export const PUSH_LIMIT_MS = quick ? 30_000 : 120_000
export const started = Date.now()
/** The run's time budget: past it, remaining suites are skipped (and listed in the report). */
export const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? (quick ? 80 : 28 * 60)) * 1000
export const skipped: string[] = []
export function overBudget(what: string): boolean {
  if (Date.now() - started < BUDGET_MS) return false
  skipped.push(what)
  return true
}

/** `peers` stands for every peer system. */
export const expand = (o: string) => (o === 'peers' ? ['peers', 'rxdb', 'pouchdb'] : [o])
export const wants = (...names: string[]) =>
  only.length === 0 || only.flatMap(expand).some((o) => names.some((n) => n.startsWith(o) || o.startsWith(n)))

export const here = dirname(fileURLToPath(import.meta.url))
export const stamp = new Date().toISOString().replace(/[:.]/g, '-')
export const resultsDir = join(here, '..', '..', 'results')
mkdirSync(resultsDir, { recursive: true })
setActorLog(join(resultsDir, `${stamp}.log`))

export const figures: Figure[] = []
export const notes: string[] = []
export const say = (s: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${s}\n`)

export function push(f: Figure): void {
  figures.push(f)
  writeResults(true)
  const t = f.ms ? `${f.ms.median.toFixed(1)} ms` : f.p50 !== undefined ? `p50 ${f.p50.toFixed(2)} ms` : ''
  say(`${f.system}/${f.backend}/${f.variant} ${f.scenario} n=${f.n}: ${f.error ? `ERROR ${f.error}` : t}${f.recordsPerSec ? ` ${Math.round(f.recordsPerSec)} rec/s` : ''}`)
}


/** The old way's last full resync (nothing changed) per backend, to project the next N. */
export const oldWayMs = new Map<string, { n: number; ms: number }>()
export const OLD_WAY_MAX_MS = 120_000

/** Quick mode pushes into the suite's own (seeded) server, saving a server start per figure. */
export const PUSH_IN_SUITE = quick

export function metaOf(partial: boolean) {
  return {
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    mode: `${quick ? 'quick' : 'full'}${partial ? ' (partial: still running or interrupted)' : ''}`,
    only,
    ns: NS,
    repetitions: REPS,
    node: process.version,
    cpus: cpus().length,
    pgUrl: PG_URL.replace(/\/\/[^@]*@/, '//…@'),
    notes,
  }
}

/** Writes the JSON, markdown and chart; called after every figure (partial) and at the end. */
export function writeResults(partial: boolean): void {
  try {
    checkTargets(figures)
    const meta = metaOf(partial)
    writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify({ meta, figures }, null, 2))
    writeFileSync(join(resultsDir, `${stamp}.md`), renderMarkdown(figures, meta))
    writeFileSync(join(resultsDir, `${stamp}.svg`), renderChart(figures))
  } catch (e) {
    say(`could not write results: ${(e as Error).message}`)
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    notes.push(`Interrupted (${signal}) after ${Math.round((Date.now() - started) / 1000)} s.`)
    writeResults(true)
    say(`interrupted: partial results in results/${stamp}.{json,md,svg}`)
    process.exit(130)
  })
}
