/**
 * What a demo device keeps across reloads (its switch, its log, what it last wrote of each record) and
 * the words of its log: which field a change touched, so a merge is told apart from a loss.
 */
import type { DeviceId } from './devices'

export interface LogLine {
  text: string
  tone?: 'win' | 'lose' | 'evict' | 'error' | 'muted'
}

export interface LogEntry {
  id: number
  at: number
  kind: 'sync' | 'remote' | 'local' | 'status' | 'error' | 'conflict'
  title: string
  lines: LogLine[]
}

export const MAX_LOG = 60
let nextLogId = 1

/** A new log entry's id (ids go on from those a reload brought back). */
export function takeLogId(): number {
  return nextLogId++
}

export function onlineKey(id: DeviceId): string {
  return `lastword-demo:${id}:online`
}

// What each device last did to each record survives a reload, so the log can still explain a loss.
const MAX_WRITTEN = 200

export function loadWritten(id: DeviceId): Map<string, string> {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(`lastword-demo:${id}:written`) ?? '[]')
    if (Array.isArray(saved)) return new Map(saved.filter((e): e is [string, string] => Array.isArray(e) && e.length === 2))
  } catch {
    // unreadable: start afresh
  }
  return new Map()
}

// The log survives a reload too: the story of an offline session is the point of the demo.
export function loadLog(id: DeviceId): LogEntry[] {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(`lastword-demo:${id}:log`) ?? '[]')
    if (!Array.isArray(saved)) return []
    const log = saved.filter((e): e is LogEntry => typeof e === 'object' && e !== null && typeof e.title === 'string' && Array.isArray(e.lines))
    for (const entry of log) nextLogId = Math.max(nextLogId, entry.id + 1)
    return log.slice(0, MAX_LOG)
  } catch {
    return []
  }
}

export function saveLog(id: DeviceId, log: LogEntry[]): void {
  try {
    localStorage.setItem(`lastword-demo:${id}:log`, JSON.stringify(log))
  } catch {
    // storage full: the log lives in memory only
  }
}

export function saveWritten(id: DeviceId, written: Map<string, string>): void {
  const entries = [...written].slice(-MAX_WRITTEN)
  try {
    localStorage.setItem(`lastword-demo:${id}:written`, JSON.stringify(entries))
  } catch {
    // storage full: only the log's wording suffers
  }
}

/** What a change touched: one field of a todo, or the record itself (created, deleted). */
export type Field = 'title' | 'done' | 'record'

/** The field an edit this device remembers touched (see `remember`). */
export function fieldOf(what: string): Field {
  if (what.startsWith('edit ')) return 'title'
  if (what.startsWith('check') || what.startsWith('uncheck')) return 'done'
  return 'record'
}

/** Whether two changes meet on the same field (a whole-record change meets every field). */
export function sameField(a: Field, b: Field): boolean {
  return a === 'record' || b === 'record' || a === b
}
