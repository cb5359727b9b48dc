import { stampToDate, type Stamp } from '@lastword/core'

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** 14:03:07.120 — milliseconds matter when two edits are a second apart. */
export function clockTime(date: Date | number): string {
  const d = typeof date === 'number' ? new Date(date) : date
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** A stamp as the wall-clock time it carries (its node and counter only break ties). */
export function stampTime(stamp: string): string {
  try {
    return clockTime(stampToDate(stamp as Stamp))
  } catch {
    return stamp
  }
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** "R7 older write superseded" → "older write superseded (R7)" */
export function ruleText(rule: string): string {
  const m = /^(R\d+)\s+(.*)$/.exec(rule)
  return m ? `${m[2]} (${m[1]})` : rule
}

export function errorText(error: unknown): string {
  if (typeof error === 'string') return error
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown }
    if (e.code === 'PARENT_DELETED') return 'Its list was deleted: a todo cannot be added to or kept in a deleted list (PARENT_DELETED)'
    if (e.code && e.message) return `${String(e.code)}: ${String(e.message)}`
    if (e.message) return String(e.message)
  }
  return String(error)
}
