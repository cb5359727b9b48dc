/**
 * Checkers of the invariants of docs/guarantees.md, judged from the recorded history (`history.ts`), the wire
 * history (`fault-network.ts`) and what the stores hold (the clients' IndexedDB, the server's database).
 *
 * - I1 convergence: each client's rows for each scope it keeps = the server's rows matching that scope.
 * - I2 no lost acknowledged write: for every acknowledged write, the server's final version of its uid
 *   has a stamp ≥ the write's. Also the stronger form for every completed local write once the queues
 *   drained (superseded only by a greater stamp, never dropped), unless the server refused it.
 * - I3 deterministic LWW: the server's final state = the greatest stamp per uid over accepted writes.
 * - I4 no resurrection / I7 monotonicity: sampled during the run by the monitor (monitor.ts).
 * - I9 liveness: `drain` in `cluster.ts`.
 */
import { matches, validateWhere, type Scope, type TableDescriptor } from '@lastword/core'
import type { StoredRecord, StoredScope } from '@lastword/client'
import type { PushedRecord, WireEvent } from './fault-network.js'
import type { History } from './history.js'

export type Invariant = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7' | 'I8' | 'I9' | 'I10' | 'I14'

export interface Violation {
  invariant: Invariant
  message: string
  /** The record and the client concerned, when there is one (for explanations). */
  uid?: string
  client?: string
}

/** The server's stored state of one table: metadata per uid and the live rows. */
export interface ServerState {
  meta: Map<string, { version: string; deleted: boolean; created_at: string; updated_at: string; deleted_at: string | null }>
  rows: Map<string, Record<string, unknown>>
}

export function versionOfMeta(m: { created_at: string; updated_at: string; deleted_at: string | null }): string {
  return m.deleted_at ?? (m.updated_at > m.created_at ? m.updated_at : m.created_at)
}

/** Reads the server's state of a table from its database (lastword's metadata table and the app table). */
export async function readServerState(raw: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>, table: string): Promise<ServerState> {
  const meta: ServerState['meta'] = new Map()
  for (const m of await raw(`SELECT uid, created_at, updated_at, deleted_at FROM lastword_meta WHERE tbl = '${table}'`)) {
    const entry = {
      created_at: String(m['created_at']),
      updated_at: String(m['updated_at']),
      deleted_at: m['deleted_at'] === null ? null : String(m['deleted_at']),
    }
    meta.set(String(m['uid']), { ...entry, version: versionOfMeta(entry), deleted: entry.deleted_at !== null })
  }
  const rows: ServerState['rows'] = new Map()
  for (const r of await raw(`SELECT * FROM ${table}`)) rows.set(String(r['uid']), r)
  return { meta, rows }
}

/** What a client's store holds for a table. */
export interface ClientState {
  records: StoredRecord[]
  scopes: StoredScope[]
}

export function versionOfRecord(r: { created_at: string; updated_at: string; deleted_at: string | null }): string {
  return versionOfMeta(r)
}

/** A row reduced to the compared columns, booleans as booleans (SQLite stores 0/1). */
export function normalizeRow(row: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { uid: row['uid'] }
  for (const c of columns) {
    const v = row[c]
    out[c] = v === undefined ? null : v
  }
  return out
}

const sortByUid = (a: Record<string, unknown>, b: Record<string, unknown>): number => (String(a['uid']) < String(b['uid']) ? -1 : String(a['uid']) > String(b['uid']) ? 1 : 0)

/**
 * I1 for one client and one scope: `clientRows` (what the client reads for the scope) must equal
 * `serverRows` (the server's rows matching it — from SQL), which must equal the server rows matched
 * by core (a second opinion on the server side).
 */
export function checkScopeConvergence(
  who: string,
  where: Record<string, unknown>,
  clientRows: Array<Record<string, unknown>>,
  serverRows: Array<Record<string, unknown>>,
  allServerRows: Array<Record<string, unknown>>,
  descriptor: TableDescriptor,
): Violation[] {
  const columns = descriptor.columns.map((c) => c.name)
  const norm = (rows: Array<Record<string, unknown>>) => rows.map((r) => normalizeRow(r, columns)).sort(sortByUid)
  const scope: Scope = validateWhere(where, descriptor)
  const byCore = norm(allServerRows.filter((r) => matches(r, scope)))
  const c = norm(clientRows)
  const s = norm(serverRows)
  const out: Violation[] = []
  const diff = (a: Array<Record<string, unknown>>, b: Array<Record<string, unknown>>): string => {
    const key = (r: Record<string, unknown>) => JSON.stringify(r)
    const bs = new Set(b.map(key))
    const as = new Set(a.map(key))
    const missing = b.filter((r) => !as.has(key(r))).slice(0, 5)
    const extra = a.filter((r) => !bs.has(key(r))).slice(0, 5)
    return `missing ${JSON.stringify(missing)} extra ${JSON.stringify(extra)}`
  }
  if (JSON.stringify(s) !== JSON.stringify(byCore)) {
    out.push({ invariant: 'I1', message: `server SQL and core matcher disagree on ${JSON.stringify(where)}: SQL vs core ${diff(s, byCore)}` })
  }
  if (JSON.stringify(c) !== JSON.stringify(s)) {
    out.push({ invariant: 'I1', message: `${who} ${JSON.stringify(where)}: client (${c.length}) ≠ server (${s.length}): client vs server ${diff(c, s)}` })
  }
  return out
}

/** Accepted writes (outcome `applied`) by uid, from the wire history. */
export function acceptedWrites(events: readonly WireEvent[]): Map<string, PushedRecord[]> {
  const out = new Map<string, PushedRecord[]>()
  for (const e of events) {
    if (e.type !== 'outcome' || e.status !== 'applied') continue
    let list = out.get(e.uid)
    if (list === undefined) out.set(e.uid, (list = []))
    if (!list.some((r) => r.version === e.record.version)) list.push(e.record)
  }
  return out
}

/** I2 on acknowledged writes: the server's final version of each acknowledged uid is ≥ the write's. */
/** With purges: whether a uid the server no longer knows was purged after a delete that supersedes `version`. */
function purgedAfter(accepted: Map<string, PushedRecord[]> | null, uid: string, version: string): boolean {
  if (accepted === null) return false
  const writes = accepted.get(uid) ?? []
  const top = writes.reduce<PushedRecord | null>((a, b) => (a === null || b.version > a.version ? b : a), null)
  return top !== null && top.deleted && top.version >= version
}

/**
 * With purges: whether the server deleted a uid it no longer knows. A local write the server never
 * took, of such a record, is dropped by design, whatever its stamp (trap 3, tombstone retention, in
 * docs/guarantees.md: an acknowledged record the server no longer knows was deleted and purged — it goes, and the
 * app is told), so it is not a lost write.
 */
function deletedAndPurged(accepted: Map<string, PushedRecord[]> | null, uid: string): boolean {
  return accepted !== null && (accepted.get(uid) ?? []).some((r) => r.deleted)
}

export function checkAcknowledged(events: readonly WireEvent[], server: ServerState, options: { purged?: boolean } = {}): Violation[] {
  const out: Violation[] = []
  const accepted = options.purged === true ? acceptedWrites(events) : null
  for (const e of events) {
    if (e.type !== 'acked') continue
    const m = server.meta.get(e.record.uid)
    if (m === undefined && purgedAfter(accepted, e.record.uid, e.record.version)) continue
    if (m === undefined) out.push({ invariant: 'I2', message: `acknowledged write ${e.record.uid}@${e.record.version} (${e.client}) is unknown to the server` })
    else if (m.version < e.record.version) {
      out.push({ invariant: 'I2', uid: e.record.uid, client: e.client, message: `acknowledged write ${e.record.uid}@${e.record.version} (${e.client}) lost: the server holds ${m.version}` })
    }
  }
  return out
}

/**
 * I2 on every completed local write once the queues drained: its uid's final server version is ≥ the
 * write's stamp — unless the server refused a push of that record from that client (drift, validation),
 * which the client reports instead of losing silently.
 */
export function checkLocalWrites(history: History, events: readonly WireEvent[], server: ServerState, options: { purged?: boolean } = {}): Violation[] {
  const accepted = options.purged === true ? acceptedWrites(events) : null
  const refused = new Set<string>()
  for (const e of events) if (e.type === 'outcome' && e.status === 'rejected') refused.add(`${e.client}\u0000${e.uid}`)
  const acked = new Set<string>()
  for (const e of events) if (e.type === 'acked') acked.add(`${e.record.uid}\u0000${e.record.version}`)
  const out: Violation[] = []
  for (const w of history.okWrites()) {
    if (w.uid === undefined || w.stamp === undefined || refused.has(`${w.process}\u0000${w.uid}`)) continue
    const m = server.meta.get(w.uid)
    if (m === undefined && (purgedAfter(accepted, w.uid, w.stamp) || (!acked.has(`${w.uid}\u0000${w.stamp}`) && deletedAndPurged(accepted, w.uid)))) continue
    if (m === undefined || m.version < w.stamp) {
      out.push({ invariant: 'I2', uid: w.uid, client: w.process, message: `local ${w.f} ${w.uid}=${w.value ?? '∅'}@${w.stamp} by ${w.process} lost: the server holds ${m?.version ?? 'nothing'}` })
    }
  }
  return out
}

/**
 * Pushed records whose request was never answered with an outcome for them (the answer was lost, or the
 * server died after COMMIT): the server may or may not have taken them. Keyed by uid.
 */
export function unansweredWrites(events: readonly WireEvent[]): Map<string, PushedRecord[]> {
  const answered = new Set<string>()
  for (const e of events) if (e.type === 'outcome') answered.add(`${e.client}\u0000${e.request}\u0000${e.uid}`)
  const out = new Map<string, PushedRecord[]>()
  for (const e of events) {
    if (e.type !== 'push') continue
    for (const r of e.records) {
      if (answered.has(`${e.client}\u0000${e.request}\u0000${r.uid}`)) continue
      let list = out.get(r.uid)
      if (list === undefined) out.set(r.uid, (list = []))
      list.push(r)
    }
  }
  return out
}

/**
 * I3: for every uid, the server's final version is the greatest accepted one, and its row is that
 * write's row (or absent for a tombstone). Every record the server knows was written by some accepted push.
 *
 * `unanswered`: the wire history is recorded at the clients (a real server that crashes), so a push the
 * server committed may have no recorded outcome — its answer died with the server, and its writer then
 * learned it from realtime or a pull (A3) instead of pushing it again. Such a push counts as accepted
 * when it is exactly what the server holds: the server's version must then be an unanswered push's
 * version, greater than every accepted one, with that push's row. Nothing older, and nothing no client
 * pushed, passes.
 */
export function checkLww(events: readonly WireEvent[], server: ServerState, columns: readonly string[], options: { purged?: boolean; unanswered?: boolean } = {}): Violation[] {
  const accepted = acceptedWrites(events)
  if (options.unanswered === true) {
    for (const [uid, writes] of unansweredWrites(events)) {
      const m = server.meta.get(uid)
      const held = m === undefined ? undefined : writes.find((w) => w.version === m.version)
      if (held === undefined) continue
      const list = accepted.get(uid) ?? []
      if (list.every((w) => w.version < held.version)) accepted.set(uid, [...list, held])
    }
  }
  const out: Violation[] = []
  for (const [uid, writes] of accepted) {
    const top = writes.reduce((a, b) => (b.version > a.version ? b : a))
    const m = server.meta.get(uid)
    // After a purge a tombstone may be gone; its uid must then stay gone.
    if (m === undefined && options.purged === true && top.deleted) continue
    if (m === undefined) {
      out.push({ invariant: 'I3', message: `${uid}: accepted writes up to ${top.version} but the server has no record` })
      continue
    }
    if (m.version !== top.version) {
      out.push({ invariant: 'I3', message: `${uid}: server version ${m.version} ≠ greatest accepted ${top.version}` })
      continue
    }
    const row = server.rows.get(uid)
    if (top.deleted) {
      if (!m.deleted || row !== undefined) out.push({ invariant: 'I3', message: `${uid}: greatest accepted write is a delete but the server has it live` })
    } else if (row === undefined || m.deleted) {
      out.push({ invariant: 'I3', message: `${uid}: greatest accepted write is live (${JSON.stringify(top.row)}) but the server has no row` })
    } else {
      for (const c of columns) {
        const want = top.row?.[c] ?? null
        const got = typeof want === 'boolean' && typeof row[c] === 'number' ? row[c] === 1 : (row[c] ?? null)
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          out.push({ invariant: 'I3', message: `${uid}.${c}: server ${JSON.stringify(got)} ≠ greatest accepted write's ${JSON.stringify(want)}` })
        }
      }
    }
  }
  for (const uid of server.meta.keys()) {
    if (!accepted.has(uid)) out.push({ invariant: 'I3', message: `${uid}: the server holds a record no accepted push wrote` })
  }
  return out
}

/**
 * I5: a push delivered several times is applied once. Every applied change is logged once: per uid, the
 * change log holds exactly one entry per distinct accepted version (a duplicate delivery is a no-op and
 * logs nothing). `changes` = count of change-log entries per uid.
 */
export function checkIdempotent(events: readonly WireEvent[], changes: ReadonlyMap<string, number>): Violation[] {
  const out: Violation[] = []
  for (const [uid, writes] of acceptedWrites(events)) {
    const logged = changes.get(uid) ?? 0
    if (logged !== writes.length) out.push({ invariant: 'I5', uid, message: `${uid}: ${writes.length} distinct accepted versions but ${logged} logged changes` })
  }
  return out
}

/** Nothing a client created vanished: every uid a completed create made is known to the server. */
export function checkNothingVanished(history: History, server: ServerState): Violation[] {
  const out: Violation[] = []
  for (const e of history.okWrites()) {
    if (e.f === 'create' && e.uid !== undefined && !server.meta.has(e.uid)) out.push({ invariant: 'I2', uid: e.uid, client: e.process, message: `${e.process} created ${e.uid}=${e.value ?? ''}; the server never got it` })
  }
  return out
}

/** Drift: no stored stamp is further ahead of the server's clock than the bound allows. */
export function checkDriftBound(server: ServerState, nowMs: number, maxDriftMs: number): Violation[] {
  const out: Violation[] = []
  for (const [uid, m] of server.meta) {
    const ms = parseInt(m.version.slice(0, 12), 16)
    if (ms > nowMs + maxDriftMs) out.push({ invariant: 'I2', uid, message: `${uid} is stored with a stamp ${ms - nowMs} ms ahead of the server (bound ${maxDriftMs} ms)` })
  }
  return out
}

/** Violations grouped for a failure message. */
export function formatViolations(violations: readonly Violation[], limit = Number(process.env["LW_VIOLATIONS"] ?? 12)): string {
  const lines = violations.slice(0, limit).map((v) => `  ${v.invariant}: ${v.message}`)
  if (violations.length > limit) lines.push(`  … and ${violations.length - limit} more`)
  return lines.join('\n')
}
