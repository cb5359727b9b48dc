/** The orchestrator's side of an actor (see ../actor.ts): fork, call with a time limit, kill. */
import { fork, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { fileURLToPath } from 'node:url'

const actorPath = fileURLToPath(new URL('../actor.ts', import.meta.url))

export interface CallResult<T> {
  result: T
  /** Peak RSS of the actor process since its last resetPeak, bytes. */
  peak: number
}

export interface Actor {
  name: string
  pid: number
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>
  callPeak<T = unknown>(method: string, ...args: unknown[]): Promise<CallResult<T>>
  /** Sets the default time limit of later calls, ms. */
  timeout(ms: number): void
  stop(): Promise<void>
}

let log: WriteStream | undefined
export function setActorLog(path: string): void {
  log = createWriteStream(path, { flags: 'a' })
}

export async function spawnActor(module: string, env: Record<string, string> = {}, maxOldSpaceMb = 4096): Promise<Actor> {
  const child: ChildProcess = fork(actorPath, [module], {
    execArgv: ['--conditions=@lastword/source', '--import', 'tsx', '--expose-gc', `--max-old-space-size=${maxOldSpaceMb}`, ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
    serialization: 'advanced',
  })
  const tail: string[] = []
  const onOut = (chunk: Buffer) => {
    const s = chunk.toString()
    log?.write(`[${module} ${child.pid}] ${s}`)
    tail.push(s)
    if (tail.length > 40) tail.shift()
  }
  child.stdout?.on('data', onOut)
  child.stderr?.on('data', onOut)
  let nextId = 1
  let limit = 600_000
  const pending = new Map<number, { resolve: (v: CallResult<unknown>) => void; reject: (e: Error) => void }>()
  let exited: Error | undefined
  child.on('message', (raw) => {
    const m = raw as { id?: number; ok?: boolean; result?: unknown; peak?: number; error?: string; ready?: boolean }
    if (m.id === undefined) return
    const p = pending.get(m.id)
    if (!p) return
    pending.delete(m.id)
    if (m.ok) p.resolve({ result: m.result, peak: m.peak ?? 0 })
    else p.reject(new Error(m.error ?? 'actor error'))
  })
  child.on('exit', (code, signal) => {
    exited = new Error(`actor ${module} exited (${signal ?? code}); last output: ${tail.join('').slice(-1500)}`)
    for (const p of pending.values()) p.reject(exited)
    pending.clear()
  })
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`actor ${module} did not start in 60 s: ${tail.join('')}`)), 60_000)
    child.once('message', () => {
      clearTimeout(t)
      resolve()
    })
    child.once('exit', () => {
      clearTimeout(t)
      reject(exited ?? new Error(`actor ${module} exited before start: ${tail.join('').slice(-2000)}`))
    })
  })
  const callPeak = <T>(method: string, ...args: unknown[]): Promise<CallResult<T>> => {
    if (exited) return Promise.reject(exited)
    const id = nextId++
    return new Promise<CallResult<T>>((resolve, reject) => {
      const t = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`${module}.${method} timed out after ${limit / 1000} s`))
      }, limit)
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(t)
          resolve(v as CallResult<T>)
        },
        reject: (e) => {
          clearTimeout(t)
          reject(e)
        },
      })
      child.send({ id, method, args })
    })
  }
  return {
    name: module,
    pid: child.pid ?? 0,
    callPeak,
    call: async <T>(method: string, ...args: unknown[]) => (await callPeak<T>(method, ...args)).result,
    timeout: (ms) => {
      limit = ms
    },
    stop: async () => {
      if (exited) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      try {
        child.send({ id: 0, method: 'exit', args: [] })
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await gone
      clearTimeout(t)
    },
  }
}
