// The layering check on fixture workspaces: a relative import that crosses into another package's folder
// and a deep import of a path the package does not export both fail; imports by package name through an
// exported entry point (subpaths included) and relative imports inside the package pass.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'

const script = resolve(import.meta.dirname, '../check-layering.mjs')
const scratch = mkdtempSync(join(tmpdir(), 'lw-layering-tree-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let trees = 0

/** Writes a workspace like this repository's (server with a `./testing` subpath, integration, demo) plus `files`. */
function workspace(files: Record<string, string>): string {
  const root = join(scratch, `tree-${trees++}`)
  const base: Record<string, string> = {
    'pnpm-workspace.yaml': "packages:\n  - packages/*\n  - 'apps/*'\n  - integration\nallowBuilds:\n  esbuild: true\n",
    'packages/core/package.json': JSON.stringify({ name: '@lastword/core', exports: { '.': './src/index.ts' } }),
    'packages/core/src/index.ts': 'export const core = 1\n',
    'packages/server/package.json': JSON.stringify({
      name: '@lastword/server',
      exports: { '.': { default: './src/index.ts' }, './testing': { default: './src/testing/index.ts' } },
    }),
    'packages/server/src/index.ts': 'export const server = 1\n',
    'packages/server/src/testing/index.ts': 'export const serveConnection = 1\n',
    'packages/server/src/transport/transport.ts': 'export const createTransport = 1\n',
    'packages/client/package.json': JSON.stringify({ name: '@lastword/client', exports: { '.': './src/index.ts', './testing': './src/testing/index.ts' } }),
    'packages/client/src/index.ts': 'export const client = 1\n',
    'apps/demo/package.json': JSON.stringify({ name: '@lastword/demo' }),
    'apps/demo/src/main.ts': "import { client } from '@lastword/client'\n",
    'integration/package.json': JSON.stringify({ name: '@lastword/integration' }),
    'integration/src/kit.ts': "export const kit = 1\n",
    'integration/test/own.test.ts': "import { kit } from '../src/kit.js'\nimport { core } from '@lastword/core'\n",
  }
  for (const [path, text] of Object.entries({ ...base, ...files })) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

function check(root: string, ...dirs: string[]): { ok: boolean; output: string } {
  try {
    const output = execFileSync('node', [script, '--root', root, ...dirs], { encoding: 'utf8', stdio: 'pipe' })
    return { ok: true, output }
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: string }).stderr) }
  }
}

describe('relative imports', () => {
  test('pass inside the package folder, across src and test', () => {
    const result = check(workspace({}), 'integration')
    expect(result).toEqual({ ok: true, output: '@lastword/integration: layering ok\n' })
  })

  test.each([
    ['a static import', "import { createTransport } from '../../packages/server/src/transport/transport.js'\n"],
    ['a type-only import', "import type { X } from '../../packages/server/src/transport/transport.js'\n"],
    ['an import split over lines', "import {\n  createTransport,\n} from '../../packages/server/src/transport/transport.js'\n"],
    ['a re-export', "export * from '../../packages/server/src/index.js'\n"],
    ['a dynamic import', "const m = await import('../../packages/server/src/index.js')\n"],
    ['a side-effect import', "import '../../packages/server/src/index.js'\n"],
  ])('fail on %s that crosses into another package', (_what, source) => {
    const result = check(workspace({ 'integration/src/kit.ts': source }), 'integration')
    expect(result.ok).toBe(false)
    expect(result.output).toContain('integration/src/kit.ts: relative import ../../packages/server/src/')
    expect(result.output).toContain('reaches into @lastword/server (packages/server)')
  })

  test('fail from a test file, from apps and from one package into a sibling package', () => {
    const root = workspace({
      'integration/test/own.test.ts': "import { x } from '../../packages/client/src/index.js'\n",
      'apps/demo/src/main.ts': "import { x } from '../../../packages/client/src/index.js'\n",
      'packages/server/test/t.test.ts': "import { core } from '../../core/src/index.js'\n",
    })
    expect(check(root, 'integration').output).toContain('reaches into @lastword/client')
    expect(check(root, 'apps/demo').output).toContain('reaches into @lastword/client')
    expect(check(root, 'packages/server').output).toContain('reaches into @lastword/core')
  })

  test('fail when leaving the package for a folder that is no package', () => {
    const root = workspace({ 'integration/src/kit.ts': "import { x } from '../../tools/helper.js'\n" })
    const result = check(root, 'integration')
    expect(result.ok).toBe(false)
    expect(result.output).toContain('relative import ../../tools/helper.js leaves integration')
  })
})

describe('package imports', () => {
  test('pass through the root entry point and an exported subpath', () => {
    const root = workspace({
      'integration/src/kit.ts': "import { server } from '@lastword/server'\nimport { serveConnection } from '@lastword/server/testing'\nimport { t } from '@lastword/client/testing'\n",
    })
    expect(check(root, 'integration').ok).toBe(true)
  })

  test.each([
    ['@lastword/server/src/transport/transport.js'],
    ['@lastword/server/src/testing/index.ts'],
    ['@lastword/client/src/index.ts'],
    ['@lastword/core/src/index.ts'],
  ])('fail on the non-exported deep import %s', (spec) => {
    const result = check(workspace({ 'integration/src/kit.ts': `import { x } from '${spec}'\n` }), 'integration')
    expect(result.ok).toBe(false)
    expect(result.output).toContain(`deep import ${spec}`)
  })

  test('report every failing folder when given several', () => {
    const root = workspace({
      'integration/src/kit.ts': "import { x } from '../../packages/server/src/index.js'\n",
      'apps/demo/src/main.ts': "import { x } from '@lastword/client/src/index.ts'\n",
    })
    const result = check(root, 'packages/core', 'apps/demo', 'integration')
    expect(result.ok).toBe(false)
    expect(result.output).toContain('Layering violations in @lastword/demo')
    expect(result.output).toContain('Layering violations in @lastword/integration')
  })
})

describe('the framework bindings', () => {
  const binding = (name: 'react' | 'vue', source: string): Record<string, string> => ({
    [`packages/${name}/package.json`]: JSON.stringify({ name: `@lastword/${name}`, exports: { '.': './src/index.ts' } }),
    [`packages/${name}/src/index.ts`]: source,
  })

  test.each(['react', 'vue'] as const)('@lastword/%s passes through the client’s entry points', (name) => {
    const root = workspace(binding(name, "import { client } from '@lastword/client'\nimport { t } from '@lastword/client/testing'\n"))
    expect(check(root, `packages/${name}`).ok).toBe(true)
  })

  test.each([
    ['react', '@lastword/server'],
    ['react', '@lastword/core'],
    ['vue', '@lastword/server'],
    ['vue', '@lastword/core'],
  ] as const)('@lastword/%s fails importing %s', (name, spec) => {
    const result = check(workspace(binding(name, `import { x } from '${spec}'\n`)), `packages/${name}`)
    expect(result.ok).toBe(false)
    expect(result.output).toContain(spec)
  })
})
