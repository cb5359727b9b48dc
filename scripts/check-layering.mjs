#!/usr/bin/env node
// Keeps the layers of ARCHITECTURE.md: core imports no workspace package, no Node module and uses no
// Node or DOM global (nor the wall clock or randomness); server and client import core, never each
// other; apps and bench use only public entry points. Usage: node scripts/check-layering.mjs <dir>
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const dir = process.argv[2]
if (!dir) {
  console.error('usage: check-layering.mjs <package dir>')
  process.exit(2)
}
const pkgDir = resolve(root, dir)
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))

const rules = {
  '@lastword/core': { forbidWorkspace: ['@lastword/server', '@lastword/client'], pure: true, allowedDeps: ['zod'] },
  '@lastword/server': { forbidWorkspace: ['@lastword/client'] },
  '@lastword/client': { forbidWorkspace: ['@lastword/server'] },
}
const rule = rules[pkg.name] ?? { forbidWorkspace: [] }

function* files(path) {
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue
    const full = join(path, name)
    if (statSync(full).isDirectory()) yield* files(full)
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) yield full
  }
}

const builtins = new Set(builtinModules)
const importPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm
const problems = []

// Entry points a package declares in its `exports` besides its main one.
const PUBLIC_SUBPATHS = new Set(['@lastword/client/testing'])

for (const sub of ['src', 'test']) {
  let base
  try {
    base = join(pkgDir, sub)
    statSync(base)
  } catch {
    continue
  }
  for (const file of files(base)) {
    const text = readFileSync(file, 'utf8')
    const rel = relative(root, file)
    const isTest = /\.(test|pg\.test|browser\.test)\.ts$/.test(file) || sub === 'test' || file.includes('test-util')
    for (const m of text.matchAll(importPattern)) {
      const spec = m[1] ?? m[2] ?? m[3]
      if (rule.forbidWorkspace.some((p) => spec === p || spec.startsWith(`${p}/`))) problems.push(`${rel}: imports ${spec}`)
      if (spec.startsWith('@lastword/') && spec.split('/').length > 2 && !PUBLIC_SUBPATHS.has(spec)) problems.push(`${rel}: deep import ${spec} (use the public entry point)`)
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
}

if (rule.allowedDeps) {
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    if (!rule.allowedDeps.includes(dep)) problems.push(`${pkg.name}: runtime dependency ${dep} is not allowed`)
  }
}

if (problems.length > 0) {
  console.error(`Layering violations in ${pkg.name}:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`${pkg.name}: layering ok`)
