/**
 * "Make a conflict": both devices go offline, both edit the same todo (the Phone a moment later), then
 * the Phone reconnects first and the Laptop last. The Laptop's edit arrives last but is older, so it is
 * superseded: last writer wins by stamp, not by arrival.
 */
import { stampToDate } from '@lastword/core'
import { devices, type Device } from './devices'
import { clockTime, ruleText, stampTime } from './format'

export interface ConflictEdit {
  device: string
  title: string
  at: number
}

export interface ConflictRun {
  phase: 'offline' | 'editing' | 'reconnecting' | 'done' | 'failed'
  uid: string | null
  original: string
  edits: ConflictEdit[]
  winner: { device: string; title: string; stamp: string | null; rule: string | null } | null
  note: string
}

let run: ConflictRun | null = null
const listeners = new Set<() => void>()

export const conflictStore = {
  subscribe(listener: () => void) {
    listeners.add(listener)
    return () => listeners.delete(listener)
  },
  get: (): ConflictRun | null => run,
  dismiss() {
    if (run && (run.phase === 'done' || run.phase === 'failed')) update(null)
  },
}

function update(next: ConflictRun | null): void {
  run = next
  for (const listener of listeners) listener()
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor<T>(check: () => T | null | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(100)
  }
}

const SUFFIX = / · (Laptop|Phone)'s version$/

export function isConflictRunning(): boolean {
  return run !== null && run.phase !== 'done' && run.phase !== 'failed'
}

export async function makeConflict(): Promise<void> {
  if (isConflictRunning()) return
  const { laptop, phone } = devices
  const first = laptop
  const second = phone
  let current: ConflictRun = { phase: 'offline', uid: null, original: '', edits: [], winner: null, note: '' }
  const set = (patch: Partial<ConflictRun>) => {
    current = { ...current, ...patch }
    update(current)
  }
  set({})
  let superseded: { stamp: string | null; rule: string | null } | null = null
  let stopListening = () => {}
  try {
    // A todo both devices hold; make one if there is none.
    let uid = sharedUid(first, second)
    if (!uid) {
      first.setOnline(true)
      second.setOnline(true)
      uid = await first.create('Plan the team offsite')
      await waitFor(() => second.rows?.some((row) => row.uid === uid), 15_000)
    }
    const original = (first.rows?.find((row) => row.uid === uid)?.title ?? '').replace(SUFFIX, '')
    set({ uid, original })

    first.setOnline(false)
    second.setOnline(false)
    await sleep(500)

    set({ phase: 'editing' })
    const firstTitle = `${original} · ${first.label}'s version`
    await first.rename(uid, firstTitle)
    set({ edits: [{ device: first.label, title: firstTitle, at: await editedAt(first, uid) }] })
    await sleep(900)
    const secondTitle = `${original} · ${second.label}'s version`
    await second.rename(uid, secondTitle)
    set({ edits: [...current.edits, { device: second.label, title: secondTitle, at: await editedAt(second, uid) }] })
    await sleep(900)

    // The later writer reconnects first; the earlier one arrives last and still loses.
    set({ phase: 'reconnecting' })
    const target = uid
    stopListening = first.onSyncReport((report) => {
      const hit = report.superseded.find((s) => s.uid === target)
      if (hit) superseded = { stamp: hit.winnerStamp ?? null, rule: hit.rule ?? null }
    })
    second.setOnline(true)
    await sleep(700)
    first.setOnline(true)

    const settled = (device: Device) => {
      return device.status === 'online' && device.pending === 0 && device.rows?.find((row) => row.uid === target)
    }
    const a = await waitFor(() => {
      const x = settled(first)
      const y = settled(second)
      return x && y && x.title === y.title ? x : null
    }, 30_000)
    await sleep(400) // let the devices' own log lines (what arrived, what was superseded) land first
    const won = current.edits.find((edit) => edit.title === a.title)
    const winnerDevice = won?.device ?? a.edited_by ?? '?'
    const info = superseded as { stamp: string | null; rule: string | null } | null
    set({
      phase: 'done',
      winner: { device: winnerDevice, title: a.title, stamp: info?.stamp ?? null, rule: info?.rule ?? null },
    })
    const loser = current.edits.find((edit) => edit.device !== winnerDevice)
    const why =
      `${winnerDevice}'s edit (${clockTime(won?.at ?? Date.now())}) is later than ${loser?.device ?? 'the other'}'s ` +
      `(${clockTime(loser?.at ?? Date.now())}): last writer wins, whatever order they reconnected in.`
    for (const device of [first, second]) {
      device.addLog({
        kind: 'conflict',
        title: `Conflict on “${original}” → ${winnerDevice} won`,
        lines: [
          { text: why, tone: device.label === winnerDevice ? 'win' : 'lose' },
          ...(info?.stamp
            ? [{ text: `Winning stamp ${stampTime(info.stamp)}${info.rule ? ` — ${ruleText(info.rule)}` : ''}`, tone: 'muted' as const }]
            : []),
        ],
      })
    }
  } catch (error) {
    set({ phase: 'failed', note: error instanceof Error ? error.message : String(error) })
  } finally {
    stopListening()
  }
}

/** When the device stamped its latest write of the record (its HLC stamp, as a time). */
async function editedAt(device: Device, uid: string): Promise<number> {
  const record = await device.todos.record(uid)
  return record ? stampToDate(record.updated_at).getTime() : Date.now()
}

function sharedUid(a: Device, b: Device): string | null {
  const theirs = new Set((b.rows ?? []).map((row) => row.uid))
  return (a.rows ?? []).find((row) => theirs.has(row.uid))?.uid ?? null
}
