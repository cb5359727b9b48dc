/**
 * Runs a row of the matrix as a campaign of seeded runs: `ciCount × RUNS` runs (one run with
 * `FC_SEED`), regression seeds first. In CI it stops at the first failing run and throws with its seed;
 * under the soak (`LW_SOAK=1`) it runs them all and counts. With `LW_SOAK_REPORT=<file>` every campaign
 * appends one JSON line `{ row, runs, violations, firstFailure }` for the soak's table.
 */
import { appendFileSync } from 'node:fs'
import { baseSeed, campaignSeeds, replaySeed, scaledRuns } from './random.js'

export interface RunOutcome {
  /** Empty when the run passed. */
  violations: readonly { invariant: string; message: string }[]
  summary?: string
}

export interface CampaignResult {
  row: string
  runs: number
  failedRuns: number
  violations: number
  firstFailure: number | null
}

export interface CampaignOptions {
  /** Matrix row, e.g. `T02`. */
  row: string
  /** Runs at the CI count (multiplied by `RUNS`). */
  ciCount: number
  /** Seeds that once failed: always run first (unless replaying `FC_SEED`). */
  regressionSeeds?: readonly number[]
  /** Prints each run's summary. */
  verbose?: boolean
}

export function soakMode(): boolean {
  return process.env['LW_SOAK'] === '1'
}

/** Writes a campaign line to the soak report (if one is being collected). */
export function reportCampaign(result: CampaignResult): void {
  const file = process.env['LW_SOAK_REPORT']
  if (file !== undefined && file !== '') appendFileSync(file, `${JSON.stringify(result)}\n`)
}

export async function runCampaign(options: CampaignOptions, runOne: (seed: number, index: number) => Promise<RunOutcome>): Promise<CampaignResult> {
  const base = baseSeed(options.row)
  const replay = replaySeed() !== undefined
  const seeds = [...(replay ? [] : (options.regressionSeeds ?? [])), ...campaignSeeds(base, scaledRuns(options.ciCount))]
  const result: CampaignResult = { row: options.row, runs: 0, failedRuns: 0, violations: 0, firstFailure: null }
  const failures: string[] = []
  try {
    for (const [i, seed] of seeds.entries()) {
      let outcome: RunOutcome
      try {
        outcome = await runOne(seed, i)
      } catch (error) {
        outcome = { violations: [{ invariant: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }] }
      }
      result.runs++
      if (options.verbose === true && outcome.summary !== undefined) console.log(`[${options.row}] seed ${seed}: ${outcome.summary}`)
      if (outcome.violations.length === 0) continue
      result.failedRuns++
      result.violations += outcome.violations.length
      result.firstFailure ??= seed
      const lines = outcome.violations.slice(0, 12).map((v) => `  ${v.invariant}: ${v.message}`)
      if (outcome.violations.length > 12) lines.push(`  … and ${outcome.violations.length - 12} more`)
      failures.push(`seed ${seed} (replay: FC_SEED=${seed}):\n${lines.join('\n')}${outcome.summary === undefined ? '' : `\n  ${outcome.summary}`}`)
      if (!soakMode()) break
    }
  } finally {
    reportCampaign(result)
  }
  console.log(
    `[${options.row}] ${result.runs} runs, ${result.failedRuns} failed${result.firstFailure === null ? '' : `, first failing seed ${result.firstFailure}`}`,
  )
  if (failures.length > 0) throw new Error(`[${options.row}] ${result.failedRuns} of ${result.runs} runs violated invariants\n${failures.slice(0, 3).join('\n')}`)
  return result
}
