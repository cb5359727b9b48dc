/**
 * "Make a conflict": both devices go offline and edit the same todo — the Laptop renames it, the Phone
 * ticks it a moment later — then the Phone reconnects first and the Laptop last. The server's todos table
 * merges column by column (`merge: 'field'`), so both edits are kept: the rename and the tick changed
 * different fields, and neither device's whole row overwrites the other's.
 */
import { stampToDate } from '@lastword/core'
import { devices, type Device } from './devices'
import { clockTime } from './format'

export interface ConflictEdit {
  device: string
  /** What the device changed, in words. */
  change: string
  at: number
}

export interface ConflictRun {
  phase: 'offline' | 'editing' | 'reconnecting' | 'done' | 'failed'
  uid: string | null
  original: string
  edits: ConflictEdit[]
  /** The todo as both devices and the server hold it once settled: both edits kept. */
  merged: { title: string; done: boolean } | null
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
  let current: ConflictRun = { phase: 'offline', uid: null, original: '', edits: [], merged: null, note: '' }
  const set = (patch: Partial<ConflictRun>) => {
    current = { ...current, ...patch }
    update(current)
  }
  set({})
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
    const firstTitle = `${original} · renamed on the ${first.label}`
    await first.rename(uid, firstTitle)
    set({ edits: [{ device: first.label, change: `renamed it “${firstTitle}”`, at: await editedAt(first, uid) }] })
    await sleep(900)
    const wasDone = second.rows?.find((row) => row.uid === uid)?.done === true
    await second.setDone(uid, !wasDone)
    set({ edits: [...current.edits, { device: second.label, change: wasDone ? 'unticked it' : 'ticked it', at: await editedAt(second, uid) }] })
    await sleep(900)

    // The later writer reconnects first, the earlier one last: with whole rows the Phone's row would win
    // and the rename be lost; field by field, both are kept.
    set({ phase: 'reconnecting' })
    const target = uid
    second.setOnline(true)
    await sleep(700)
    first.setOnline(true)

    const settled = (device: Device) => {
      return device.status === 'online' && device.pending === 0 && device.rows?.find((row) => row.uid === target)
    }
    const a = await waitFor(() => {
      const x = settled(first)
      const y = settled(second)
      return x && y && x.title === y.title && x.done === y.done && x.title === firstTitle && x.done === !wasDone ? x : null
    }, 30_000)
    await sleep(400) // let the devices' own log lines (what arrived) land first
    set({ phase: 'done', merged: { title: a.title, done: a.done } })
    const [rename, tick] = current.edits
    const why =
      `${first.label} ${rename?.change ?? 'renamed it'} at ${clockTime(rename?.at ?? Date.now())}, ${second.label} ${tick?.change ?? 'ticked it'} ` +
      `at ${clockTime(tick?.at ?? Date.now())}: different fields, so both edits were kept (the table merges field by field).`
    for (const device of [first, second]) {
      device.addLog({ kind: 'conflict', title: `Conflict on “${original}” → both edits kept`, lines: [{ text: why, tone: 'win' }] })
    }
  } catch (error) {
    set({ phase: 'failed', note: error instanceof Error ? error.message : String(error) })
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
