#!/usr/bin/env node
// Keeps the layers of ARCHITECTURE.md:
// - core imports no workspace package, no Node module and uses no Node or DOM global (nor the wall clock
//   or randomness);
// - server and client import core, never each other;
// - every place imports another workspace package only by its name, through an entry point its
//   package.json `exports` declares (`@lastword/server`, `@lastword/server/testing`), never a deep path;
// - a relative import never leaves the folder of the package it is written in (`../../packages/server/src`
//   from `integration/` is a deep import in disguise);
// - the validator library (valibot) is imported only behind core's seam, packages/core/src/wire.ts,
//   wire-parts.ts and wire-schema.ts (and their tests): everything else uses core's `WireSchema`, so the
//   library can be swapped in those three files.
//
// Usage: node scripts/check-layering.mjs [--root <workspace root>] <package dir> [<package dir> ...]
// The workspace root (default: this repository) is where pnpm-workspace.yaml lists the packages whose
// folders and exports the check knows.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'

const args = process.argv.slice(2)
let root = resolve(import.meta.dirname, '..')
const dirs = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--root') root = resolve(args[++i] ?? '.')
  else dirs.push(args[i])
}
if (dirs.length === 0) {
  console.error('usage: check-layering.mjs [--root <workspace root>] <package dir> [<package dir> ...]')
  process.exit(2)
}

const rules = {
  '@lastword/core': { forbidWorkspace: ['@lastword/server', '@lastword/client'], pure: true, allowedDeps: ['valibot'] },
  '@lastword/server': { forbidWorkspace: ['@lastword/client'] },
  '@lastword/client': { forbidWorkspace: ['@lastword/server'] },
  // The framework bindings sit on the client's public entry points only.
  '@lastword/react': { forbidWorkspace: ['@lastword/server', '@lastword/core'] },
  '@lastword/vue': { forbidWorkspace: ['@lastword/server', '@lastword/core'] },
}

/** The workspace's packages (from pnpm-workspace.yaml): name → { dir, exports }. */
function readWorkspace(workspaceRoot) {
  const packages = new Map()
  const file = join(workspaceRoot, 'pnpm-workspace.yaml')
  if (!existsSync(file)) return packages
  // Only the `packages:` list is needed: `- dir` or `- dir/*` entries, quoted or not.
  const lines = readFileSync(file, 'utf8').split('\n')
  const start = lines.findIndex((l) => /^packages:\s*$/.test(l))
  if (start < 0) return packages
  const patterns = []
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+-\s*['"]?([^'"#\s]+)['"]?\s*$/.exec(line)
    if (m === null) break
    patterns.push(m[1])
  }
  const candidates = patterns.flatMap((p) => {
    if (!p.endsWith('/*')) return [join(workspaceRoot, p)]
    const parent = join(workspaceRoot, p.slice(0, -2))
    if (!existsSync(parent)) return []
    return readdirSync(parent).map((name) => join(parent, name))
  })
  for (const dir of candidates) {
    const manifest = join(dir, 'package.json')
    if (!existsSync(manifest)) continue
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'))
    if (typeof pkg.name === 'string') packages.set(pkg.name, { dir, exports: pkg.exports })
  }
  return packages
}

/** Whether `subpath` (`.` or `./testing`) is an entry point the `exports` field declares. */
function isExported(exportsField, subpath) {
  if (exportsField === undefined || exportsField === null) return subpath === '.'
  if (typeof exportsField === 'string' || Array.isArray(exportsField)) return subpath === '.'
  const keys = Object.keys(exportsField)
  // Conditions only (`{ import, default }`): the root entry point alone.
  if (!keys.some((k) => k.startsWith('.'))) return subpath === '.'
  return keys.some((key) => {
    if (exportsField[key] === null) return false
    if (!key.includes('*')) return key === subpath
    const [prefix, suffix] = key.split('*')
    return subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= prefix.length + suffix.length
  })
}

/** Splits `@scope/name/sub/path` into its package name and `./sub/path` (or `.`). */
function splitSpecifier(spec) {
  const parts = spec.split('/')
  const size = spec.startsWith('@') ? 2 : 1
  const rest = parts.slice(size).join('/')
  return { name: parts.slice(0, size).join('/'), subpath: rest === '' ? '.' : `./${rest}` }
}

function isInside(parent, child) {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

function* files(path) {
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue
    const full = join(path, name)
    if (statSync(full).isDirectory()) yield* files(full)
    else if (/\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) yield full
  }
}

const builtins = new Set(builtinModules)
// Static imports and re-exports (also `import type`, across lines), side-effect imports, dynamic
// `import()` and `require()` with a literal specifier.
const importPattern =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*[,)]|^\s*import\s*['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/gm

const workspace = readWorkspace(root)

/** The validator library and the files of core that may import it (the seam). */
const VALIDATOR = 'valibot'
const VALIDATOR_SEAM = /^src[\\/]wire(-schema|-parts)?(\.test)?\.ts$/

/** The problems of one package folder. */
function checkPackage(dir) {
  const pkgDir = resolve(root, dir)
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
  const rule = rules[pkg.name] ?? { forbidWorkspace: [] }
  const problems = []
  const srcDir = join(pkgDir, 'src')

  for (const file of files(pkgDir)) {
    const text = readFileSync(file, 'utf8')
    const rel = relative(root, file)
    const isTest = /\.(test|pg\.test|browser\.test)\.ts$/.test(file) || file.includes('test-util') || !isInside(srcDir, file)
    for (const m of text.matchAll(importPattern)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4]
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec)
        if (isInside(pkgDir, target)) continue
        const owner = [...workspace].find(([, p]) => isInside(p.dir, target))
        problems.push(
          owner === undefined
            ? `${rel}: relative import ${spec} leaves ${relative(root, pkgDir) || '.'} (import other code by its package name)`
            : `${rel}: relative import ${spec} reaches into ${owner[0]} (${relative(root, owner[1].dir)}); import it by its package name through an exported entry point`,
        )
        continue
      }
      if (rule.forbidWorkspace.some((p) => spec === p || spec.startsWith(`${p}/`))) problems.push(`${rel}: imports ${spec}`)
      if ((spec === VALIDATOR || spec.startsWith(`${VALIDATOR}/`)) && !(pkg.name === '@lastword/core' && VALIDATOR_SEAM.test(relative(pkgDir, file)))) {
        problems.push(`${rel}: imports the validator ${spec} (use core's WireSchema; only core's wire.ts, wire-parts.ts and wire-schema.ts import it)`)
      }
      if (spec.startsWith('@lastword/')) {
        const { name, subpath } = splitSpecifier(spec)
        const target = workspace.get(name)
        // Unknown to the workspace (a fixture, a typo): only the root entry point is safe to assume.
        const exported = target === undefined ? subpath === '.' : isExported(target.exports, subpath)
        if (!exported) problems.push(`${rel}: deep import ${spec} (use the public entry point, or a subpath ${name} exports)`)
      }
      if (rule.pure && !isTest && (spec.startsWith('node:') || builtins.has(spec))) problems.push(`${rel}: core imports Node module ${spec}`)
    }
    if (rule.pure && !isTest) {
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/(['"`])(?:\\.|(?!\1).)*\1/g, '""')
      for (const global of ['window', 'document', 'navigator', 'indexedDB', 'process', 'Buffer', 'globalThis', 'localStorage', 'setTimeout', 'setInterval', 'crypto']) {
        if (new RegExp(`\\b${global}\\b`).test(code)) problems.push(`${rel}: core uses the global ${global}`)
      }
      if (/\bDate\.now\s*\(/.test(code) || /\bnew Date\(\s*\)/.test(code)) problems.push(`${rel}: core reads the wall clock`)
      if (/\bMath\.random\s*\(/.test(code)) problems.push(`${rel}: core uses randomness`)
    }
  }

  if (rule.allowedDeps) {
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!rule.allowedDeps.includes(dep)) problems.push(`${pkg.name}: runtime dependency ${dep} is not allowed`)
    }
  }
  return { name: pkg.name, problems }
}

let failed = false
for (const dir of dirs) {
  const { name, problems } = checkPackage(dir)
  if (problems.length > 0) {
    failed = true
    console.error(`Layering violations in ${name}:\n  ${problems.join('\n  ')}`)
  } else {
    console.log(`${name}: layering ok`)
  }
}
process.exit(failed ? 1 : 0)
