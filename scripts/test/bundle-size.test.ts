// The client's browser bundle stays small: a tiny app importing `createSyncClient` is bundled by
// esbuild (scripts/bundle-size.mjs) and held to LIMITS, min+gzip, in all and for lastword's own share
// (everything but socket.io-client). It also pulls no server, test-only or zod code: the client entry
// tree-shakes down to what a browser app runs.
import { describe, expect, test } from 'vitest'
import { LIMITS, TRANSPORT_PACKAGES, measureBundle } from '../bundle-size.mjs'

interface Measure {
  total: { minified: number; gzip: number }
  own: { minified: number; gzip: number }
  packages: Record<string, number>
  files: string[]
}

const limits = LIMITS as { total: number; own: number }
const measure = (await measureBundle()) as Measure
console.log(`bundle: total ${measure.total.gzip} B, own ${measure.own.gzip} B min+gzip (limits ${limits.total} B, ${limits.own} B)`)

describe('the client bundle', () => {
  test('stays within the total limit, min+gzip', () => {
    expect(measure.total.gzip).toBeLessThanOrEqual(limits.total)
  })

  test("stays within the limit for lastword's own code with its validator", () => {
    expect(measure.own.gzip).toBeLessThanOrEqual(limits.own)
  })

  test('measures what it says: the transport is in the total, not in the own share', () => {
    for (const name of TRANSPORT_PACKAGES as string[]) expect(measure.packages[name] ?? 0).toBeGreaterThan(0)
    expect(measure.packages['@lastword/client'] ?? 0).toBeGreaterThan(0)
    expect(measure.packages['@lastword/core'] ?? 0).toBeGreaterThan(0)
    expect(measure.own.gzip).toBeLessThan(measure.total.gzip)
  })

  test('pulls no server, test-only or zod code', () => {
    const bad = measure.files.filter(
      (file) =>
        file.includes('packages/server/') ||
        file.includes('/testing/') ||
        /\.test\.ts$|test-util/.test(file) ||
        /node_modules\/(zod|fast-check|fake-indexeddb|drizzle-orm|socket\.io\/|ws)\b/.test(file),
    )
    expect(bad).toEqual([])
  })
})
