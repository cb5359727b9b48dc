// Each package's own `test` script runs that package's tests: the script is run from the package folder,
// so the vitest project roots must not resolve against it (they once did, and found no test files).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const vitest = join(root, 'node_modules/vitest/vitest.mjs')

describe.each([
  ['packages/core', 'core', 'packages/core/src/stamp.test.ts'],
  ['packages/server', 'server', 'packages/server/test/transport/origin.test.ts'],
  ['packages/client', 'client', 'packages/client/test/clock.test.ts'],
  ['integration', 'integration', 'integration/test/move-out.test.ts'],
])('%s test script', (dir, project, knownFile) => {
  test(`lists the ${project} project's files when run from ${dir}`, () => {
    const script = (JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.test
    expect(script).toMatch(new RegExp(`^vitest run --project ${project} --root \\.\\.(/\\.\\.)?$`))
    // The script's own arguments, with `list --filesOnly` in place of `run`: it collects without running.
    const args = (script as string).split(' ').slice(2)
    const files = execFileSync('node', [vitest, 'list', '--filesOnly', ...args], { cwd: join(root, dir), encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
    expect(files.length).toBeGreaterThan(0)
    expect(files.some((f) => f.endsWith(knownFile.slice(dir.length + 1)))).toBe(true)
  }, 60_000)
})
