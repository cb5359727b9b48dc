/**
 * The checkers of a field-merge table (row T25, docs/test-matrix.md; core's SPEC.md section 3a): the
 * server's final state of every uid must be the rule in words over every write the server took (an
 * `applied` or `superseded` outcome: a superseded edit under a delete still lands in its image, F6) —
 * each column the value of its latest stamp, a tombstone exactly when the latest delete follows every
 * edit (I3 per field; a model written here, not core's merge, so a broken core rule fails it); and a push delivered several times is merged once (I5: no more logged changes
 * than distinct writes taken, at least one per uid with an applied write).
 */
import { defaultFieldStamps, type FieldRecord, type Stamp } from '@lastword/core'
import type { ServerState, Violation } from './checkers.js'
import type { PushedRecord, WireEvent } from './fault-network.js'
import type { History } from './history.js'

/** A pushed record as core's merge takes it (a live push without column stamps writes every column at its updated_at). */
function asFieldRecord(r: PushedRecord, columns: readonly string[]): FieldRecord | null {
  const s = r.stamps
  if (s === undefined) return null
  const meta = { uid: r.uid, created_at: s.created_at as Stamp, updated_at: s.updated_at as Stamp, deleted_at: s.deleted_at as Stamp | null }
  if (r.deleted || r.row === null) return { ...meta, row: null, fields: {} }
  const fields = (s.fields as Record<string, Stamp> | undefined) ?? defaultFieldStamps(columns.filter((c) => c in (r.row ?? {})), meta.updated_at)
  return { ...meta, row: { ...r.row }, fields }
}

/** Every write the server took (applied or superseded), distinct by content, in wire order, by uid. */
function takenWrites(events: readonly WireEvent[]): Map<string, PushedRecord[]> {
  const out = new Map<string, PushedRecord[]>()
  const seen = new Set<string>()
  for (const e of events) {
    if (e.type !== 'outcome' || e.status === 'rejected') continue
    const key = JSON.stringify([e.record.uid, e.record.stamps, e.record.row])
    if (seen.has(key)) continue
    seen.add(key)
    let list = out.get(e.uid)
    if (list === undefined) out.set(e.uid, (list = []))
    list.push(e.record)
  }
  return out
}

/** The record the rule in words gives (written here apart from core, so a broken core rule shows): per column the value of its latest stamp, the latest edit stamp, and a tombstone exactly when the latest delete follows it. */
function model(writes: readonly FieldRecord[]): FieldRecord | null {
  let top: FieldRecord | null = null
  const fields: Record<string, Stamp> = {}
  const row: Record<string, unknown> = {}
  let updated: Stamp | null = null
  let deleted: Stamp | null = null
  for (const w of writes) {
    if (top === null || w.created_at < top.created_at) top = w
    if (updated === null || w.updated_at > updated) updated = w.updated_at
    if (w.deleted_at !== null && (deleted === null || w.deleted_at > deleted)) deleted = w.deleted_at
    for (const [c, stamp] of Object.entries(w.fields)) {
      const current = fields[c]
      if (current === undefined || stamp > current) {
        fields[c] = stamp
        row[c] = w.row?.[c] ?? null
      }
    }
  }
  if (top === null || updated === null) return null
  return { uid: top.uid, created_at: top.created_at, updated_at: updated, deleted_at: deleted !== null && deleted > updated ? deleted : null, row, fields }
}

/** I3 per field: the server holds the rule's result over every write it took, column by column. */
export function checkFieldMerge(events: readonly WireEvent[], server: ServerState, fields: ReadonlyMap<string, Record<string, string> | null>, columns: readonly string[]): Violation[] {
  const out: Violation[] = []
  const taken = takenWrites(events)
  for (const [uid, writes] of taken) {
    const state = model(writes.map((w) => asFieldRecord(w, columns)).filter((w): w is FieldRecord => w !== null))
    if (state === null) continue
    const m = server.meta.get(uid)
    if (m === undefined) {
      out.push({ invariant: 'I3', uid, message: `${uid}: the server took writes but has no record` })
      continue
    }
    if (m.deleted_at !== state.deleted_at || m.updated_at !== state.updated_at) {
      out.push({ invariant: 'I3', uid, message: `${uid}: server stamps (updated ${m.updated_at}, deleted ${m.deleted_at}) ≠ the merge's (updated ${state.updated_at}, deleted ${state.deleted_at})` })
      continue
    }
    const stored = fields.get(uid) ?? null
    for (const c of columns) {
      const want = state.fields[c]
      const got = stored?.[c] ?? m.updated_at
      if (want !== undefined && got !== want) out.push({ invariant: 'I3', uid, message: `${uid}.${c}: server stamp ${got} ≠ the merge's ${want}` })
    }
    if (state.deleted_at !== null) {
      if (server.rows.has(uid)) out.push({ invariant: 'I3', uid, message: `${uid}: the merge is a tombstone but the server has it live` })
      continue
    }
    const row = server.rows.get(uid)
    if (row === undefined) {
      out.push({ invariant: 'I3', uid, message: `${uid}: the merge is live but the server has no row` })
      continue
    }
    for (const c of columns) {
      const want = state.row?.[c] ?? null
      const got = typeof want === 'boolean' && typeof row[c] === 'number' ? row[c] === 1 : (row[c] ?? null)
      if (JSON.stringify(got) !== JSON.stringify(want)) out.push({ invariant: 'I3', uid, message: `${uid}.${c}: server ${JSON.stringify(got)} ≠ the merge's ${JSON.stringify(want)}` })
    }
  }
  for (const uid of server.meta.keys()) if (!taken.has(uid)) out.push({ invariant: 'I3', uid, message: `${uid}: the server holds a record no push wrote` })
  return out
}

/** I5 on a field-merge table: a duplicate delivery merges nothing new, so logged changes ≤ distinct writes taken. */
export function checkFieldIdempotent(events: readonly WireEvent[], changes: ReadonlyMap<string, number>): Violation[] {
  const out: Violation[] = []
  for (const [uid, writes] of takenWrites(events)) {
    const logged = changes.get(uid) ?? 0
    if (logged > writes.length) out.push({ invariant: 'I5', uid, message: `${uid}: ${writes.length} distinct writes taken but ${logged} logged changes` })
  }
  return out
}

/**
 * I2 per field: every completed local create or update wrote `title` (each write's unique value), so the
 * server's stamp of `title` is at least that write's stamp — an edit is never lost to a concurrent edit of
 * another column — unless a later delete was made (it wins, F4; a client that learns of it before pushing
 * an older edit drops that edit, as under row merge), or the server refused that client's push of it
 * (reported, not lost).
 */
export function checkFieldLocalWrites(history: History, events: readonly WireEvent[], server: ServerState, fields: ReadonlyMap<string, Record<string, string> | null>): Violation[] {
  const refused = new Set<string>()
  for (const e of events) if (e.type === 'outcome' && e.status === 'rejected') refused.add(`${e.client}\u0000${e.uid}`)
  const out: Violation[] = []
  const deletes = history.okWrites().filter((w) => w.f === 'delete' && w.stamp !== undefined)
  for (const w of history.okWrites()) {
    // A later delete wins over the edit (F4); an edit not yet pushed when its client learned of it is dropped there.
    if (deletes.some((d) => d.uid === w.uid && (d.stamp as string) > (w.stamp ?? ''))) continue
    if ((w.f !== 'create' && w.f !== 'update') || w.uid === undefined || w.stamp === undefined || refused.has(`${w.process}\u0000${w.uid}`)) continue
    const m = server.meta.get(w.uid)
    if (m !== undefined && m.deleted_at !== null && m.deleted_at > w.stamp) continue
    const title = m === undefined ? undefined : (fields.get(w.uid)?.['title'] ?? m.updated_at)
    if (title === undefined || title < w.stamp) {
      out.push({ invariant: 'I2', uid: w.uid, client: w.process, message: `${w.f} ${w.uid}.title=${w.value ?? '∅'}@${w.stamp} by ${w.process} lost: the server's title is stamped ${title ?? 'nothing'}` })
    }
  }
  return out
}
