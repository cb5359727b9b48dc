/**
 * Row T30's checks over a {@link RelCluster}:
 *
 * - after every command, the server's rows satisfy the foreign key (`checkServerKeys`): no app row of
 *   `todos` whose `list_id` names no row of `lists`, no child live in lastword's metadata whose parent is
 *   a tombstone there or absent (I16; `set null` leaves `list_id` null, which is fine), and the live
 *   metadata of each table is exactly its app rows;
 * - every answered unit (`checkUnits`): an atomic unit is all or nothing (U1: no accepted record beside a
 *   refused one; each refused record is the culprit or `UNIT_REFUSED` naming a culprit of the unit), and
 *   every refusal is justified: `PARENT_DELETED` only for a child whose pushed parent the server holds as a
 *   tombstone, nothing else refused (no spurious refusal);
 * - after healing (`checkFinal`): each transaction not split by a later write (U3) landed whole or not
 *   at all, and whole unless its parent was deleted; every record a client created is known to the
 *   server unless justly refused; every refusal was told to the app with its code; a client refused
 *   `PARENT_DELETED` for a child holds the server's state of it (I16, PD5) and keeps nothing to decide;
 *   every scope of every client holds exactly the server's rows (I1, both tables).
 */
import type { PushedUnit, PushedUnitRecord, RelClient, RelCluster } from './relational-cluster.js'
import { REL_SCOPES } from './relational-cluster.js'

interface ServerSnapshot {
  rows: { lists: Map<string, Record<string, unknown>>; todos: Map<string, Record<string, unknown>> }
  meta: { lists: Map<string, { deleted: boolean; image: Record<string, unknown> | null }>; todos: Map<string, { deleted: boolean; image: Record<string, unknown> | null }> }
}

/** Both tables and their metadata, read in ONE statement (one snapshot on PostgreSQL). */
export async function readSnapshot(cluster: RelCluster): Promise<ServerSnapshot> {
  const out: ServerSnapshot = { rows: { lists: new Map(), todos: new Map() }, meta: { lists: new Map(), todos: new Map() } }
  const rows = await cluster.raw(
    `SELECT 'row' AS k, 'lists' AS tbl, uid, NULL AS image, NULL AS deleted_at, NULL AS list_id FROM lists
     UNION ALL SELECT 'row', 'todos', uid, NULL, NULL, list_id FROM todos
     UNION ALL SELECT 'meta', tbl, uid, image, deleted_at, NULL FROM lastword_meta WHERE tbl IN ('lists', 'todos')`,
  )
  for (const r of rows) {
    const table = r['tbl'] as 'lists' | 'todos'
    const uid = String(r['uid'])
    if (r['k'] === 'row') out.rows[table].set(uid, { uid, list_id: r['list_id'] ?? null })
    else out.meta[table].set(uid, { deleted: r['deleted_at'] !== null, image: typeof r['image'] === 'string' ? (JSON.parse(r['image']) as Record<string, unknown>) : null })
  }
  return out
}

const parentDeleted = (s: ServerSnapshot, parent: unknown): boolean => typeof parent === 'string' && s.meta.lists.get(parent)?.deleted === true

/** The foreign key on the server, after a command. */
export async function checkServerKeys(cluster: RelCluster): Promise<string[]> {
  const s = await readSnapshot(cluster)
  const out: string[] = []
  for (const [uid, row] of s.rows.todos) {
    if (row['list_id'] !== null && !s.rows.lists.has(String(row['list_id']))) out.push(`FK: todos row ${uid} points at list ${String(row['list_id'])}, which has no row`)
  }
  for (const [uid, m] of s.meta.todos) {
    if (m.deleted) continue
    const parent = m.image?.['list_id']
    if (parent === null || parent === undefined) continue
    const p = s.meta.lists.get(String(parent))
    if (p === undefined || p.deleted) out.push(`I16: todo ${uid} is live in lastword's metadata under list ${String(parent)}, ${p === undefined ? 'unknown' : 'a tombstone'} there`)
  }
  for (const table of ['lists', 'todos'] as const) {
    for (const [uid, m] of s.meta[table]) {
      if (m.deleted || s.rows[table].has(uid)) continue
      const log = await cluster.raw(`SELECT rev, before, at FROM lastword_changes WHERE tbl = '${table}' AND uid = '${uid}' ORDER BY rev`)
      const pushes = cluster.units.filter((u) => u.records.some((r) => r.uid === uid)).map((u) => `t${u.at % 100_000} ${u.client} ${u.atomic ? 'atomic' : 'single'} [${u.records.map((r) => `${r.table} ${r.uid.slice(-4)} ${r.deleted ? 'delete' : JSON.stringify(r.row)} ${r.status ?? '?'}${r.code === undefined ? '' : ` ${r.code}`}`).join('; ')}]`)
      out.push(`FK: ${table} ${uid} live in the metadata (${JSON.stringify(m.image)}) without an app row at t${cluster.vt.now() % 100_000}; changes ${JSON.stringify(log)}; pushes ${pushes.join(' | ')}`)
    }
    for (const uid of s.rows[table].keys()) if (s.meta[table].get(uid)?.deleted !== false) out.push(`FK: ${table} row ${uid} without live metadata`)
  }
  return out
}

/** The uids the server refused to some client (a list refused with its unit stays unknown to the server). */
const refusedUids = (cluster: RelCluster): Set<string> => new Set(cluster.units.flatMap((u) => u.records.filter((r) => r.status === 'rejected').map((r) => r.uid)))

/**
 * Whether a refused record's refusal is justified by the server's state `s`: `PARENT_DELETED` for a todo
 * whose list is a tombstone there, or unknown there because it was itself refused (a list of a refused
 * unit, kept by its client); `UNIT_REFUSED` beside a justified culprit of an atomic unit. Nothing else.
 */
function justified(unit: PushedUnit, rec: PushedUnitRecord, s: ServerSnapshot, refused: ReadonlySet<string>): boolean {
  if (rec.code === 'PARENT_DELETED') {
    const parent = rec.row?.['list_id']
    return rec.table === 'todos' && (parentDeleted(s, parent) || (typeof parent === 'string' && !s.meta.lists.has(parent) && refused.has(parent)))
  }
  if (rec.code === 'UNIT_REFUSED') {
    const culprit = unit.records.find((r) => r.uid === rec.details?.['uid'] && r.table === rec.details?.['table'])
    return unit.atomic && culprit !== undefined && culprit.status === 'rejected' && culprit.code !== 'UNIT_REFUSED' && justified(unit, culprit, s, refused)
  }
  return false
}

/** U1 and justified refusals for the units answered since the last call (each judged once). */
export async function checkUnits(cluster: RelCluster): Promise<string[]> {
  const units = cluster.units.filter((u) => u.answered && !u.checked)
  if (units.length === 0) return []
  for (const unit of units) unit.checked = true
  const s = await readSnapshot(cluster)
  const all = refusedUids(cluster)
  const out: string[] = []
  for (const unit of units) {
    const refused = unit.records.filter((r) => r.status === 'rejected')
    const what = (r: PushedUnitRecord): string => `${r.table} ${r.uid}${r.deleted ? ' (delete)' : ` ${JSON.stringify(r.row)}`} ${r.status ?? 'no outcome'}${r.code === undefined ? '' : ` ${r.code}`}`
    if (unit.atomic && refused.length > 0 && refused.length < unit.records.length) {
      out.push(`U1: ${unit.client}'s atomic unit half refused: ${unit.records.map(what).join('; ')}`)
    }
    for (const rec of refused) {
      if (!justified(unit, rec, s, all)) out.push(`refusal not justified by the server's state: ${unit.client} ${what(rec)} (unit: ${unit.records.map(what).join('; ')})`)
    }
  }
  return out
}

/** What the app was told (`edit` events) about a uid. */
const told = (c: RelClient, uid: string, code: string): boolean => c.edits.some((e) => e.kind === 'rejected' && e.uid === uid && e.error.code === code)

const norm = (rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string =>
  JSON.stringify(
    rows
      .map((r) => Object.fromEntries(['uid', ...columns].map((k) => [k, r[k] ?? null])))
      .sort((a, b) => (String(a['uid']) < String(b['uid']) ? -1 : 1)),
  )

const COLUMNS = { lists: ['name'], todos: ['list_id', 'title', 'tag'] } as const

/** After healing: transactions, landings, what the app was told, I16 and I1. */
export async function checkFinal(cluster: RelCluster, created: ReadonlyMap<string, { client: string; table: 'lists' | 'todos' }>): Promise<string[]> {
  const s = await readSnapshot(cluster)
  const out: string[] = []
  const known = (uid: string): boolean => s.meta.lists.has(uid) || s.meta.todos.has(uid)
  // Refusals by uid (the last answer for it), and who was refused.
  const refusals = new Map<string, { unit: PushedUnit; rec: PushedUnitRecord }>()
  for (const unit of cluster.units) for (const rec of unit.records) if (rec.status === 'rejected') refusals.set(rec.uid, { unit, rec })

  const refused = refusedUids(cluster)
  for (const tx of cluster.transactions) {
    if (tx.split) continue
    const landed = tx.uids.filter(known)
    const c = cluster.clients.find((x) => x.name === tx.client) as RelClient
    if (landed.length !== 0 && landed.length !== tx.uids.length) {
      out.push(`U1: ${tx.client}'s transaction (${tx.kind}) landed in part: ${landed.length} of ${tx.uids.join(', ')}`)
      for (const uid of tx.uids) out.push(await explain(cluster, c, uid === tx.newList ? 'lists' : 'todos', uid))
    }
    // Refused whole is right only when the list it depends on is deleted on the server, or was itself refused.
    const gone = parentDeleted(s, tx.parent) || (!s.meta.lists.has(tx.parent) && refused.has(tx.parent))
    if (landed.length === 0 && !(tx.kind !== 'new-parent' && gone)) {
      out.push(`spurious refusal: ${tx.client}'s transaction (${tx.kind}, parent ${tx.parent}, ${s.meta.lists.has(tx.parent) ? (s.meta.lists.get(tx.parent)?.deleted === true ? 'deleted' : 'live') : 'unknown'}) never landed`)
      for (const uid of tx.uids) out.push(await explain(cluster, c, uid === tx.newList ? 'lists' : 'todos', uid))
    }
  }
  for (const [uid, { client, table }] of created) {
    if (known(uid)) continue
    const refusal = refusals.get(uid)
    if (refusal === undefined) out.push(`${client}'s ${table} ${uid} never reached the server, and was never refused`)
  }
  for (const [uid, { unit, rec }] of refusals) {
    const c = cluster.clients.find((x) => x.name === unit.client) as RelClient
    if (rec.code !== undefined && !told(c, uid, rec.code)) out.push(`${c.name} was not told of the refusal of ${rec.table} ${uid} (${rec.code})`)
  }
  for (const c of cluster.clients) {
    const state = await cluster.vt.await(c.client.store.transaction('readonly', async (tx) => [...(await tx.scanRecords('lists')), ...(await tx.scanRecords('todos'))]))
    // A record refused UNIT_REFUSED (its unit's culprit justified above) is kept for the app to decide
    // (U1, P7): listed by `client.rejected()`, and left out of I1 (the server never had it).
    const listed = new Set((await cluster.vt.await(c.client.rejected())).map((r) => r.uid))
    const kept = new Set<string>()
    for (const r of state) {
      if (r.rejected?.code === 'UNIT_REFUSED' && listed.has(r.uid) && r.deleted_at === null) kept.add(r.uid)
      else if (r.rejected !== undefined) out.push(`${c.name} keeps ${r.table} ${r.uid} refused ${r.rejected.code}: nothing should be left to decide`)
      if (r.dirty) out.push(`${c.name} keeps ${r.table} ${r.uid} dirty after healing`)
    }
    // I16 / PD5: a child refused PARENT_DELETED to this client: it holds the server's state of it, or nothing.
    for (const [uid, { unit, rec }] of refusals) {
      if (unit.client !== c.name || rec.code !== 'PARENT_DELETED') continue
      const local = state.find((r) => r.table === 'todos' && r.uid === uid)
      if (local === undefined || local.deleted_at !== null) continue
      const server = s.meta.todos.get(uid)
      if (server === undefined || server.deleted) out.push(`I16: ${c.name} still shows todo ${uid}, refused PARENT_DELETED, deleted on the server`)
      else if (JSON.stringify(local.row?.['list_id'] ?? null) !== JSON.stringify(server.image?.['list_id'] ?? null)) out.push(`I16: ${c.name} shows todo ${uid} under ${String(local.row?.['list_id'])}, the server under ${String(server.image?.['list_id'])}`)
    }
    // I1: every scope it keeps, both tables.
    for (const scope of c.subscriptions.keys()) {
      const { table, where } = REL_SCOPES[scope] as (typeof REL_SCOPES)[number]
      const reading: Promise<unknown> = table === 'lists' ? c.lists.findMany(where as Record<string, never>) : c.todos.findMany(where as Record<string, never>)
      const mine = ((await cluster.vt.await(reading)) as Array<Record<string, unknown>>).filter((r) => !kept.has(String(r['uid'])))
      const theirs = await cluster.vt.await(cluster.server.engine.service(table).findMany(where as Record<string, never>))
      const a = norm(mine, COLUMNS[table])
      const b = norm(theirs, COLUMNS[table])
      if (a !== b) {
        out.push(`I1: ${c.name} ${table} ${JSON.stringify(where)}: client ${a} ≠ server ${b}`)
        const key = (r: Record<string, unknown>): string => norm([r], COLUMNS[table])
        const theirsKeys = new Set(theirs.map(key))
        const mineKeys = new Set(mine.map(key))
        const odd = [...mine.filter((r) => !theirsKeys.has(key(r))), ...theirs.filter((r) => !mineKeys.has(key(r)))].map((r) => String(r['uid']))
        for (const uid of odd.slice(0, 3)) out.push(await explain(cluster, c, table, uid))
      }
    }
  }
  return out
}

/** What is known of one uid: the client's record, what it was told, and every pushed unit holding it. */
async function explain(cluster: RelCluster, c: RelClient, table: 'lists' | 'todos', uid: string): Promise<string> {
  const record = await cluster.vt.await(c.client.store.transaction('readonly', (tx) => tx.getRecord(table, uid)))
  const local = record === undefined ? 'none' : `${JSON.stringify(record.row)} deleted=${record.deleted_at !== null} dirty=${record.dirty} ack=${record.acknowledged}${record.rejected === undefined ? '' : ` rejected ${record.rejected.code}`}`
  const edits = c.edits.filter((e) => e.uid === uid).map((e) => (e.kind === 'rejected' ? `rejected ${e.error.code}` : `superseded ${e.rule}`))
  const pushes = cluster.units.flatMap((u) => u.records.filter((r) => r.uid === uid).map((r) => `t${u.at % 100_000} ${u.client} ${r.deleted ? 'delete' : JSON.stringify(r.row)} ${r.status ?? '?'}${r.code === undefined ? '' : ` ${r.code}`}`))
  const last = cluster.units.filter((u) => u.client === c.name && u.records.some((r) => r.uid === uid)).at(-1)?.at ?? 0
  const requests = cluster.network.events.filter((e) => e.type === 'request' && e.client === c.name && e.at >= last).map((e) => (e.type === 'request' ? `t${e.at % 100_000} ${e.where} ${e.full ? 'full' : `from ${e.checkpoint ?? '∅'}`}` : ''))
  const pages = cluster.network.events.filter((e) => e.type === 'page' && e.client === c.name && e.at >= last).map((e) => (e.type === 'page' ? `t${e.at % 100_000} ${e.mode}${e.rows.includes(uid) ? ' (has it)' : ''}` : ''))
  return `  explain ${table} ${uid} for ${c.name}: local ${local}; told [${edits.join(', ')}]; pushes: ${pushes.join(' | ')}; requests since: ${requests.join(' | ')}; pages: ${pages.join(' | ')}`
}
