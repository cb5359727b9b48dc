/**
 * The monitor of a fault run: samples of every store taken along the way, judged as they come (I4, I7),
 * with the exceptions a restore makes by design (integration/test/matrix.md, "Checker corrections").
 */
import { decodeCheckpoint } from '@lastword/core'
import { versionOfRecord, type ClientState, type ServerState, type Violation } from './checkers.js'
import type { WireEvent } from './fault-network.js'

/** The rev a checkpoint token names (core's reading of it), or `null`. */
const checkpointRev = (token: string | null): number | null => {
  if (token === null) return null
  try {
    return decodeCheckpoint(token).rev
  } catch {
    return null
  }
}

/**
 * Samples stores during a run and flags, as they happen:
 * - I7: a client's version of a uid going back (also across an eviction and a return), a scope's
 *   checkpoint going back, the server's version of a uid going back or vanishing;
 * - I4: a client exposing a uid live below a tombstone it already held.
 * The one allowed way back is a record re-stamped after the server refused its stamps for drift
 * (SPEC.md, `rewind`), recognised from the wire history.
 */
export class Monitor {
  readonly violations: Violation[] = []
  private readonly seen = new Map<string, Map<string, { version: string; tombstone: string | null }>>()
  private readonly checkpoints = new Map<string, Map<string, number>>()
  private readonly server = new Map<string, string>()
  private readonly flagged = new Set<string>()
  samples = 0
  /** Tombstones may vanish from the server (purged after retention). */
  allowPurge = false
  private readonly serverDeleted = new Set<string>()
  /** Per uid the server holds as a tombstone: that version and the first sample that saw it. */
  private readonly tombstoneSince = new Map<string, { version: string; at: number }>()
  /** Purges since the last judged server sample: their cutoff and the wire position when each was done. */
  private purges: Array<{ cutoff: number; from: number }> = []
  /** The wire position at the last judged server sample. */
  private serverSampledAt = 0
  /** While the server's database is being restored (T20) its state is not judged. */
  private restoring = false

  /** After a restore, checkpoints are no longer judged (below). */
  private restored = false
  /** Per client, the uids its latest sample held. */
  private readonly lastHeld = new Map<string, Set<string>>()

  /**
   * The server's database goes back to a backup (T20): while `restoring`, its samples are not judged;
   * when done, the server's versions start afresh, and the clients' checkpoints are no longer judged —
   * a client keeps its pre-restore checkpoint until its next sync tells it to reconcile, whenever that
   * is, and the new one names a lower rev, by design. A client's own record versions never may go back:
   * they are what the restore is repaired from.
   */
  serverRestoring(restoring: boolean): void {
    this.restoring = restoring
    if (restoring) {
      // What a client no longer held when the database went back (evicted, or a tombstone removed) it
      // cannot offer back: the restored server's older state may come back to it until another client
      // pushes the newer one, by design. Versions of what it held are judged as ever. (Sample the
      // clients first: `lastHeld` is their latest sample.)
      for (const [client, seen] of this.seen) {
        const held = this.lastHeld.get(client)
        for (const uid of [...seen.keys()]) if (held === undefined || !held.has(uid)) seen.delete(uid)
      }
      return
    }
    this.restored = true
    this.server.clear()
    this.serverDeleted.clear()
    this.tombstoneSince.clear()
  }

  /**
   * Retention purged tombstones committed up to `cutoff` (server time; give the earliest the purge may
   * have used). Call when the purge is done.
   */
  purged(cutoff: number): void {
    this.purges.push({ cutoff, from: this.events.length })
  }

  /**
   * Whether the server's older `version` of `uid`, below the tombstone the last sample saw, is a create
   * taken after that tombstone was purged. A push of a uid the server no longer knows that does not carry
   * the `acknowledged` flag is an offline create (SPEC.md R10, R1): the server takes it with its own
   * stamps, whatever came before — e.g. the creator's push, taken once, whose answer was lost, sent again
   * after another client deleted the record and retention purged the tombstone (T20-S-purged 1114176268:
   * the server went tombstone → nothing → the create's version between two samples, so the purge was never
   * seen). Only exactly that is let through: the sampled tombstone was first seen by a sample no later
   * than a purge's cutoff since (so it was committed before it and purged), the server answered `applied`
   * at exactly `version` after that purge, and took no newer write of the uid since the last sample.
   */
  private recreatedAfterPurge(uid: string, version: string): boolean {
    const tombstone = this.tombstoneSince.get(uid)
    if (!this.allowPurge || tombstone === undefined || !this.serverDeleted.has(uid)) return false
    const purge = this.purges.find((p) => tombstone.at <= p.cutoff)
    if (purge === undefined) return false
    const applied = (e: WireEvent): e is Extract<WireEvent, { type: 'outcome' }> => e.type === 'outcome' && e.uid === uid && e.status === 'applied'
    if (this.events.slice(this.serverSampledAt).some((e) => applied(e) && e.record.version > version)) return false
    return this.events.slice(purge.from).some((e) => applied(e) && e.record.version === version)
  }

  private flag(v: Violation): void {
    const key = `${v.invariant}\u0000${v.client ?? ''}\u0000${v.uid ?? v.message}`
    if (this.flagged.has(key)) return
    this.flagged.add(key)
    this.violations.push(v)
  }

  constructor(private readonly events: readonly WireEvent[]) {}

  private restamped(client: string, uid: string): boolean {
    return this.events.some((e) => e.type === 'outcome' && e.client === client && e.uid === uid && e.status === 'rejected' && e.code === 'CLOCK_AHEAD')
  }

  observeClient(client: string, state: ClientState, at: number): void {
    this.samples++
    this.lastHeld.set(client, new Set(state.records.map((r) => r.uid)))
    let seen = this.seen.get(client)
    if (seen === undefined) this.seen.set(client, (seen = new Map()))
    for (const r of state.records) {
      const version = versionOfRecord(r)
      const before = seen.get(r.uid)
      if (before !== undefined && version < before.version && !this.restamped(client, r.uid)) {
        const live = r.deleted_at === null
        if (live && before.tombstone !== null && version < before.tombstone) {
          this.flag({ invariant: 'I4', client, uid: r.uid, message: `${client} exposes ${r.uid} live @${version} after holding its tombstone @${before.tombstone} (t=${at})` })
        } else {
          this.flag({ invariant: 'I7', client, uid: r.uid, message: `${client}: ${r.uid} went back from ${before.version} to ${version} (t=${at})` })
        }
      }
      const tombstone = r.deleted_at !== null ? version : null
      seen.set(r.uid, {
        version: before === undefined || version > before.version ? version : before.version,
        tombstone: tombstone !== null && (before?.tombstone == null || tombstone > before.tombstone) ? tombstone : (before?.tombstone ?? null),
      })
    }
    if (this.restored) return
    let cps = this.checkpoints.get(client)
    if (cps === undefined) this.checkpoints.set(client, (cps = new Map()))
    for (const s of state.scopes) {
      const rev = checkpointRev(s.checkpoint)
      if (rev === null) continue
      const before = cps.get(s.key)
      if (before !== undefined && rev < before) this.flag({ invariant: 'I7', client, uid: s.key, message: `${client}: checkpoint of ${s.key} went back from ${before} to ${rev} (t=${at})` })
      if (before === undefined || rev > before) cps.set(s.key, rev)
    }
  }

  observeServer(state: ServerState, at: number): void {
    if (this.restoring) return
    for (const [uid, before] of this.server) {
      const m = state.meta.get(uid)
      if (m === undefined && this.allowPurge && this.serverDeleted.has(uid)) {
        this.server.delete(uid)
        continue
      }
      if (m === undefined) this.flag({ invariant: 'I7', client: 'server', uid, message: `server: ${uid} vanished (was ${before}) (t=${at})` })
      else if (m.version < before && this.recreatedAfterPurge(uid, m.version)) this.server.set(uid, m.version)
      else if (m.version < before) this.flag({ invariant: 'I7', client: 'server', uid, message: `server: ${uid} went back from ${before} to ${m.version} (t=${at})` })
    }
    for (const [uid, m] of state.meta) {
      const before = this.server.get(uid)
      if (before === undefined || m.version > before) this.server.set(uid, m.version)
      if (m.deleted) this.serverDeleted.add(uid)
      else this.serverDeleted.delete(uid)
      const tombstone = this.tombstoneSince.get(uid)
      if (!m.deleted) this.tombstoneSince.delete(uid)
      else if (tombstone === undefined || tombstone.version !== m.version) this.tombstoneSince.set(uid, { version: m.version, at })
    }
    this.purges = []
    this.serverSampledAt = this.events.length
  }
}
