/**
 * Starts `crash-server.ts` as a child process (`node --conditions=@lastword/source --import tsx`), waits
 * for `LISTENING <port>`, and reports how it ended.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const integrationDir = join(here, '..')

export interface ChildServer {
  port: number
  pid: number
  process: ChildProcess
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** stderr so far (errors the child logged). */
  stderr(): string
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>
  /** SIGTERM (a clean shutdown), and wait for the exit. */
  stop(): Promise<void>
}

export interface ChildOptions {
  dialect: 'sqlite' | 'postgres'
  dbFile?: string
  pgSchema?: string
  port?: number
  crash?: { point: 'in-push' | 'after-commit' | 'between-pages'; at: number; report: string }
}

export async function startChild(options: ChildOptions): Promise<ChildServer> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LW_DIALECT: options.dialect,
    LW_PORT: String(options.port ?? 0),
    ...(options.dbFile === undefined ? {} : { LW_DB_FILE: options.dbFile }),
    ...(options.pgSchema === undefined ? {} : { LW_PG_SCHEMA: options.pgSchema }),
    ...(options.crash === undefined ? { LW_CRASH: '' } : { LW_CRASH: options.crash.point, LW_CRASH_AT: String(options.crash.at), LW_CRASH_REPORT: options.crash.report }),
  }
  const child = spawn(process.execPath, ['--conditions=@lastword/source', '--import', 'tsx', join(here, 'crash-server.ts')], {
    cwd: integrationDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
    if (err.length > 100_000) err = err.slice(-50_000)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`the child server did not start within 30 s: ${err}`)), 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /LISTENING (\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the child server exited before listening (code ${code}, signal ${signal}): ${err}`))
    })
  })
  return {
    port,
    pid: child.pid as number,
    process: child,
    exited,
    stderr: () => err,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
