#!/usr/bin/env node
// What an app pays to ship lastword's client: a tiny app that imports `createSyncClient` from
// `@lastword/client`, bundled by esbuild for the browser (minified, ES module, from the packages' source
// through the `@lastword/source` condition, as the tests and the benchmark bundle them), then gzipped.
//
// Reports:
// - total: the whole bundle, min+gzip;
// - own: the same bundle with socket.io-client (and so engine.io-client, the parsers, the emitter)
//   left external, min+gzip: lastword's own code with its validator (the client
//   speaks to IndexedDB directly), which is what this repository controls;
// - per package: the minified bytes each package contributes to the total (esbuild's metafile), before
//   gzip, to see what grew.
//
// Usage: node scripts/bundle-size.mjs [--json]
// scripts/test/bundle-size.test.ts holds the bundle to LIMITS.
import { build } from 'esbuild'
import { resolve, sep } from 'node:path'
import { gzipSync } from 'node:zlib'

/**
 * The most an app may pay, min+gzip, in bytes (scripts/test/bundle-size.test.ts enforces them). The
 * aim is 40 KB in all and 25 KB of lastword's own with its validator; these are a little above what the
 * code reaches today (41.6 KB and 28.8 KB): lastword's own client and core code alone is about 25 KB,
 * the validator (valibot) 2 KB (README.md, "Bundle size").
 */
// Raised with the client's status, edit outcomes (`edit`, `rejected()`/`retry`/`discard`), logger and
// storage guard (persistence, the replica marker), about 2.2 KB min+gzip together, and `inspect()`
// (about 1.1 KB), schema versions (about 1.2 KB), field-level merge (about 1.8 KB), foreign keys and the
// parent-deleted rule (about 1.2 KB: PD3/PD4 in local writes, P9), table keys under the app's name and uuid
// values (about 0.4 KB), transactions and pushes by unit across tables (`lw:push`, about 2.6 KB); the
// IndexedDB wrapper (idb, about 1.2 KB) left meanwhile. Lowered when the client's protocol-6 way of
// pushing by scope (`pushBy: 'scope'`, the write routing and the debounce) was removed (about 1.9 KB).
export const LIMITS = { total: 52.2 * 1024, own: 39.2 * 1024 }

/** The transport's packages: counted in the total, not in lastword's own share. */
export const TRANSPORT_PACKAGES = ['socket.io-client']

const root = resolve(import.meta.dirname, '..')
const APP = "import { createSyncClient } from '@lastword/client'\nexport const client = createSyncClient({ name: 'app', url: '/' })\n"

/** Bundles the tiny app; `external` packages are left as imports. */
async function bundle(external) {
  const result = await build({
    // Resolved from the client's own folder: `@lastword/client` by the package's self-reference.
    stdin: { contents: APP, resolveDir: resolve(root, 'packages/client'), sourcefile: 'app.js', loader: 'js' },
    // Input paths in the metafile are relative to this: the repository root, whatever the caller's cwd.
    absWorkingDir: root,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@lastword/source'],
    external,
    metafile: true,
    write: false,
    logLevel: 'silent',
  })
  const [file] = result.outputFiles
  const [output] = Object.values(result.metafile.outputs)
  return { bytes: file.contents.length, gzip: gzipSync(file.contents, { level: 9 }).length, inputs: output.inputs }
}

/** The package an input file belongs to: a workspace package by its folder, or the node_modules name. */
function packageOf(path) {
  const parts = path.split(/[\\/]/)
  const nm = parts.lastIndexOf('node_modules')
  if (nm >= 0) {
    const first = parts[nm + 1] ?? '?'
    return first.startsWith('@') ? `${first}/${parts[nm + 2]}` : first
  }
  const pk = parts.indexOf('packages')
  if (pk >= 0) return `@lastword/${parts[pk + 1]}`
  return path
}

/** Measures the bundle: `{ total, own, limits, packages: { name: minified bytes }, files: [input paths] }`. */
export async function measureBundle() {
  const total = await bundle([])
  const own = await bundle(TRANSPORT_PACKAGES)
  const packages = {}
  for (const [path, { bytesInOutput }] of Object.entries(total.inputs)) {
    const name = packageOf(path)
    packages[name] = (packages[name] ?? 0) + bytesInOutput
  }
  const files = Object.keys(total.inputs).map((p) => p.split(sep).join('/'))
  return {
    total: { minified: total.bytes, gzip: total.gzip },
    own: { minified: own.bytes, gzip: own.gzip },
    limits: LIMITS,
    packages: Object.fromEntries(Object.entries(packages).sort((a, b) => b[1] - a[1])),
    files,
  }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = await measureBundle()
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(m, null, 2))
  } else {
    console.log(`total: ${kb(m.total.gzip)} min+gzip (${kb(m.total.minified)} minified), limit ${kb(LIMITS.total)}`)
    console.log(`own (without ${TRANSPORT_PACKAGES.join(', ')}): ${kb(m.own.gzip)} min+gzip (${kb(m.own.minified)} minified), limit ${kb(LIMITS.own)}`)
    console.log('minified bytes by package:')
    for (const [name, bytes] of Object.entries(m.packages)) if (bytes > 0) console.log(`  ${name.padEnd(32)} ${kb(bytes)}`)
  }
}
