/** Short texts of the devtools panel. */
import type { PendingState, Where } from '@lastword/client'

/** "now", "12 s ago", "3 min ago", "2 h ago", or "never". */
export function ago(at: number | null, now: number): string {
  if (at === null) return 'never'
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 2) return 'now'
  if (s < 90) return `${s} s ago`
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`
  return `${Math.round(s / 3600)} h ago`
}

/** "in 4 s" for a time ahead. */
export function inTime(at: number, now: number): string {
  const s = Math.max(0, Math.round((at - now) / 1000))
  return s < 1 ? 'now' : s < 90 ? `in ${s} s` : `in ${Math.round(s / 60)} min`
}

/** A duration in ms, signed: "+0 ms", "−1.2 s", "+3 min". */
export function signedMs(ms: number): string {
  const sign = ms < 0 ? '−' : '+'
  const abs = Math.abs(ms)
  const text = abs < 1000 ? `${Math.round(abs)} ms` : abs < 120_000 ? `${(abs / 1000).toFixed(1)} s` : `${Math.round(abs / 60_000)} min`
  return `${sign}${text}`
}

/** A filter as one short line: `{}` reads "all rows". */
export function whereText(where: Where): string {
  const text = JSON.stringify(where)
  if (text === '{}') return 'all rows'
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}

/** The last 8 characters of a uid (UUIDv7s differ at the end). */
export function shortUid(uid: string): string {
  return uid.length > 10 ? `…${uid.slice(-8)}` : uid
}

/** What each pending state means, for the badge and its tooltip. */
export const PENDING_STATES: Record<PendingState, { label: string; tone: string; help: string }> = {
  'in-flight': { label: 'in flight', tone: 'busy', help: 'Sent; the server has not answered yet' },
  'waiting-for-retry': { label: 'retrying', tone: 'warn', help: 'A sync of its table failed transiently and waits out its backoff' },
  'waiting-for-connection': { label: 'no connection', tone: 'off', help: 'Kept locally until the client reconnects' },
  queued: { label: 'queued', tone: 'ok', help: 'Goes with the next push of its table' },
  'owner-tab': { label: 'owner tab', tone: 'off', help: 'Another tab owns the sync and pushes it' },
}
