/**
 * T06 and D06: the server as a child process, SIGKILLed — at injected points (T06) or from outside at
 * random moments (D06) — and restarted on the same database while real clients keep writing.
 *
 * After each crash, before the restart (the database is at rest):
 * - I10: a push killed inside its transaction left none of its records; a push killed after commit
 *   (before its acknowledgement) left all of them;
 * - SQLite: `PRAGMA integrity_check` is `ok`.
 * After the last restart the writers stop and every queue must drain (I9); then I1, I2 (acknowledged
 * and local writes), I3.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import type { WireRecord } from '@lastword/core'
import { readServerState, versionOfMeta, type Violation } from './checkers.js'
import { startChild, type ChildServer } from './child.js'
import { PG_URL } from './databases.js'
import { createRng } from './random.js'
import { RealCluster, eventually } from './real-cluster.js'

export type CrashPoint = 'in-push' | 'after-commit' | 'between-pages'

export interface CrashCampaignOptions {
  dialect: 'sqlite' | 'postgres'
  seed: number
  /** Working directory (SQLite file, crash reports). */
  dir: string
  /** PostgreSQL: the schema (created empty by the caller). */
  pgSchema?: string
  /** T06: the points to crash at, in order (one cycle each). D06: omit, and set `killEveryMs`. */
  points?: readonly CrashPoint[]
  /** D06: SIGKILL from outside after a random delay in this range, `cycles` times. */
  killEveryMs?: readonly [number, number]
  cycles?: number
  clients: number
  /** Mean time between two writes of one client (ms). */
  writeEveryMs: number
  log?: (line: string) => void
}

export interface CrashCampaignResult {
  cycles: number
  violations: Violation[]
  summary: string
}

export async function runCrashCampaign(options: CrashCampaignOptions): Promise<CrashCampaignResult> {
  const rng = createRng(options.seed)
  const log = options.log ?? (() => undefined)
  const dbFile = join(options.dir, 'app.db')
  const report = join(options.dir, 'crash.json')
  const violations: Violation[] = []
  const pool = options.dialect === 'postgres' ? new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${options.pgSchema}`, max: 2 }) : null
  const raw = async (text: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> => {
    if (pool !== null) return (await pool.query(text, params)).rows as Array<Record<string, unknown>>
    const db = new Database(dbFile, { readonly: true, fileMustExist: true })
    try {
      return db.prepare(text).all(...params) as Array<Record<string, unknown>>
    } finally {
      db.close()
    }
  }
  const plan: Array<CrashPoint | 'external'> = options.points !== undefined ? [...options.points] : Array.from({ length: options.cycles ?? 1 }, () => 'external' as const)
  const start = (index: number, port: number): Promise<ChildServer> => {
    const step = plan[index]
    rmSync(report, { force: true })
    return startChild({
      dialect: options.dialect,
      port,
      ...(options.dialect === 'sqlite' ? { dbFile } : { pgSchema: options.pgSchema as string }),
      ...(step === undefined || step === 'external' ? {} : { crash: { point: step, at: rng.between(1, step === 'between-pages' ? 1 : 3), report } }),
    })
  }

  let child = await start(0, 0)
  const port = child.port
  const cluster = new RealCluster(`http://127.0.0.1:${port}`, rng)
  let cycles = 0
  try {
    // Small pages: full reconciliations and incremental pulls both cross page boundaries.
    for (let i = 0; i < options.clients; i++) cluster.addClient({ pageSize: 5 })
    await eventually(() => {
      for (const c of cluster.clients) if (c.client.status !== 'online' && c.client.status !== 'syncing') throw new Error(`${c.name} is ${c.client.status}`)
    }, 30_000)
    cluster.startWriting(options.writeEveryMs)
    for (const [index, step] of plan.entries()) {
      if (step === 'between-pages') {
        // A newcomer reconciles the whole table in pages of 5: the crash comes when it asks for the second.
        cluster.addClient({ pageSize: 5 })
      }
      let killedByUs = false
      if (step === 'external') {
        const [min, max] = options.killEveryMs ?? [2_000, 10_000]
        await new Promise((resolve) => setTimeout(resolve, rng.between(min, max)))
        killedByUs = true
        await child.kill()
      }
      const exit = await Promise.race([child.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000))])
      if (exit === null) {
        violations.push({ invariant: 'I10', message: `cycle ${index}: the crash point ${step} was never reached within 60 s` })
        await child.kill()
        break
      }
      if (exit.signal !== 'SIGKILL') violations.push({ invariant: 'I10', message: `cycle ${index}: the child ended with ${JSON.stringify(exit)}, not SIGKILL: ${child.stderr().slice(-2_000)}` })
      if (/\[child error\]/.test(child.stderr())) violations.push({ invariant: 'I10', message: `cycle ${index}: the server logged an error: ${child.stderr().slice(-2_000)}` })
      cycles++
      // The database at rest, between the crash and the restart.
      if (options.dialect === 'sqlite') {
        const check = await raw('PRAGMA integrity_check')
        if (check[0]?.['integrity_check'] !== 'ok') violations.push({ invariant: 'I10', message: `cycle ${index}: integrity_check ${JSON.stringify(check)}` })
      }
      if (!killedByUs && existsSync(report)) {
        const crashed = JSON.parse(readFileSync(report, 'utf8')) as { point: string; uids: string[]; push?: WireRecord[] }
        const state = await readServerState(raw, 'items')
        const records = (crashed.push ?? []).filter((r) => crashed.uids.includes(r.uid))
        for (const r of records) {
          const version = versionOfMeta(r)
          const stored = state.meta.get(r.uid)
          if (crashed.point === 'in-push' && stored !== undefined && stored.version >= version) {
            violations.push({ invariant: 'I10', message: `cycle ${index}: ${r.uid}@${version} of a push killed before COMMIT is stored (${stored.version})` })
          }
          if (crashed.point === 'after-commit' && (stored === undefined || stored.version < version)) {
            violations.push({ invariant: 'I10', message: `cycle ${index}: ${r.uid}@${version} of a committed push is missing (${stored?.version ?? 'none'})` })
          }
        }
        log(`cycle ${index}: ${crashed.point} with ${records.length} record(s) in flight`)
      } else if (!killedByUs) {
        violations.push({ invariant: 'I10', message: `cycle ${index}: the child died without its crash report (${step})` })
      } else log(`cycle ${index}: killed from outside`)
      child = await start(index + 1, port)
    }
    await cluster.stopWriting()
    violations.push(...(await cluster.drain(60_000)))
    if (violations.every((v) => v.invariant !== 'I9')) violations.push(...(await cluster.check(raw)))
    if (options.dialect === 'sqlite') {
      await child.stop()
      const check = await raw('PRAGMA integrity_check')
      if (check[0]?.['integrity_check'] !== 'ok') violations.push({ invariant: 'I10', message: `after the run: integrity_check ${JSON.stringify(check)}` })
    }
    const acked = cluster.events.filter((e) => e.type === 'acked').length
    return { cycles, violations, summary: `${cycles} crashes, ${cluster.clients.length} clients, ${cluster.history.summary()}, ${acked} acknowledged records` }
  } finally {
    await cluster.close()
    await child.kill()
    await pool?.end()
  }
}
