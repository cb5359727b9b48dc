// scripts/pack-check.mjs (the packages as an app gets them): `npm test` runs it, it picks up every
// non-private package under packages/, and its pure parts catch what they are meant to catch.
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { extractPrograms, manifestProblems, packedManifestProblems, publicPackages, tarballProblems } from '../pack-check-lib.mjs'

const root = resolve(import.meta.dirname, '../..')

describe('pack check', () => {
  test('npm test runs it after the tests', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    expect(scripts['test']).toMatch(/&& node scripts\/pack-check\.mjs$/)
  })

  test('picks up every non-private package under packages/, and each is ready to pack', () => {
    const expected = readdirSync(join(root, 'packages')).filter((name) => {
      const file = join(root, 'packages', name, 'package.json')
      return existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { private?: boolean }).private !== true
    })
    const found = publicPackages(root) as { folder: string; manifest: unknown }[]
    expect(found.map((p) => p.folder).sort()).toEqual(expected.map((name) => `packages/${name}`).sort())
    expect(found.map((p) => p.folder)).toEqual(expect.arrayContaining(['packages/core', 'packages/server', 'packages/client']))
    const license = readFileSync(join(root, 'LICENSE'), 'utf8')
    expect(license).toContain('Copyright (c) 2026 the lastword authors')
    for (const pkg of found) {
      expect(manifestProblems(pkg.manifest), pkg.folder).toEqual([])
      expect(readFileSync(join(root, pkg.folder, 'LICENSE'), 'utf8'), `${pkg.folder}/LICENSE`).toBe(license)
    }
  })

  test('the server leaves the database drivers to the app: optional peers, no static import of one', () => {
    const server = JSON.parse(readFileSync(join(root, 'packages/server/package.json'), 'utf8')) as Record<string, Record<string, unknown>>
    for (const driver of ['better-sqlite3', 'pg']) {
      expect(server['dependencies']?.[driver], driver).toBeUndefined()
      expect(server['peerDependencies']?.[driver], driver).toBeDefined()
      expect(server['peerDependenciesMeta']?.[driver], driver).toEqual({ optional: true })
    }
    for (const peer of ['drizzle-orm', 'socket.io']) {
      expect(server['dependencies']?.[peer], peer).toBeUndefined()
      expect(server['peerDependencies']?.[peer], peer).toBeDefined()
      expect(server['devDependencies']?.[peer], peer).toBeDefined()
    }
    // A runtime (not type-only) static import of a driver, or of a Drizzle entry that imports one.
    const driverImport = /^import\s+(?!type\b)[^'"]*from\s+'(better-sqlite3|pg|drizzle-orm\/better-sqlite3|drizzle-orm\/node-postgres)'/m
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.includes('.test.') ? [join(dir, e.name)] : []))
    const offenders = walk(join(root, 'packages/server/src')).filter((file) => driverImport.test(readFileSync(file, 'utf8')))
    expect(offenders).toEqual([])
  })

  test('tarball contents: dist, README and LICENSE only, never a test', () => {
    const good = ['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts']
    expect(tarballProblems(good)).toEqual([])
    expect(tarballProblems([...good, 'package/src/index.ts'])).toEqual(['ships src/index.ts (only dist/, README.md and LICENSE belong in it)'])
    expect(tarballProblems([...good, 'package/dist/stamp.test.js'])).toEqual(['ships a test file: dist/stamp.test.js'])
    expect(tarballProblems(good.filter((e) => !e.endsWith('LICENSE')))).toEqual(['no LICENSE'])
    expect(packedManifestProblems({ exports: { '.': { '@lastword/source': './src/index.ts' } } })).toHaveLength(1)
    expect(packedManifestProblems({ dependencies: { '@lastword/core': 'workspace:*' } })).toHaveLength(1)
    expect(manifestProblems({ license: 'MIT', files: ['dist'] })).toEqual(['no "description" field', 'no "repository" field', 'no "keywords" field', 'no "engines" field'])
  })

  test("extracts the README's marked programs, and refuses a marker without a block", () => {
    const md = 'x\n<!-- pack-check: a.mjs -->\n```js\nconsole.log(1)\n```\n\n<!-- pack-check: b.mjs -->\n\n````ts\nconst b = "```"\n````\n'
    const programs = extractPrograms(md) as Map<string, string>
    expect([...programs]).toEqual([
      ['a.mjs', 'console.log(1)\n'],
      ['b.mjs', 'const b = "```"\n'],
    ])
    expect(() => extractPrograms('<!-- pack-check: a.mjs -->\ntext\n')).toThrow(/not followed by a fenced code block/)
    const readme = extractPrograms(readFileSync(join(root, 'README.md'), 'utf8')) as Map<string, string>
    expect([...readme.keys()].sort()).toEqual(['client.mjs', 'server.mjs'])
    expect(readme.get('server.mjs')).toMatch(/createSyncServer[\s\S]*migrate\(\)[\s\S]*attach\(/)
    expect(readme.get('client.mjs')).toMatch(/createSyncClient\([^\n]*indexedDB[^\n]*IDBKeyRange/)
  })
})
