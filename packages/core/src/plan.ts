/**
 * Sync-plan computation (SPEC.md section 6): the full-reconciliation plan, and the decision an
 * incremental pull or a realtime delivery makes for one changed record.
 */
import { compareStamps, type Stamp } from './stamp.js'

/** What the server holds for a uid, as seen through the requesting client's effective scope. */
export interface ServerEntry {
  version: Stamp
  deleted: boolean
  /** Tables declared `merge: 'field'`: `fieldDigest` of the record's column stamps (F3 changes a record, not its version). */
  digest?: string
  /**
   * Whether the client may hold the record: its row (for a tombstone, its last image) matches the
   * client's filter AND what `authorize` allows.
   */
  inScope: boolean
  /**
   * Whether the principal may read the record at all (its row or last image matches what `authorize`
   * allows, whatever the client's filter). An unreadable record plans exactly like an unknown uid
   * (invariant I13): not even its existence or version reaches the client.
   */
  readable: boolean
}

/** What the client holds for a uid in its scope. */
export interface ClientEntry {
  version: Stamp
  deleted: boolean
  /** Tables declared `merge: 'field'`: `fieldDigest` of the client's column stamps of a live record. */
  digest?: string
  /** Whether the server ever acknowledged this record (trap 3, tombstone retention). */
  acknowledged: boolean
  /**
   * R12: the server can show that an acknowledged record it does not know was purged (or erased, or
   * left the principal's read scope) — the client's knowledge of it is part of the server's own history
   * (`isPurgeProven`, lineage.ts). Without that evidence (a restored backup, another database) the
   * record is offered back, never dropped.
   */
  purgeProven: boolean
}

/** The full-reconciliation plan: what each side must change. Lists are of uids, in uid order. */
export interface SyncPlan {
  /** Server rows the client lacks: send them. */
  addClient: string[]
  /** Server rows newer than the client's: send them. */
  updateClient: string[]
  /** Records the client must delete: tombstoned on the server, or acknowledged once and purged since (R12's evidence). */
  deleteClient: string[]
  /** Records that left the client's scope: remove locally, never delete on the server. */
  evictClient: string[]
  /** Records the server does not know (offline creates, and acknowledged ones it cannot show it purged: R12): the client pushes them. */
  addDatabase: string[]
  /** Client versions newer than the server's: the client pushes them. */
  updateDatabase: string[]
  /** Client tombstones newer than the server's live row: the client pushes them. */
  deleteDatabase: string[]
}

/** The plan with nothing to do. */
export function emptyPlan(): SyncPlan {
  return { addClient: [], updateClient: [], deleteClient: [], evictClient: [], addDatabase: [], updateDatabase: [], deleteDatabase: [] }
}

/** Whether a plan has nothing to do. */
export function isEmptyPlan(plan: SyncPlan): boolean {
  return Object.values(plan).every((list: string[]) => list.length === 0)
}

/**
 * Computes the full-reconciliation plan from the server's entries (every record in the client's
 * effective scope, plus every uid the client sent) and the client's entries. Keyed by `Map`, so uids
 * such as `constructor` or `__proto__` plan like any other.
 */
export function computePlan(server: ReadonlyMap<string, ServerEntry>, client: ReadonlyMap<string, ClientEntry>): SyncPlan {
  const plan = emptyPlan()
  for (const [uid, s] of server) {
    if (client.has(uid)) continue
    if (s.inScope && s.readable && !s.deleted) plan.addClient.push(uid)
  }
  for (const [uid, c] of client) {
    const known = server.get(uid)
    // A record the principal may not read answers as if it never existed (I13): comparing versions with
    // it, or evicting it with its version, would tell the client it exists. One that moved out of the
    // read scope still leaves the client: as purged, if the server ever acknowledged it.
    const s = known?.readable === true ? known : undefined
    if (s === undefined) {
      // Unknown to the server (or unreadable): purged after acknowledgement — only if the server can show
      // it (R12); acknowledged in a history the server does not share (a restored backup, another
      // database): offered back, live or deleted; never acknowledged: an offline create (or created and
      // deleted offline, which nothing needs).
      if (c.acknowledged) (c.purgeProven ? plan.deleteClient : c.deleted ? plan.deleteDatabase : plan.addDatabase).push(uid)
      else (c.deleted ? plan.deleteClient : plan.addDatabase).push(uid)
      continue
    }
    const order = compareStamps(c.version, s.version)
    if (order > 0) {
      // The client's write is newer: it must reach the server (which still authorizes it).
      ;(c.deleted ? plan.deleteDatabase : plan.updateDatabase).push(uid)
    } else if (!s.inScope) {
      plan.evictClient.push(uid)
    } else if (order < 0) {
      ;(s.deleted ? plan.deleteClient : plan.updateClient).push(uid)
    } else if (!s.deleted && !c.deleted && c.digest !== undefined && s.digest !== undefined && c.digest !== s.digest) {
      // A field-merge record at one version with other column stamps: a column write older than the
      // record's version changed it (F3). The client joins the server's state (and pushes what it has more).
      plan.updateClient.push(uid)
    }
  }
  for (const list of Object.values(plan) as string[][]) list.sort()
  return plan
}

/** What an incremental pull (or a realtime delivery) sends a client about one changed record. */
export type ChangeAction = 'row' | 'tombstone' | 'evict' | 'none'

/**
 * Decides what a client learns about one changed record (SPEC.md, `classifyChange`; trap 2, move-outs):
 * `couldHaveHeld` — some image of the record since the client's checkpoint matched its effective
 * scope (the image at the checkpoint, or one it may have received in realtime since); `matchesNow` —
 * the current row (for a tombstone, its last image) matches. Neither → nothing, not even the uid.
 */
export function classifyChange(change: { couldHaveHeld: boolean; matchesNow: boolean; deleted: boolean }): ChangeAction {
  const { couldHaveHeld, matchesNow, deleted } = change
  if (deleted) return couldHaveHeld || matchesNow ? 'tombstone' : 'none'
  if (matchesNow) return 'row'
  return couldHaveHeld ? 'evict' : 'none'
}

/** What a client does with an eviction (or a purge) of a record it holds. */
export type EvictionDecision = 'remove' | 'keep' | 'other-scopes'

/**
 * Decides an eviction on the client (SPEC.md E1–E4). `version` is the one
 * the server found outside the scope (`null`: purged — the server no longer knows the uid).
 *
 * - E1: nothing held, or a dirty copy: keep (a dirty copy is pushed, and the server decides) —
 *   except a purge of a record the server once acknowledged, which goes whatever it holds (trap 3,
 *   tombstone retention: the server forgot it because it was deleted). A dirty record never
 *   acknowledged (say, created and deleted offline) stays and is pushed.
 * - E2: the local copy is older: it is stale (its row says nothing of the record now), so it goes. Any
 *   other scope of the client that holds the newer version gets it on its next pull.
 * - E3: the local copy is newer: the eviction is late; it says nothing about what the client holds.
 * - E4: the same version: the local row is the server's; it stays if another scope of the client
 *   matches it (`other-scopes`), and goes otherwise. On a field-merge table a version does not name one
 *   state (a column write with an older stamp lands without moving it, section 3a): the eviction and the
 *   local copy also give their column-stamp digests, and a copy whose digest differs is a stale state of
 *   that version, so it goes as in E2.
 */
export function decideEviction(
  local: { version: Stamp; deleted: boolean; dirty: boolean; acknowledged: boolean; digest?: string } | undefined,
  version: Stamp | null,
  digest?: string,
): EvictionDecision {
  if (local === undefined) return 'keep'
  if (version === null) return local.acknowledged || !local.dirty ? 'remove' : 'keep'
  if (local.dirty) return 'keep'
  const order = compareStamps(local.version, version)
  if (order < 0) return 'remove'
  if (order > 0) return 'keep'
  if (digest !== undefined && local.digest !== undefined && digest !== local.digest) return 'remove'
  return 'other-scopes'
}

/** What a client does with a realtime event, given the revs its pulls and earlier events covered. */
export type RealtimeDecision = 'apply' | 'skip' | 'skip-and-pull'

/** What a client has covered of a table: revs at or below are reflected in what it holds. */
export interface RealtimeCoverage {
  /** The event's own scope: its checkpoint's rev (or a running full reconciliation's start rev); `null` while its first page is awaited. */
  scope: number | null
  /** The table, across all its scopes and the realtime events applied: at least `scope`. */
  table: number | null
  /**
   * Another scope of the client whose filter overlaps the event's scope has a sync running that awaits
   * its first full-reconciliation page: that page's plan is made from the entries it sent, so a record
   * the event brought into its range meanwhile would be invisible to it.
   */
  overlapAwaitsFirstPage?: boolean
  /**
   * Some of those revs were counted in another history than the event's (lineage.ts): another segment
   * (the server restarted, or was restored from a backup), another database, or an event or token that
   * names none. Revs of two histories do not compare — after a restore, rev 40 of the new segment may
   * be news to a checkpoint at rev 56 of the lost one — so nothing is decided from them.
   */
  otherHistory?: boolean
}

/**
 * Decides a realtime event (SPEC.md E5). Records carry revs that grow with their versions, and a pull
 * up to rev `c` reads a state at least that recent. An event whose records all lie above everything the
 * client has covered of the table is news: `apply`. Otherwise some record of it may be older than what
 * the client holds or removed (through another scope's pull or event — a stale row would come back, a
 * replica's version go back): it is not applied. If its own scope's pull covered it, that is all
 * (`skip`); if not, the scope is pulled (`skip-and-pull`), which brings its news in a consistent state.
 * While the scope's first full-reconciliation page is awaited (`scope` null) — or that of another scope
 * overlapping it (`overlapAwaitsFirstPage`) — nothing is applied either: that page's plan is made from
 * the entries the client sent, so a record an event brought in meanwhile would be invisible to it (and,
 * deleted later, would stay for ever: B11, B13); the pull after it brings the event's news. Revs counted
 * in another history than the event's (`otherHistory`) do not compare: the scope is pulled (B15).
 */
export function decideRealtime(event: { firstRev: number; rev: number }, covered: RealtimeCoverage): RealtimeDecision {
  if (covered.scope === null || covered.otherHistory === true) return 'skip-and-pull'
  const table = covered.table ?? covered.scope
  if (event.firstRev > table && covered.overlapAwaitsFirstPage !== true) return 'apply'
  return event.rev <= covered.scope ? 'skip' : 'skip-and-pull'
}
