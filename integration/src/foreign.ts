/**
 * Row T24 (docs/test-matrix.md): what the writers that are not lastword did, and what must hold of it.
 *
 * Each foreign write is recorded with the rows it changed and, read back after its commit, the stamp the
 * capture gave it (lastword's metadata: the record's version, when the record still shows this write —
 * on PostgreSQL a client's push may land in between; the write is then known to be superseded, its
 * stamp not). From the record:
 * - the writes the server took, as `applied` outcomes for the cluster's I3 (LWW over pushes and foreign
 *   writes alike) and I5 (one logged change per write: nothing missed, nothing twice);
 * - I2: no foreign write whose stamp is known is lost unless a greater stamp superseded it;
 * - the change feed: every rev logged after realtime started was delivered to the sockets (its own, or a
 *   later rev of the same record carrying its state), and no rev twice.
 */
import { isDatabaseStamp, type Stamp } from '@lastword/core'
import { readServerState, versionOfMeta, type Violation } from './checkers.js'
import type { Cluster, ItemRow } from './cluster.js'
import type { PushedRecord, WireEvent } from './fault-network.js'
import type { ForeignConnections } from './foreign-site.js'
import { quote } from './foreign-site.js'

export type Via = 'drizzle' | 'raw' | 'late'

export interface ForeignWrite {
  id: number
  via: Via
  op: 'insert' | 'update' | 'delete'
  uid: string
  /** The title it wrote (each foreign write's is unique), `null` for a delete. */
  title: string | null
  /** Changes the capture must log for it: 1, or 0 when it changed no row (or a late insert deleted in its transaction). */
  logged: number
  /** What the server held right after its commit, when that is this write (its stamp from the database clock). */
  known?: PushedRecord
}

/** The process's own timers, taken before virtual time replaces them: the late transaction's watchdog runs in real time. */
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout

/** Placeholder versions for writes whose stamp was never seen: below every real stamp, one per write. */
const unknownVersion = (id: number): string => `000000000000-0000-foreign-${String(id).padStart(6, '0')}`

export class ForeignRecord {
  readonly writes: ForeignWrite[] = []
  /** Rev → how many times the change feed delivered it. */
  readonly deliveries = new Map<number, number>()
  /** The late transaction's uids (PostgreSQL), with the last write to each inside it. */
  readonly late = new Map<string, ForeignWrite>()
  lateOpen = false
  /** What the late transaction's watchdog found. */
  readonly violations: Violation[] = []
  private watchdog: ReturnType<typeof setTimeout> | null = null
  private next = 0

  constructor(
    readonly cluster: Cluster,
    readonly connections: ForeignConnections,
  ) {}

  /** A fresh uid and title for the next foreign write. */
  fresh(): { id: number; uid: string; title: string } {
    const id = ++this.next
    return { id, uid: `f-${String(id).padStart(4, '0')}`, title: `f:${id}` }
  }

  /**
   * While the late transaction is open (PostgreSQL), every 500 ms of real time: does any other backend
   * wait for a lock it holds? It holds only its own fresh rows, which no one else knows (trap 1: the
   * capture takes nothing of lastword's before commit), so none may. Two probes in a row that find one —
   * the server's writes stalled behind an uncommitted foreign transaction — are a violation: the
   * transaction is rolled back (its writes never happened) so that the run can go on and report it.
   */
  watchLate(): void {
    const late = this.connections.late
    if (late === null || this.watchdog !== null) return
    let strikes = 0
    const tick = (): void => {
      this.watchdog = realSetTimeout(() => {
        if (!this.lateOpen) return void (this.watchdog = null)
        late.blocking().then(
          async (waiting) => {
            strikes = waiting > 0 ? strikes + 1 : 0
            if (strikes < 2) return this.lateOpen ? tick() : void (this.watchdog = null)
            this.watchdog = null
            this.violations.push({
              invariant: 'I9',
              message: `${waiting} other transactions waited over 500 ms for a lock held by an uncommitted foreign transaction (trap 1: the capture takes nothing of lastword's before commit); it was rolled back`,
            })
            this.lateOpen = false
            this.late.clear()
            await late.abort().catch(() => undefined)
          },
          () => tick(),
        )
      }, 500)
    }
    tick()
  }

  stopWatching(): void {
    if (this.watchdog !== null) realClearTimeout(this.watchdog)
    this.watchdog = null
  }

  delivered(changes: ReadonlyArray<{ rev: number }>): void {
    for (const c of changes) this.deliveries.set(c.rev, (this.deliveries.get(c.rev) ?? 0) + 1)
  }

  /** The server's live uids a foreign write may touch: not those of the late transaction (its row locks). */
  async liveTargets(): Promise<string[]> {
    const rows = await this.cluster.vt.await(this.cluster.database.raw(`SELECT uid FROM items ORDER BY uid`))
    return rows.map((r) => String(r['uid'])).filter((uid) => !this.late.has(uid))
  }

  /** The version row: every rev up to it is committed. */
  async currentRev(): Promise<number> {
    return Number((await this.cluster.vt.await(this.cluster.database.raw(`SELECT rev FROM lastword_state WHERE id = 1`)))[0]?.['rev'] ?? 0)
  }

  /**
   * Lets the change feed catch up with the version row: virtual time moves 50 ms at a time (the SQLite
   * poll) with a real pause between (PostgreSQL's NOTIFY arrives in real time, not virtual). `false` once
   * both 5 s of virtual time and 5 s of real time passed without it (the feed's backstop is an hour away).
   */
  async feedCaughtUp(): Promise<boolean> {
    const feed = this.cluster.server.feed
    if (feed === null) return false
    const current = await this.currentRev()
    const { vt } = this.cluster
    const startedAt = { virtual: vt.now(), real: performance.now() }
    while (feed.stats().watermark < current) {
      if (vt.now() - startedAt.virtual >= 5_000 && performance.now() - startedAt.real >= 5_000) return false
      await vt.runFor(50)
      await new Promise((resolve) => realSetTimeout(resolve, 2))
    }
    return true
  }

  /** Uids the server holds as tombstones (a foreign insert of one re-creates the record, SPEC.md R5). */
  async tombstones(): Promise<string[]> {
    const rows = await this.cluster.vt.await(this.cluster.database.raw(`SELECT uid FROM lastword_meta WHERE tbl = 'items' AND deleted_at IS NOT NULL ORDER BY uid`))
    return rows.map((r) => String(r['uid'])).filter((uid) => !this.late.has(uid))
  }

  /** SET list of a patch, with a new title. */
  assignments(title: string, patch: Partial<ItemRow>): string {
    const sets = [`title = ${quote(title)}`]
    if (patch.list !== undefined) sets.push(`list = ${quote(patch.list)}`)
    if (patch.done !== undefined) sets.push(`done = ${this.connections.bool(patch.done)}`)
    if (patch.n !== undefined) sets.push(`n = ${patch.n === null ? 'NULL' : String(patch.n)}`)
    return sets.join(', ')
  }

  insertSql(uid: string, row: ItemRow): string {
    const n = row.n === null ? 'NULL' : String(row.n)
    return `INSERT INTO items (uid, list, title, done, n) VALUES (${quote(uid)}, ${quote(row.list)}, ${quote(row.title)}, ${this.connections.bool(row.done)}, ${n})`
  }

  /** Runs one committed foreign write and records it with what the server holds after it. */
  async write(via: 'drizzle' | 'raw', op: ForeignWrite['op'], uid: string, title: string | null, id: number, run: () => Promise<number>): Promise<void> {
    const changed = await this.cluster.vt.await(run(), 60_000, `foreign ${op} (${via})`)
    const write: ForeignWrite = { id, via, op, uid, title, logged: changed > 0 ? 1 : 0 }
    this.writes.push(write)
    if (changed > 0) await this.readBack([write])
  }

  /** Reads back what the server holds for each write's uid; where it is that write, its stamp is known. */
  async readBack(writes: ForeignWrite[]): Promise<void> {
    if (writes.length === 0) return
    const uids = writes.map((w) => quote(w.uid)).join(', ')
    const rows = await this.cluster.vt.await(
      this.cluster.database.raw(
        `SELECT m.uid AS m_uid, m.created_at, m.updated_at, m.deleted_at, i.list, i.title, i.done, i.n FROM lastword_meta m LEFT JOIN items i ON i.uid = m.uid WHERE m.tbl = 'items' AND m.uid IN (${uids})`,
      ),
    )
    for (const w of writes) {
      const r = rows.find((x) => x['m_uid'] === w.uid)
      if (r === undefined) continue
      const deleted = r['deleted_at'] !== null
      const version = versionOfMeta({ created_at: String(r['created_at']), updated_at: String(r['updated_at']), deleted_at: deleted ? String(r['deleted_at']) : null })
      // This write's state: its unique title, or (a delete) a tombstone stamped by the database.
      const mine = w.title === null ? deleted && isDatabaseStamp(version as Stamp) : !deleted && r['title'] === w.title
      if (!mine) continue
      const row = deleted ? null : { list: r['list'], title: r['title'], done: r['done'] === true || r['done'] === 1, n: r['n'] ?? null }
      w.known = { uid: w.uid, version, deleted, row }
    }
  }

  /** The writes the server took, as `applied` outcomes for the cluster's checks (I3, I5). */
  outcomes(): WireEvent[] {
    const out: WireEvent[] = []
    for (const w of this.writes) {
      if (w.logged === 0) continue
      const record = w.known ?? { uid: w.uid, version: unknownVersion(w.id), deleted: w.op === 'delete', row: null }
      out.push({ type: 'outcome', client: `foreign-${w.via}`, request: w.id, at: 0, uid: w.uid, status: 'applied', record })
    }
    return out
  }

  /**
   * I2 for foreign writes (stamp known: never lost unless a greater stamp superseded it), every write's
   * stamp a database stamp, and the change feed's "nothing missed, nothing twice" since realtime started.
   */
  async check(): Promise<Violation[]> {
    const out: Violation[] = [...this.violations]
    const cluster = this.cluster
    const server = await readServerState((q, p) => cluster.database.raw(q, p), 'items')
    for (const w of this.writes) {
      if (w.known === undefined) continue
      if (!isDatabaseStamp(w.known.version as Stamp)) out.push({ invariant: 'I2', uid: w.uid, message: `foreign ${w.op} (${w.via}) of ${w.uid} stored with ${w.known.version}, not a database stamp` })
      const m = server.meta.get(w.uid)
      if (m === undefined || m.version < w.known.version) {
        out.push({ invariant: 'I2', uid: w.uid, message: `foreign ${w.op} (${w.via}) ${w.uid}@${w.known.version} lost: the server holds ${m?.version ?? 'nothing'}` })
      }
    }
    const feed = cluster.server.feed
    if (process.env['LW_VERBOSE'] === '1') {
      const by = (f: (w: ForeignWrite) => boolean): number => this.writes.filter(f).length
      console.log(
        `T24 foreign writes: ${this.writes.length} (drizzle ${by((w) => w.via === 'drizzle')}, raw ${by((w) => w.via === 'raw')}, late ${by((w) => w.via === 'late')}; changed nothing ${by((w) => w.logged === 0)}; stamp known ${by((w) => w.known !== undefined)}); feed ${JSON.stringify(feed?.stats())}`,
      )
    }
    if (feed === null) return [...out, { invariant: 'I5', message: 'the server runs without its change feed' }]
    const caughtUp = await this.feedCaughtUp()
    const current = await this.currentRev()
    const since = feed.stats().since ?? 0
    if (!caughtUp) out.push({ invariant: 'I14', message: `the change feed delivered up to rev ${feed.stats().watermark}, the log holds ${current} (feed ${JSON.stringify(feed.stats())})` })
    for (const [rev, times] of this.deliveries) if (times > 1) out.push({ invariant: 'I5', message: `the change feed delivered rev ${rev} ${times} times` })
    const logged = await cluster.vt.await(cluster.database.raw(`SELECT rev, uid FROM lastword_changes WHERE tbl = 'items' AND rev > ${since} ORDER BY rev`))
    const deliveredByUid = new Map<string, number>()
    for (const r of logged) {
      const rev = Number(r['rev'])
      if (this.deliveries.has(rev)) deliveredByUid.set(String(r['uid']), Math.max(deliveredByUid.get(String(r['uid'])) ?? 0, rev))
    }
    for (const r of logged) {
      const rev = Number(r['rev'])
      const uid = String(r['uid'])
      // Delivered itself, or a later rev of its record (read from the log with the record's latest state).
      if (!this.deliveries.has(rev) && (deliveredByUid.get(uid) ?? 0) < rev) {
        out.push({ invariant: 'I5', uid, message: `rev ${rev} (${uid}) was logged after realtime started (rev ${since}) but the change feed never delivered it (feed ${JSON.stringify(feed.stats())})` })
      }
    }
    return out
  }
}
