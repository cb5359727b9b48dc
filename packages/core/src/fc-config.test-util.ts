/**
 * Shared fast-check parameters for core's property tests (not a test file itself, and no runtime
 * import of fast-check, so it stays harmless if a build picks it up).
 *
 * fast-check prints `seed` and `path` when a property fails. To replay that failure:
 *   FC_SEED=<seed> [FC_PATH=<path>] npx vitest run --project core packages/core/src/<file>.test.ts
 */

/** The subset of fast-check's `Parameters` we set. */
export interface FcParams {
  numRuns: number
  seed?: number
  path?: string
}

/** Parameters for one law: `numRuns` runs, or the replay given by `FC_SEED` / `FC_PATH`. */
export function fcParams(numRuns: number): FcParams {
  // core has no Node types (it must not touch Node globals at run time); tests read the env this way.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  const params: FcParams = { numRuns }
  const seed = env?.['FC_SEED']
  if (seed !== undefined && seed !== '') params.seed = Number(seed)
  const path = env?.['FC_PATH']
  if (path !== undefined && path !== '') params.path = path
  return params
}
