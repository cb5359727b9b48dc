#!/usr/bin/env node
// The soak: `RUNS=10 pnpm test:soak` runs the in-memory rows of the fault campaign RUNS× their CI count
// (default 10) and the real-process rows (T06, D06) RUNS_REAL× (default 3), every run to the end
// (LW_SOAK=1: a failing run does not stop its campaign). Then it prints one line per row: runs,
// failed runs, violations, and the seed of the first failure (replay: FC_SEED=<seed>).
//
// Usage: RUNS=10 pnpm test:soak [-- <vitest file filters>]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'lw-soak-'))
const report = join(dir, 'report.jsonl')
const runs = process.env.RUNS ?? '10'
const runsReal = process.env.RUNS_REAL ?? '3'
const filters = process.argv.slice(2).filter((a) => a !== '--')

const env = {
  ...process.env,
  RUNS: runs,
  RUNS_REAL: runsReal,
  LW_SOAK: '1',
  LW_SOAK_REPORT: report,
}
const started = Date.now()
console.log(`soak: RUNS=${runs} (in-memory rows), RUNS_REAL=${runsReal} (real-process rows)`)
const vitest = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--project',
    'integration',
    '--project',
    'pg',
    '--reporter',
    'dot',
    ...(filters.length > 0 ? filters : ['integration/test/faults']),
  ],
  { cwd: root, env, stdio: 'inherit' },
)

const rows = new Map()
if (existsSync(report)) {
  for (const line of readFileSync(report, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    const r = JSON.parse(line)
    const prev = rows.get(r.row)
    if (prev === undefined) rows.set(r.row, r)
    else {
      prev.runs += r.runs
      prev.failedRuns += r.failedRuns
      prev.violations += r.violations
      prev.firstFailure ??= r.firstFailure
    }
  }
}
rmSync(dir, { recursive: true, force: true })

const order = (a, b) => a.localeCompare(b, 'en', { numeric: true })
const table = [['row', 'runs', 'failed runs', 'violations', 'first failing seed']]
for (const name of [...rows.keys()].sort(order)) {
  const r = rows.get(name)
  table.push([name, String(r.runs), String(r.failedRuns), String(r.violations), r.firstFailure === null ? '—' : String(r.firstFailure)])
}
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)))
const fmt = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`
console.log(`\nsoak finished in ${Math.round((Date.now() - started) / 1000)} s (vitest exit ${vitest.status})\n`)
console.log(fmt(table[0]))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const row of table.slice(1)) console.log(fmt(row))
if (rows.size === 0) console.log('(no campaign reported: did vitest start? see its output above)')
process.exit(vitest.status === 0 ? 0 : 1)
