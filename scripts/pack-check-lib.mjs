// The pure parts of scripts/pack-check.mjs, tested by scripts/test/pack-check.test.ts: which packages
// are published, what their tarballs may hold, and the README programs to run.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Every non-private package under packages/: `{ dir, name, manifest }`, sorted by folder. */
export function publicPackages(root) {
  const base = join(root, 'packages')
  const out = []
  for (const entry of readdirSync(base, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue
    const file = join(base, entry.name, 'package.json')
    if (!existsSync(file)) continue
    const manifest = JSON.parse(readFileSync(file, 'utf8'))
    if (manifest.private === true) continue
    out.push({ dir: join(base, entry.name), folder: `packages/${entry.name}`, name: manifest.name, manifest })
  }
  return out
}

/** What a manifest must say before it is packed; returns the problems (empty: fine). */
export function manifestProblems(manifest) {
  const problems = []
  for (const field of ['description', 'repository', 'keywords', 'engines', 'license']) {
    if (manifest[field] === undefined) problems.push(`no "${field}" field`)
  }
  if (manifest.license !== undefined && manifest.license !== 'MIT') problems.push(`license is ${manifest.license}, not MIT`)
  if (!Array.isArray(manifest.files)) problems.push('no "files" list (the tarball would hold everything)')
  return problems
}

/** Files a tarball may hold: its manifest, README, LICENSE and built files under dist/, never a test. */
export function tarballProblems(entries) {
  const problems = []
  const files = entries.filter((e) => !e.endsWith('/')).map((e) => e.replace(/^package\//, ''))
  for (const required of ['package.json', 'LICENSE', 'README.md']) {
    if (!files.includes(required)) problems.push(`no ${required}`)
  }
  if (!files.some((f) => f.startsWith('dist/') && f.endsWith('.js'))) problems.push('no built file under dist/')
  for (const file of files) {
    if (file === 'package.json' || file === 'LICENSE' || file === 'README.md') continue
    if (!file.startsWith('dist/')) problems.push(`ships ${file} (only dist/, README.md and LICENSE belong in it)`)
    else if (/(^|\/)(test|tests|__tests__)\//.test(file) || /\.(test|spec|test-util)\.[cm]?[jt]sx?(\.map)?$/.test(file) || /\.test\.d\.ts$/.test(file)) {
      problems.push(`ships a test file: ${file}`)
    }
  }
  return problems
}

/** What the packed manifest must not carry over from the workspace. */
export function packedManifestProblems(manifest) {
  const problems = []
  const text = JSON.stringify({ exports: manifest.exports, dependencies: manifest.dependencies, peerDependencies: manifest.peerDependencies })
  if (text.includes('@lastword/source')) problems.push('its exports keep the @lastword/source condition (the tarball has no src/)')
  if (text.includes('workspace:')) problems.push('a dependency still says workspace:')
  return problems
}

/**
 * The programs of a markdown text: each `<!-- pack-check: FILE -->` marker followed (blank lines
 * allowed) by one fenced code block gives FILE that block's text. A marker without a block, or a
 * file named twice, throws.
 */
export function extractPrograms(markdown) {
  const programs = new Map()
  const marker = /<!--\s*pack-check:\s*([\w.-]+)\s*-->/g
  for (const match of markdown.matchAll(marker)) {
    const file = match[1]
    const rest = markdown.slice(match.index + match[0].length)
    const block = /^\s*\n(`{3,}|~{3,})[^\n]*\n([\s\S]*?)\n\1[ \t]*(?:\n|$)/.exec(rest)
    if (block === null) throw new Error(`README marker for ${file} is not followed by a fenced code block`)
    if (programs.has(file)) throw new Error(`README names ${file} twice`)
    programs.set(file, `${block[2]}\n`)
  }
  return programs
}
