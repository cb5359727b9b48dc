#!/usr/bin/env node
// The packages as an app gets them (part of `npm test`): builds every non-private package under
// packages/, packs each with pnpm, checks its manifest and what the tarball holds (dist/, README.md,
// LICENSE: no source, no tests), runs publint and @arethetypeswrong/cli on it, then makes a fresh app
// outside the repository (in the OS temp folder), installs the tarballs and their required peers with
// npm (no optional peer: no `pg`), and runs README.md's Usage program there exactly as written (the code
// blocks after `<!-- pack-check: FILE -->` markers): the server, then the client against it.
//
//   node scripts/pack-check.mjs [--keep]   # --keep: leave the temporary app for a look
//
// Needs the npm registry for the app's install. Unreachable: under CI=true the check fails; elsewhere it
// is skipped with the reason printed. npm's cache lives in <tmp>/lastword-pack-check/npm-cache, kept
// between runs; the required peers are installed once into a template there (`peersTemplate`: better-
// sqlite3 compiles from source where no prebuilt binary can be downloaded) that each fresh app copies.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { extractPrograms, manifestProblems, packedManifestProblems, publicPackages, tarballProblems } from './pack-check-lib.mjs'

const root = resolve(import.meta.dirname, '..')
const bin = (name) => join(root, 'node_modules/.bin', name)
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'
const keep = process.argv.includes('--keep')
const started = Date.now()
const timings = []
// turbo finds pnpm on PATH (as under `npm test`, which puts node_modules/.bin first).
process.env.PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}`

/** Runs a step, printing and keeping how long it took. */
async function step(label, fn) {
  const at = Date.now()
  console.log(`pack-check: ${label}…`)
  const result = await fn()
  const seconds = (Date.now() - at) / 1000
  timings.push([label, seconds])
  console.log(`pack-check: ${label}: ${seconds.toFixed(1)} s`)
  return result
}

/** Runs a command to its end; throws with its output when it fails. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options })
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim()
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})\n${output}`)
  }
  return result.stdout ?? ''
}

const problems = []
const fail = (message) => problems.push(message)

const packages = publicPackages(root)
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8')
const packDir = mkdtempSync(join(tmpdir(), 'lastword-packs-'))

await step(`build ${packages.map((p) => p.name).join(', ')}`, () => {
  // From clean dist/ folders: a file left by an older build (a module since removed) must not be packed.
  for (const pkg of packages) rmSync(join(pkg.dir, 'dist'), { recursive: true, force: true })
  run(bin('turbo'), ['run', 'build', '--output-logs=errors-only', ...packages.map((p) => `--filter=${p.name}`)], { cwd: root, stdio: 'inherit' })
})

const tarballs = await step('pack, publint, attw', () => {
  const out = []
  for (const pkg of packages) {
    for (const p of manifestProblems(pkg.manifest)) fail(`${pkg.folder}: ${p}`)
    const license = join(pkg.dir, 'LICENSE')
    if (!existsSync(license)) fail(`${pkg.folder}: no LICENSE (copy the repository's LICENSE into it)`)
    else if (readFileSync(license, 'utf8') !== rootLicense) fail(`${pkg.folder}: LICENSE differs from the repository's`)
    run(bin('pnpm'), ['pack', '--pack-destination', packDir], { cwd: pkg.dir })
    const tarball = join(packDir, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.manifest.version}.tgz`)
    if (!existsSync(tarball)) throw new Error(`${pkg.folder}: pnpm pack made no ${tarball}`)
    const entries = run('tar', ['tzf', tarball]).split('\n').filter(Boolean)
    for (const p of tarballProblems(entries)) fail(`${pkg.name} tarball: ${p}`)
    const packed = JSON.parse(run('tar', ['xzf', tarball, '-O', 'package/package.json']))
    for (const p of packedManifestProblems(packed)) fail(`${pkg.name} tarball: ${p}`)
    for (const [tool, args] of [
      ['publint', ['run', tarball, '--strict']],
      ['attw', [tarball, '--profile', 'esm-only', '--format', 'ascii']],
    ]) {
      try {
        run(bin(tool), args, { cwd: packDir })
      } catch (error) {
        fail(`${pkg.name}: ${tool}: ${error.message}`)
      }
    }
    console.log(`pack-check:   ${pkg.name}: ${entries.length} entries, ${(readFileSync(tarball).length / 1024).toFixed(1)} KB`)
    out.push({ pkg, tarball, packed })
  }
  return out
})

if (problems.length > 0) finish()

// The app's dependencies: the tarballs, every required (non-optional) peer of the packages, and what the
// README's program imports besides them (better-sqlite3, fake-indexeddb), at the versions the repo tests.
const ours = new Set(packages.map((p) => p.name))
const devVersion = (pkgName, dep) => packages.find((p) => p.name === pkgName)?.manifest.devDependencies?.[dep]
const programDeps = { 'better-sqlite3': devVersion('@lastword/server', 'better-sqlite3'), 'fake-indexeddb': devVersion('@lastword/client', 'fake-indexeddb') }
const peers = new Map()
const optionalPeers = new Set()
for (const { packed } of tarballs) {
  for (const [name, range] of Object.entries(packed.peerDependencies ?? {})) {
    if (ours.has(name)) continue
    if (packed.peerDependenciesMeta?.[name]?.optional === true) optionalPeers.add(name)
    else peers.set(name, range)
  }
}
for (const [name, version] of Object.entries(programDeps)) {
  if (version === undefined) fail(`no devDependency version for ${name} in the repository`)
  else peers.set(name, version)
}
const notInstalled = [...optionalPeers].filter((name) => !peers.has(name))

const npmCache = join(tmpdir(), 'lastword-pack-check', 'npm-cache')
mkdirSync(npmCache, { recursive: true })
const npmArgs = ['--cache', npmCache, '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline']

const npmEnv = { ...process.env, JOBS: String(Math.min(2, availableParallelism())) }

/**
 * The required peers installed by npm once (better-sqlite3 compiles for a minute or two where no
 * prebuilt binary can be downloaded) into <tmp>/lastword-pack-check/peers-<hash of the specs, Node and
 * platform>, whose package.json, lock and node_modules each fresh app starts from. Made in a folder of
 * its own and renamed into place, so a run that dies halfway leaves no half template.
 */
function peersTemplate(specs) {
  const key = createHash('sha256').update(JSON.stringify([specs, process.version, process.platform, process.arch])).digest('hex').slice(0, 16)
  const dir = join(tmpdir(), 'lastword-pack-check', `peers-${key}`)
  if (existsSync(join(dir, 'package-lock.json'))) return dir
  const building = mkdtempSync(join(tmpdir(), 'lastword-pack-check', 'peers-building-'))
  writeFileSync(join(building, 'package.json'), `${JSON.stringify({ name: 'lastword-pack-app', private: true, type: 'module' }, null, 2)}\n`)
  run('npm', ['install', ...npmArgs, ...specs], { cwd: building, env: npmEnv })
  try {
    renameSync(building, dir)
  } catch {
    rmSync(building, { recursive: true, force: true }) // another run made it first
  }
  return dir
}

const reachable = await step('npm registry', () => {
  const ping = spawnSync('npm', ['ping', ...npmArgs], { encoding: 'utf8', timeout: 30_000 })
  return ping.status === 0 ? null : `${ping.error?.message ?? `npm ping exited ${ping.status}`} ${(ping.stderr ?? '').trim().split('\n').at(-1) ?? ''}`
})
if (reachable !== null) {
  if (ci) fail(`the npm registry is unreachable under CI=true: ${reachable}`)
  else console.log(`pack-check: SKIPPED the fresh-app install and the README program: the npm registry is unreachable (${reachable})`)
  finish()
}

const app = mkdtempSync(join(tmpdir(), 'lastword-pack-app-'))
try {
  const peerSpecs = [...peers].map(([name, range]) => `${name}@${range}`).sort()
  await step('peers template, copied into the app', () => {
    cpSync(peersTemplate(peerSpecs), app, { recursive: true, verbatimSymlinks: true })
  })
  const specs = [...tarballs.map((t) => t.tarball), ...peerSpecs]
  await step(`npm install in ${app} (${specs.length} packages, cache ${npmCache})`, () => {
    run('npm', ['install', ...npmArgs, ...specs], { cwd: app, env: npmEnv })
  })
  for (const name of notInstalled) {
    if (existsSync(join(app, 'node_modules', name))) fail(`optional peer ${name} was installed: the check would not show the app works without it`)
  }

  const programs = extractPrograms(readFileSync(join(root, 'README.md'), 'utf8'))
  for (const file of ['server.mjs', 'client.mjs']) if (!programs.has(file)) fail(`README.md has no <!-- pack-check: ${file} --> block`)
  if (problems.length > 0) finish()
  for (const [file, text] of programs) writeFileSync(join(app, file), text)

  await step(`README program (without ${notInstalled.join(', ') || 'any optional peer'})`, () =>
    runProgram(app).catch((error) => fail(`the README program: ${error instanceof Error ? error.message : String(error)}`)),
  )
} finally {
  if (keep) console.log(`pack-check: kept the app at ${app}`)
  else rmSync(app, { recursive: true, force: true })
}
finish()

/** Starts `node server.mjs` on a free port, runs `node client.mjs` against it, checks what it printed. */
async function runProgram(dir) {
  const server = spawn(process.execPath, ['server.mjs'], { cwd: dir, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let serverOutput = ''
  server.stdout.on('data', (d) => (serverOutput += d))
  server.stderr.on('data', (d) => (serverOutput += d))
  try {
    const url = await new Promise((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`server.mjs printed no "listening on" within 30 s:\n${serverOutput}`)), 30_000)
      const check = () => {
        const match = /listening on (\S+)/.exec(serverOutput)
        if (match !== null) {
          clearTimeout(timer)
          resolveUrl(match[1])
        }
      }
      server.stdout.on('data', check)
      server.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`server.mjs exited (${code}):\n${serverOutput}`))
      })
    })
    const client = spawnSync(process.execPath, ['client.mjs'], { cwd: dir, env: { ...process.env, SERVER_URL: url }, encoding: 'utf8', timeout: 60_000 })
    const output = `${client.stdout ?? ''}${client.stderr ?? ''}`
    console.log(output.replace(/^/gm, 'pack-check:   client.mjs | ').trimEnd())
    if (client.status !== 0) fail(`client.mjs did not exit cleanly (${client.error?.message ?? `exit ${client.status}`}); server said:\n${serverOutput}`)
    if (!output.includes('laptop pending after sync: 0')) fail('client.mjs: the laptop did not push its write')
    if (!output.includes("phone got [ \"milk (the laptop's record)\" ]")) fail("client.mjs: the phone did not get the laptop's record")
  } finally {
    server.kill('SIGTERM')
  }
}

function finish() {
  rmSync(packDir, { recursive: true, force: true })
  console.log(`pack-check: timings: ${timings.map(([label, s]) => `${label.split(' (')[0]} ${s.toFixed(1)} s`).join('; ')}`)
  console.log(`pack-check: total ${((Date.now() - started) / 1000).toFixed(1)} s`)
  if (problems.length > 0) {
    console.error(`pack-check: FAILED\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    process.exit(1)
  }
  console.log(`pack-check: ok (${packages.map((p) => p.name).join(', ')})`)
  process.exit(0)
}
