// The repository's own promises: the README's two commands, CI calling the test command, and the
// layering check catching what it is meant to catch.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'

const root = resolve(import.meta.dirname, '../..')

function quickStartCommands(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.split(/^## Quick start$/m)[1]?.split(/^## /m)[0] ?? ''
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
  return block.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
}

describe('README quick start', () => {
  test('holds exactly two commands: the demo and the tests', () => {
    const commands = quickStartCommands()
    expect(commands).toHaveLength(2)
    expect(commands[0]).toMatch(/demo/)
    expect(commands[1]).toMatch(/test/)
  })

  test('.ci/run runs the README test command exactly', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8')
    const testCommand = quickStartCommands()[1] as string
    const lines = ci.split('\n').map((l) => l.trim())
    expect(lines.some((l) => l === testCommand || l.startsWith(`${testCommand} `))).toBe(true)
  })
})

describe('check-layering', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lw-layering-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  function check(name: string, file: string, source: string, deps: Record<string, string> = {}): { ok: boolean; output: string } {
    const dir = join(scratch, `${name.replace(/\W/g, '_')}-${Math.random().toString(36).slice(2)}`)
    mkdirSync(join(dir, 'src'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, dependencies: deps }))
    writeFileSync(join(dir, 'src', file), source)
    try {
      const output = execFileSync('node', [join(root, 'scripts/check-layering.mjs'), dir], { encoding: 'utf8', stdio: 'pipe' })
      return { ok: true, output }
    } catch (error) {
      return { ok: false, output: String((error as { stderr?: string }).stderr) }
    }
  }

  test('accepts a pure core file', () => {
    expect(check('@lastword/core', 'a.ts', 'export const a = (now: number) => now + 1\n', { valibot: '1' }).ok).toBe(true)
  })

  test('the validator is imported only behind core\'s seam (wire.ts, wire-parts.ts, wire-schema.ts)', () => {
    expect(check('@lastword/core', 'wire-schema.ts', "import * as v from 'valibot'\n", { valibot: '1' }).ok).toBe(true)
    expect(check('@lastword/core', 'wire-parts.ts', "import * as v from 'valibot'\n", { valibot: '1' }).ok).toBe(true)
    expect(check('@lastword/core', 'wire.ts', "import * as v from 'valibot'\n", { valibot: '1' }).ok).toBe(true)
    expect(check('@lastword/core', 'where.ts', "import * as v from 'valibot'\n", { valibot: '1' }).output).toContain('imports the validator valibot')
    expect(check('@lastword/client', 'a.ts', "import { object } from 'valibot'\n").output).toContain('imports the validator valibot')
    expect(check('@lastword/server', 'a.ts', "import type { InferOutput } from 'valibot'\n").output).toContain('imports the validator valibot')
  })

  test.each([
    ['a Node module', "import { readFileSync } from 'node:fs'\n", 'imports Node module'],
    ['the wall clock', 'export const t = Date.now()\n', 'wall clock'],
    ['a DOM global', 'export const d = window.location\n', 'global window'],
    ['randomness', 'export const r = Math.random()\n', 'randomness'],
    ['the client package', "import { x } from '@lastword/client'\n", 'imports @lastword/client'],
  ])('refuses core using %s', (_what, source, message) => {
    const result = check('@lastword/core', 'a.ts', source)
    expect(result.ok).toBe(false)
    expect(result.output).toContain(message)
  })

  test('refuses a runtime dependency in core beyond its schema library', () => {
    const result = check('@lastword/core', 'a.ts', 'export {}\n', { valibot: '1', lodash: '4' })
    expect(result.output).toContain('lodash')
  })

  test('refuses the client importing the server, and deep imports', () => {
    expect(check('@lastword/client', 'a.ts', "import { s } from '@lastword/server'\n").output).toContain('imports @lastword/server')
    expect(check('@lastword/demo', 'a.ts', "import { s } from '@lastword/client/src/x'\n").output).toContain('deep import')
  })
})
