import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Project roots are absolute: a package's own `test` script runs vitest from the package folder
// (`vitest run --project core --root ../..`), where a relative root would resolve against that folder
// and find no test files.
const repo = fileURLToPath(new URL('.', import.meta.url))
const at = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

// Tests run against source: every workspace package exports its `src/index.ts` under the
// `@lastword/source` condition, so no build is needed for the inner loop.
const conditions = ['@lastword/source', 'node', 'import', 'module', 'default']
// Conditions for Node itself (externalised dependencies): never `import` or `module`, which Node would
// also apply to `require()` — engine.io's `require('ws')` would then get ws's ESM wrapper, which has no
// `Server` export, and every socket.io server in a test would fail to start.
const nodeConditions = ['@lastword/source', 'node', 'default']

// The file name picks the environment (CONTRIBUTING.md, "Test files"):
//   *.test.ts          Node, no external service
//   *.pg.test.ts       needs PostgreSQL (PG_URL, default the local server)
//   *.browser.test.ts  drives Debian's Chromium through playwright-core
//   *.test-d.ts        type tests, compiled (never run) by vitest's typecheck mode
const shared = {
  resolve: { conditions },
  ssr: { resolve: { conditions: nodeConditions, externalConditions: nodeConditions } },
}
const special = ['**/*.pg.test.ts', '**/*.browser.test.ts', '**/node_modules/**', '**/dist/**']
// The fault campaign (integration/test/faults; rows in docs/test-matrix.md) runs
// with everything else, at its CI counts; `pnpm test:soak` runs it RUNS× over.

export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      ...['core', 'server', 'client'].map((name) => ({
        ...shared,
        test: {
          name,
          root: at(`packages/${name}/`),
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: special,
          // Type tests (`*.test-d.ts`: `expectTypeOf`, `@ts-expect-error`) are compiled by tsc with the
          // package's tsconfig and reported as tests of the project (CONTRIBUTING.md, "Test files").
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: at(`packages/${name}/tsconfig.json`) },
        },
      })),
      // The framework bindings: their unit tests render in a DOM (happy-dom).
      ...['react', 'vue'].map((name) => ({
        ...shared,
        test: {
          name,
          root: at(`packages/${name}/`),
          include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
          exclude: special,
          environment: 'happy-dom',
        },
      })),
      {
        ...shared,
        test: { name: 'repo', root: at('scripts/'), include: ['test/**/*.test.ts'], exclude: special },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          root: at('integration/'),
          include: ['test/**/*.test.ts'],
          exclude: special,
          testTimeout: 60_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'pg',
          root: repo,
          include: ['packages/*/src/**/*.pg.test.ts', 'packages/*/test/**/*.pg.test.ts', 'integration/test/**/*.pg.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'browser',
          root: repo,
          include: ['apps/*/test/**/*.browser.test.ts', 'packages/*/test/**/*.browser.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
