/**
 * Row T24 — foreign writers in T01's model-based campaign (model.ts): T01's commands for the real clients,
 * mixed with writes that never went through lastword —
 * - the app's plain Drizzle insert, update, delete on the server's own database handle,
 * - raw SQL on a second connection,
 * - (PostgreSQL) a transaction on a third connection, opened, written, held open across other commands
 *   (client writes, pushes, pulls) and committed late (trap 1),
 * - a foreign write racing a client's push of the same uid (the conflict rule: a foreign write is a
 *   server-stamped write at its commit time).
 * The server composes its change feed on virtual time (the SQLite poll every 50 ms, PostgreSQL's NOTIFY;
 * the backstop an hour away): foreign writes reach the clients by realtime and by pull, the product's
 * own paths. After healing: I1 (every replica converges to the server's rows), I2, I3 and I5 over pushes
 * and foreign writes together (cluster-check.ts), then the feed's "nothing missed, nothing twice" and a
 * last burst of foreign writes that must reach every client by realtime alone (foreign.ts).
 *
 * fast-check prints its seed and path on failure; `FC_SEED` (and `FC_PATH`) replay it, `RUNS` scales.
 * Replays are close, not exact: the database clock (real time) stamps foreign writes.
 */
import fc from 'fast-check'
import { matches, validateWhere } from '@lastword/core'
import type { Violation } from './checkers.js'
import type { ItemRow } from './cluster.js'
import { CLIENT_COMMANDS, after, clientArb, clientOf, patchArb, rowArb, waitArb, type Cmd, type ModelVariant, type Real, type VariantRun } from './model.js'
import { ForeignRecord, type Via } from './foreign.js'
import type { ForeignSite } from './foreign-site.js'
import { LISTS, SCOPES } from './schema.js'

const records = new WeakMap<Real['cluster'], ForeignRecord>()

function recordOf(real: Real): ForeignRecord {
  const record = records.get(real.cluster)
  if (record === undefined) throw new Error('no foreign writers on this cluster')
  return record
}

type Direct = Exclude<Via, 'late'>

/** A foreign write: an insert (a fresh uid), a re-create (an insert of the tombstoned `target`), an update with a new title, or a delete. */
async function foreignWrite(record: ForeignRecord, via: Direct, op: 'insert' | 'recreate' | 'update' | 'delete', target: string | null, row: ItemRow, patch: Partial<ItemRow>): Promise<void> {
  const { id, uid: fresh, title } = record.fresh()
  const c = record.connections
  if (op === 'insert' || op === 'recreate') {
    const freshUid = op === 'recreate' && target !== null ? target : fresh
    const full = { ...row, title }
    await record.write(via, 'insert', freshUid, title, id, () => (via === 'drizzle' ? c.drizzle.insert({ uid: freshUid, ...full }) : c.raw(record.insertSql(freshUid, full))))
  } else if (target !== null && op === 'update') {
    await record.write(via, 'update', target, title, id, () => (via === 'drizzle' ? c.drizzle.update(target, { ...patch, title }) : c.raw(`UPDATE items SET ${record.assignments(title, patch)} WHERE uid = '${target}'`)))
  } else if (target !== null) {
    await record.write(via, 'delete', target, null, id, () => (via === 'drizzle' ? c.drizzle.delete(target) : c.raw(`DELETE FROM items WHERE uid = '${target}'`)))
  }
}

class ForeignCmd implements Cmd {
  constructor(
    readonly via: Direct,
    readonly op: 'insert' | 'recreate' | 'update' | 'delete',
    readonly pick: number,
    readonly row: ItemRow,
    readonly patch: Partial<ItemRow>,
    readonly waitMs: number,
  ) {}
  check = (): boolean => true
  async run(_m: unknown, real: Real): Promise<void> {
    const record = recordOf(real)
    const targets = this.op === 'insert' ? [] : this.op === 'recreate' ? await record.tombstones() : await record.liveTargets()
    if (this.op !== 'insert' && targets.length === 0) return
    await foreignWrite(record, this.via, this.op, targets[this.pick % Math.max(1, targets.length)] ?? null, this.row, this.patch)
    await after(real, this.waitMs)
  }
  toString = (): string => `foreign-${this.op}(${this.via}, #${this.pick}${this.op === 'update' ? `, ${JSON.stringify(this.patch)}` : this.op === 'insert' || this.op === 'recreate' ? `, ${JSON.stringify(this.row)}` : ''}) +${this.waitMs}ms`
}

/** A client writes a uid it holds and syncs; `delayMs` into its push, a foreign writer writes the same uid. */
class RaceCmd implements Cmd {
  constructor(
    readonly client: number,
    readonly pick: number,
    readonly via: Direct,
    readonly op: 'update' | 'delete',
    readonly patch: Partial<ItemRow>,
    readonly delayMs: number,
  ) {}
  check = (): boolean => true
  async run(_m: unknown, real: Real): Promise<void> {
    const record = recordOf(real)
    const c = clientOf(real, this.client)
    const rows = await real.cluster.vt.await(c.items.findMany({}))
    const uid = rows.map((r) => r.uid).filter((u) => !record.late.has(u))[this.pick % Math.max(1, rows.length)]
    if (uid === undefined) return
    await real.cluster.vt.await(real.cluster.update(c, uid, { ...this.patch }))
    const syncing = real.cluster.sync(c)
    if (this.delayMs > 0) await real.cluster.vt.runFor(this.delayMs)
    await foreignWrite(record, this.via, this.op, uid, { list: 'a', title: '', done: false, n: null }, this.patch)
    await real.cluster.vt.await(syncing, 120_000, `${c.name}.sync()`)
    await after(real, 0)
  }
  toString = (): string => `race(c${this.client}, #${this.pick}, foreign-${this.op} ${this.via}, ${JSON.stringify(this.patch)}, after ${this.delayMs}ms)`
}

/** (PostgreSQL) The late transaction: opened if need be, fresh rows inserted, held open. */
class LateInsertCmd implements Cmd {
  constructor(readonly rows: ItemRow[]) {}
  check = (): boolean => true
  async run(_m: unknown, real: Real): Promise<void> {
    const record = recordOf(real)
    const late = record.connections.late
    if (late === null) return
    const vt = real.cluster.vt
    if (!record.lateOpen) {
      await vt.await(late.begin())
      record.lateOpen = true
      record.watchLate()
    }
    for (const row of this.rows) {
      const { id, uid, title } = record.fresh()
      await vt.await(late.exec(record.insertSql(uid, { ...row, title })))
      record.late.set(uid, { id, via: 'late', op: 'insert', uid, title, logged: 1 })
    }
    await after(real, 0)
  }
  toString = (): string => `late-insert(${JSON.stringify(this.rows)})`
}

/** (PostgreSQL) Inside the late transaction: an update or a delete of one of its own rows. */
class LateEditCmd implements Cmd {
  constructor(
    readonly pick: number,
    readonly patch: Partial<ItemRow> | null,
  ) {}
  check = (): boolean => true
  async run(_m: unknown, real: Real): Promise<void> {
    const record = recordOf(real)
    const late = record.connections.late
    const live = [...record.late.values()].filter((w) => w.op !== 'delete')
    const target = live[this.pick % Math.max(1, live.length)]
    if (late === null || !record.lateOpen || target === undefined) return
    const { id, title } = record.fresh()
    if (this.patch === null) {
      await real.cluster.vt.await(late.exec(`DELETE FROM items WHERE uid = '${target.uid}'`))
      // Created and deleted within one transaction: the capture logs nothing of it.
      record.late.set(target.uid, { ...target, id, op: 'delete', title: null, logged: 0 })
    } else {
      await real.cluster.vt.await(late.exec(`UPDATE items SET ${record.assignments(title, this.patch)} WHERE uid = '${target.uid}'`))
      record.late.set(target.uid, { ...target, id, op: 'update', title })
    }
    await after(real, 0)
  }
  toString = (): string => `late-${this.patch === null ? 'delete' : `update(${JSON.stringify(this.patch)})`}(#${this.pick})`
}

/** (PostgreSQL) The late transaction commits: one logged change per record it left, with revs after every rev handed out meanwhile. */
async function commitLate(real: Real): Promise<void> {
  const record = recordOf(real)
  const late = record.connections.late
  if (late === null || !record.lateOpen) return
  record.lateOpen = false
  record.stopWatching()
  await real.cluster.vt.await(late.commit())
  const writes = [...record.late.values()]
  record.late.clear()
  record.writes.push(...writes)
  await record.readBack(writes.filter((w) => w.logged > 0))
}

class LateCommitCmd implements Cmd {
  constructor(readonly waitMs: number) {}
  check = (): boolean => true
  async run(_m: unknown, real: Real): Promise<void> {
    await commitLate(real)
    await after(real, this.waitMs)
  }
  toString = (): string => `late-commit +${this.waitMs}ms`
}

const viaArb = fc.constantFrom<Direct>('drizzle', 'raw')

/** T01's commands and the foreign writers'; `late`: PostgreSQL's held transaction too. */
export function foreignCommands(late: boolean): fc.Arbitrary<Iterable<Cmd>> {
  const foreign: Array<fc.Arbitrary<Cmd>> = [
    fc.tuple(viaArb, rowArb, waitArb).map(([via, row, w]) => new ForeignCmd(via, 'insert', 0, row, {}, w)),
    fc.tuple(viaArb, fc.nat(), patchArb, waitArb).map(([via, p, patch, w]) => new ForeignCmd(via, 'update', p, { list: 'a', title: '', done: false, n: null }, patch, w)),
    fc.tuple(viaArb, fc.nat(), patchArb, waitArb).map(([via, p, patch, w]) => new ForeignCmd(via, 'update', p, { list: 'a', title: '', done: false, n: null }, patch, w)),
    fc.tuple(viaArb, fc.nat(), waitArb).map(([via, p, w]) => new ForeignCmd(via, 'delete', p, { list: 'a', title: '', done: false, n: null }, {}, w)),
    fc.tuple(viaArb, fc.nat(), rowArb, waitArb).map(([via, p, row, w]) => new ForeignCmd(via, 'recreate', p, row, {}, w)),
    fc.tuple(clientArb, fc.nat(), viaArb, fc.constantFrom<'update' | 'delete'>('update', 'update', 'delete'), patchArb, fc.integer({ min: 0, max: 40 })).map(
      ([c, p, via, op, patch, d]) => new RaceCmd(c, p, via, op, patch, d),
    ),
  ]
  if (late) {
    foreign.push(
      fc.array(rowArb, { minLength: 1, maxLength: 2 }).map((rows) => new LateInsertCmd(rows)),
      fc.tuple(fc.nat(), fc.option(patchArb, { nil: null, freq: 4 })).map(([p, patch]) => new LateEditCmd(p, patch)),
      waitArb.map((w) => new LateCommitCmd(w)),
    )
  }
  return fc.commands([...CLIENT_COMMANDS, ...foreign], { maxCommands: 30, size: 'max' })
}

/**
 * The last check (I14): with every client online and synced, a Drizzle insert, a raw update and a
 * delete, one at a time with only virtual time between them: each client whose scopes the record's row
 * matched before or after the write must be told by realtime — an event naming the uid (a row, a
 * tombstone or an eviction). The client may still pull a scope an event could not be applied to (E5);
 * the cluster's I1 then compares every replica with the server.
 */
async function realtimeBurst(real: Real, record: ForeignRecord): Promise<Violation[]> {
  const { cluster } = real
  const from = cluster.network.events.length
  const rowOf = async (uid: string): Promise<Record<string, unknown> | null> => {
    const r = (await cluster.vt.await(cluster.database.raw(`SELECT uid, list, title, done, n FROM items WHERE uid = '${uid}'`)))[0]
    return r === undefined ? null : { ...r, done: r['done'] === true || r['done'] === 1 }
  }
  const expected: Array<{ client: string; uid: string; what: string }> = []
  const told = async (what: string, before: Record<string, unknown> | null, write: () => Promise<string | null>): Promise<void> => {
    const uid = await write()
    if (uid === null) return
    const rows = [before, await rowOf(uid)].filter((r): r is Record<string, unknown> => r !== null)
    for (const c of cluster.clients) {
      if (c.closed) continue
      const scopes = [...c.subscriptions.keys()].map((s) => validateWhere(SCOPES[s] as Record<string, unknown>, cluster.descriptor))
      if (scopes.some((scope) => rows.some((row) => matches(row, scope)))) expected.push({ client: c.name, uid, what })
    }
    // The feed hears of the commit (the poll, the NOTIFY), then the events cross the network.
    await record.feedCaughtUp()
    await cluster.vt.runFor(500)
  }
  const row = { list: cluster.rng.pick(LISTS), title: '', done: cluster.rng.chance(0.5), n: 1 }
  await told('a Drizzle insert', null, async () => {
    await foreignWrite(record, 'drizzle', 'insert', null, row, {})
    return record.writes.at(-1)?.uid ?? null
  })
  const targets = await record.liveTargets()
  const updated = targets.length === 0 ? undefined : targets[cluster.rng.int(targets.length)]
  if (updated !== undefined) {
    await told('a raw update', await rowOf(updated), async () => (await foreignWrite(record, 'raw', 'update', updated, row, { done: cluster.rng.chance(0.5), list: cluster.rng.pick(LISTS) }), updated))
  }
  const others = targets.filter((uid) => uid !== updated)
  const deleted = others.length === 0 ? undefined : others[cluster.rng.int(others.length)]
  if (deleted !== undefined) {
    const via = cluster.rng.chance(0.5) ? 'raw' : 'drizzle'
    await told(`a ${via} delete`, await rowOf(deleted), async () => (await foreignWrite(record, via, 'delete', deleted, row, {}), deleted))
  }
  const events = cluster.network.events.slice(from)
  const out: Violation[] = []
  for (const { client, uid, what } of expected) {
    const got = events.some((e) => e.type === 'realtime' && e.client === client && (e.rows.includes(uid) || e.tombstones.includes(uid) || e.evict.includes(uid)))
    if (!got) out.push({ invariant: 'I14', uid, client, message: `${client} was never told of ${what} of ${uid} by realtime (feed ${JSON.stringify(cluster.server.feed?.stats())})` })
  }
  return out
}

/** Row T24's variant of the model-based campaign on a {@link ForeignSite}. */
export function foreignVariant(site: ForeignSite, late: boolean): ModelVariant {
  return {
    label: 'T24',
    commands: foreignCommands(late),
    run(): VariantRun {
      let record: ForeignRecord | null = null
      const deliveries: Array<ReadonlyArray<{ rev: number }>> = []
      return {
        cluster: {
          // Virtual time starts at the real time: the database clock stamps foreign writes.
          startAt: Date.now(),
          server: {
            feed: {
              // The feed's seam, on virtual time: the faked setTimeout and Date once the cluster installed it.
              timers: { now: () => Date.now(), set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
              pollIntervalMs: 50,
              checkIntervalMs: 3_600_000,
            },
            onFeedDelivery: (changes) => (record === null ? deliveries.push(changes) : record.delivered(changes)),
          },
        },
        async started(real) {
          record = new ForeignRecord(real.cluster, await real.cluster.vt.await(site.connect(real.cluster.database)))
          for (const d of deliveries.splice(0)) record.delivered(d)
          records.set(real.cluster, record)
        },
        async beforeHeal(real) {
          await commitLate(real)
        },
        afterHeal: async (real) => (record === null ? [] : realtimeBurst(real, record)),
        checkOptions: async () => ({ foreign: record?.outcomes() ?? [] }),
        async check() {
          return record === null ? [] : record.check()
        },
        async close() {
          const open = record
          record = null
          if (open !== null) {
            open.stopWatching()
            await open.connections.late?.abort().catch(() => undefined)
            await open.connections.close()
          }
        },
      }
    },
  }
}
