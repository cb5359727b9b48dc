#!/usr/bin/env node
// Starts N lastword server nodes (the demo server, apps/demo) on one PostgreSQL, on loopback ports,
// linked by a socket.io adapter so that realtime crosses nodes:
//
//   node scripts/start-nodes.mjs 3                      # ports 3001–3003, PostgreSQL LISTEN/NOTIFY
//   node scripts/start-nodes.mjs 2 --adapter redis      # Redis at REDIS_URL (default redis://127.0.0.1:6379)
//   node scripts/start-nodes.mjs 3 --port 4000          # ports 4000–4002
//
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) is the database every node shares. The
// first node builds the web app and seeds the table; the others start once it is up. It prints each
// node's URL and a demo link whose two devices talk to different nodes. Kill a node (its pid is printed)
// to see its device move to the next URL; Ctrl-C stops them all. Run `npx -y pnpm@12.4.2 install` first.
import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const demoDir = join(root, 'apps', 'demo')

const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  if (i < 0) return fallback
  const value = args[i + 1]
  args.splice(i, 2)
  return value
}
const adapter = flag('adapter', 'postgres')
const basePort = Number(flag('port', '3001'))
const host = flag('host', '127.0.0.1')
const count = Number(args[0] ?? 3)
if (!Number.isInteger(count) || count < 1 || count > 32) {
  console.error('usage: node scripts/start-nodes.mjs [N=3] [--adapter postgres|redis] [--port 3001] [--host 127.0.0.1]')
  process.exit(2)
}
if (adapter !== 'postgres' && adapter !== 'redis') {
  console.error(`start-nodes: --adapter must be postgres or redis (got ${adapter})`)
  process.exit(2)
}
const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
  console.error('start-nodes: several nodes share one PostgreSQL; DATABASE_URL must be postgres://…')
  process.exit(2)
}

const children = new Map()
let stopping = false

function startNode(index) {
  const port = basePort + index
  return new Promise((resolveStart, rejectStart) => {
    const child = spawn(process.execPath, ['--conditions=@lastword/source', '--import', 'tsx', 'server/main.ts'], {
      cwd: demoDir,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: host,
        DATABASE_URL: databaseUrl,
        CLUSTER_ADAPTER: adapter,
        CLUSTER_CHANNEL: process.env.CLUSTER_CHANNEL || 'lastword-demo',
        // One build and one seed, by the first node.
        ...(index === 0 ? {} : { DEMO_BUILD: '0', DEMO_SEED: '0' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const name = `node ${index + 1}`
    children.set(name, child)
    let ready = false
    const prefix = (chunk) =>
      chunk
        .toString()
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => `[${name}] ${line}`)
        .join('\n')
    child.stdout.on('data', (chunk) => {
      const text = chunk.toString()
      console.log(prefix(chunk))
      if (!ready && text.includes('lastword demo: http')) {
        ready = true
        resolveStart({ name, port, pid: child.pid, url: `http://localhost:${port}` })
      }
    })
    child.stderr.on('data', (chunk) => console.error(prefix(chunk)))
    child.on('exit', (code, signal) => {
      children.delete(name)
      if (!ready) rejectStart(new Error(`${name} exited before it was ready (${signal ?? code})`))
      else if (!stopping) console.log(`[start-nodes] ${name} (port ${port}) exited (${signal ?? code}); the others keep serving`)
      if (stopping && children.size === 0) process.exit(0)
    })
  })
}

function stop(signal) {
  if (stopping) return
  stopping = true
  console.log(`[start-nodes] ${signal}: stopping ${children.size} node(s)`)
  if (children.size === 0) process.exit(0)
  for (const child of children.values()) child.kill('SIGTERM')
  setTimeout(() => process.exit(1), 6_000).unref()
}
process.once('SIGINT', () => stop('SIGINT'))
process.once('SIGTERM', () => stop('SIGTERM'))

try {
  const first = await startNode(0)
  const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => startNode(i + 1)))
  const nodes = [first, ...rest]
  const list = (start) => nodes.map((_, i) => nodes[(start + i) % nodes.length].url).join(',')
  console.log('')
  console.log(`[start-nodes] ${nodes.length} node(s) on ${databaseUrl.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@')}, linked by ${adapter}:`)
  for (const n of nodes) console.log(`  ${n.name}  ${n.url}  pid ${n.pid}`)
  console.log('')
  console.log('  The demo with its devices on different nodes (each falls back to the next on failure):')
  console.log(`  ${first.url}/?laptop=${list(0)}&phone=${list(Math.min(1, nodes.length - 1))}`)
  console.log('')
} catch (error) {
  console.error(`[start-nodes] ${error instanceof Error ? error.message : String(error)}`)
  stop('error')
}
