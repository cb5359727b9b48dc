/**
 * Randomized campaigns at the engine's level (no clients), where the matrix asks for more runs than the
 * engine suite's deterministic cases (packages/server/test/engine/suite.ts):
 *
 * - T09: 10,000 sequences of creates, updates, deletes, stale re-creates and stale edits per uid, each
 *   record delivered once or twice, all shuffled together: the final state of every uid is its greatest
 *   version; no state ever goes below a version the server held before (I4, I7).
 * - T12: late commits on PostgreSQL — a push stops inside its transaction (before or after taking its
 *   rev) while another writes and a puller on another engine pulls; nothing is ever missed by the
 *   incremental pulls, and the row counts how often the window was really reached.
 * - T13: 20 connections push random stamps to the same 10 uids at once: the greatest stamp wins, no
 *   acknowledged write is lost (I2, I3) — through the real transport (in-process connections).
 * - T14: a sync holding the overlap lock of its scope: a second sync of an overlapping scope waits, a
 *   disjoint one runs to its end meanwhile.
 */
import { LastwordError, PROTOCOL_VERSION, decodeCheckpoint, formatStamp, scopesOverlap, validateWhere, versionOf, type FullCursor, type Scope, type SyncPage, type SyncRequest, type WireRecord } from '@lastword/core'
import type { Principal } from '@lastword/server'
import type { Violation } from './checkers.js'
import type { TestDatabase } from './databases.js'
import { createRng, type Rng } from './random.js'
import { LISTS, SCOPES } from './schema.js'
import { connectRaw, createInMemoryServer, type InMemoryServer } from './server-kit.js'

const NODES = ['00000000000000a1', '00000000000000b2', '00000000000000c3']
const stamp = (ms: number, counter: number, node: string): string => formatStamp({ ms, counter, node })

function row(rng: Rng, title: string): Record<string, unknown> {
  return { list: rng.pick(LISTS), title, done: rng.chance(0.5), n: rng.chance(0.2) ? null : rng.int(10) }
}

/** T09. */
export async function runTombstoneSequences(database: TestDatabase, seed: number, sequences: number): Promise<Violation[]> {
  const rng = createRng(seed)
  const server = await createInMemoryServer({ database })
  const violations: Violation[] = []
  try {
    const service = server.engine.service('items')
    const model = new Map<string, WireRecord>()
    const all: WireRecord[] = []
    let counter = 1
    for (let s = 0; s < sequences; s++) {
      const uid = `${seed.toString(16)}-${s.toString(36)}`
      const node = rng.pick(NODES)
      const born = stamp(1, counter++ % 0xffff, node)
      for (let k = rng.between(2, 6); k > 0; k--) {
        // ms in a narrow range: stale edits, stale re-creates and later updates interleave by stamp.
        const version = stamp(rng.between(2, 40), counter++ % 0xffff, rng.pick(NODES))
        if (version <= born) continue
        const record: WireRecord = rng.chance(0.35)
          ? { uid, created_at: born, updated_at: born, deleted_at: version, row: null }
          : { uid, created_at: born, updated_at: version, deleted_at: null, row: row(rng, `${uid}:${k}`) }
        all.push(record)
        const m = model.get(uid)
        if (m === undefined || versionOf(record as never) > versionOf(m as never)) model.set(uid, record)
      }
    }
    // Each record once or twice, in any order, in batches.
    const deliveries = all.flatMap((r) => (rng.chance(0.3) ? [r, r] : [r])).map((r) => ({ r, k: rng.next() }))
    deliveries.sort((a, b) => a.k - b.k)
    const held = new Map<string, string>()
    for (let i = 0; i < deliveries.length; i += 400) {
      const batch = deliveries.slice(i, i + 400).map((d) => d.r)
      const outcomes = await service.push(batch)
      for (const o of outcomes) if (o.status === 'rejected') violations.push({ invariant: 'I3', uid: o.uid, message: `a valid record was refused: ${JSON.stringify(o.error)}` })
      // I4/I7: no uid goes below what it held (a tombstone never gives way to an older write).
      for (const m of await database.raw(`SELECT uid, created_at, updated_at, deleted_at FROM lastword_meta WHERE tbl = 'items'`)) {
        const uid = String(m['uid'])
        const version = (m['deleted_at'] as string | null) ?? String(m['updated_at'])
        const before = held.get(uid)
        if (before !== undefined && version < before) violations.push({ invariant: 'I4', uid, message: `${uid} went back from ${before} to ${version}` })
        held.set(uid, version)
      }
      if (violations.length > 20) return violations
    }
    const rows = new Map((await service.findMany({})).map((r) => [r.uid, r]))
    for (const [uid, want] of model) {
      const version = held.get(uid)
      if (version !== versionOf(want as never)) violations.push({ invariant: 'I3', uid, message: `${uid}: server ${version ?? 'none'}, greatest ${versionOf(want as never)}` })
      const got = rows.get(uid)
      if (want.deleted_at !== null && got !== undefined) violations.push({ invariant: 'I4', uid, message: `${uid}: live on the server although its greatest version is a delete` })
      if (want.deleted_at === null && got?.['title'] !== want.row?.['title']) violations.push({ invariant: 'I3', uid, message: `${uid}: title ${String(got?.['title'])}, expected ${String(want.row?.['title'])}` })
      if (violations.length > 20) break
    }
    return violations
  } finally {
    await server.close()
  }
}

/** T13: one round of 20 concurrent pushers on the same 10 uids. */
export async function runContention(server: InMemoryServer, seed: number, round: number): Promise<Violation[]> {
  const rng = createRng(seed)
  const violations: Violation[] = []
  const uids = Array.from({ length: 10 }, (_, i) => `r${round}-${seed.toString(36)}-u${i}`)
  const conns = await Promise.all(
    Array.from({ length: 20 }, (_, p) => connectRaw(server, { protocolVersion: PROTOCOL_VERSION, clientId: (0x1000 + p + round * 64).toString(16).padStart(16, '0') })),
  )
  const acked: WireRecord[] = []
  try {
    await Promise.all(
      conns.map(async (conn, p) => {
        const node = (p + 1).toString(16).padStart(16, '0')
        const records: WireRecord[] = uids.map((uid) => {
          const ms = Date.now() - rng.between(1, 5_000)
          const created = stamp(ms - 10_000, 0, node)
          return rng.chance(0.2)
            ? { uid, created_at: created, updated_at: created, deleted_at: stamp(ms, rng.int(100), node), row: null }
            : { uid, created_at: created, updated_at: stamp(ms, rng.int(100), node), deleted_at: null, row: row(rng, `p${p}`) }
        })
        // Disjoint scopes per pusher (so the overlap lock lets them run at once; they meet on the rows).
        const request: SyncRequest = { table: 'items', where: { n: p }, checkpoint: null, push: records, full: { cursor: null, entries: [], complete: true } }
        for (let attempt = 0; attempt < 20; attempt++) {
          const reply = (await conn.request('lw:sync', request)) as { ok: boolean; data?: SyncPage; error?: { code: string } }
          if (reply.ok) {
            for (const o of reply.data?.outcomes ?? []) {
              if (o.status === 'applied') acked.push(records.find((r) => r.uid === o.uid) as WireRecord)
              if (o.status === 'rejected') violations.push({ invariant: 'I2', uid: o.uid, message: `refused: ${JSON.stringify(o.error)}` })
            }
            return
          }
          if (reply.error?.code !== 'TRANSIENT' && reply.error?.code !== 'RATE_LIMITED') {
            violations.push({ invariant: 'I2', message: `pusher ${p}: ${JSON.stringify(reply.error)}` })
            return
          }
        }
        violations.push({ invariant: 'I9', message: `pusher ${p}: still TRANSIENT after 20 attempts` })
      }),
    )
    const service = server.engine.service('items')
    const meta = new Map(
      (await server.database.raw(`SELECT uid, updated_at, deleted_at FROM lastword_meta WHERE tbl = 'items'`)).map((m) => [String(m['uid']), (m['deleted_at'] as string | null) ?? String(m['updated_at'])]),
    )
    for (const uid of uids) {
      const writes = acked.filter((r) => r.uid === uid)
      if (writes.length === 0) continue
      const top = writes.reduce((a, b) => (versionOf(b as never) > versionOf(a as never) ? b : a))
      const version = meta.get(uid)
      for (const w of writes) if (version === undefined || version < versionOf(w as never)) violations.push({ invariant: 'I2', uid, message: `acknowledged ${versionOf(w as never)} lost: the server holds ${version ?? 'nothing'}` })
      if (version !== versionOf(top as never)) violations.push({ invariant: 'I3', uid, message: `server ${version ?? 'none'} ≠ greatest acknowledged ${versionOf(top as never)}` })
      const live = await service.findUnique(uid)
      if ((top.deleted_at === null) !== (live !== null) || (live !== null && live['title'] !== top.row?.['title'])) {
        violations.push({ invariant: 'I3', uid, message: `row ${JSON.stringify(live)} ≠ greatest write ${JSON.stringify(top.row)}` })
      }
    }
    return violations
  } finally {
    for (const c of conns) c.close()
  }
}

/** T14: overlapping scopes serialised, disjoint ones in parallel (one run: a random pair of scopes). */
export async function runScopeLocks(seed: number, open: () => Promise<TestDatabase>): Promise<Violation[]> {
  const rng = createRng(seed)
  const database = await open()
  let gate: Promise<void> | null = null
  let release = (): void => undefined
  const events: Array<{ type: string; id: number; scope: Scope }> = []
  let holderId: number | null = null
  const server = await createInMemoryServer({
    database,
    hooks: {
      onScopeLock: async (e: { type: string; id: number; scope: Scope }) => {
        events.push(e)
        if (e.type === 'acquire' && holderId === null && gate !== null) {
          holderId = e.id
          await gate
        }
      },
    } as never,
  })
  const violations: Violation[] = []
  try {
    const descriptor = server.engine.tables.find((t) => t.name === 'items')
    if (descriptor === undefined) throw new Error('no items')
    const extra: Array<Record<string, unknown>> = [{ n: 1 }, { n: { gte: 3, lt: 6 } }, { n: { gt: 7 } }, { list: 'c', n: 2 }, { done: false, list: 'b' }, { n: null }]
    const pool = [...SCOPES, ...extra]
    const first = rng.pick(pool)
    const second = rng.pick(pool)
    const overlap = scopesOverlap(validateWhere(first, descriptor), validateWhere(second, descriptor))
    const request = (where: Record<string, unknown>): SyncRequest => ({ table: 'items', where, checkpoint: null, push: [], full: { cursor: null, entries: [], complete: true } })
    gate = new Promise<void>((resolve) => (release = resolve))
    const ctx = { principal: { id: 'p' } as Principal }
    const holding = server.engine.sync(ctx, request(first))
    for (let i = 0; i < 20 && holderId === null; i++) await new Promise((r) => setImmediate(r))
    if (holderId === null) violations.push({ invariant: 'I10', message: 'the first sync never took its lock' })
    gate = null
    let done = false
    const other = server.engine.sync(ctx, request(second)).then(() => {
      done = true
    })
    for (let i = 0; i < 50 && !done; i++) await new Promise((r) => setImmediate(r))
    const waited = events.some((e) => e.type === 'wait' && e.id !== holderId)
    if (overlap && done) violations.push({ invariant: 'I10', message: `${JSON.stringify(second)} overlaps ${JSON.stringify(first)} yet ran while the first held its lock` })
    if (!overlap && (!done || waited)) violations.push({ invariant: 'I10', message: `${JSON.stringify(second)} is disjoint from ${JSON.stringify(first)} yet ${waited ? 'waited' : 'did not finish'} while the first held its lock` })
    release()
    await Promise.all([holding, other])
    return violations
  } catch (error) {
    release()
    if (error instanceof LastwordError) violations.push({ invariant: 'I10', message: `sync failed: ${error.code} ${error.message}` })
    else throw error
    return violations
  } finally {
    await server.close()
    await database.close()
  }
}

/**
 * T12 (PostgreSQL): one iteration of a late commit, driven by the writer engine's hooks so a seed
 * replays it. Writes go through the services (app-side writes: no overlap lock, no table lock), and
 * the puller is ANOTHER engine on the same database, so nothing but the database itself orders the
 * puller's reads against the writers' commits — the reach of database-level capture. Push A stops
 * inside its transaction:
 *
 * - `after` its rev: the puller pulls to the end while A holds that rev uncommitted (the trap-1
 *   window), and B writes meanwhile (it must wait for A's rev to commit, or take a rev above A's);
 * - `before` its rev: B commits, the puller pulls B, then A takes its rev and commits — a late commit.
 *
 * Then A (and B) commit and the puller pulls again: every record must have come through incremental
 * pulls (I1). The puller keeps its checkpoint across iterations and its cursor across pages; a page
 * loop that ends without a final page is a violation.
 */
export async function runLateCommit(writer: InMemoryServer, puller: InMemoryServer, control: LateCommitControl, seed: number, iteration: number, state: PullerState): Promise<Violation[]> {
  const rng = createRng(seed + iteration)
  const violations: Violation[] = []
  const now = Date.now()
  const make = (tag: string): WireRecord => {
    const s = stamp(now, iteration % 0xffff, NODES[0] as string)
    return { uid: `it${iteration}-${seed.toString(36)}-${tag}`, created_at: s, updated_at: s, deleted_at: null, row: row(rng, tag) }
  }
  const a = make('a')
  const b = make('b')
  const point = rng.chance(0.5) ? 'before' : 'after'
  const service = writer.engine.service('items')
  const stall = control.stall(a.uid, point)
  const pushA = service.push([a])
  const aRev = await stall.reached
  const bAt = control.watch(b.uid)
  const pushB = service.push([b])
  let bCommitted = false
  void pushB.then(() => (bCommitted = true), () => undefined)
  // B gets as far as it can: committed, or waiting on a lock (A's rev) once it has written its rows.
  await bAt
  for (let i = 0; i < 200 && !bCommitted && !(await waitingOnALock(writer)); i++) await new Promise((r) => setTimeout(r, 1))
  if (point === 'before') await pushB
  const read = await pullToEnd(puller, state)
  if (read.violation !== null) violations.push(read.violation)
  if (point === 'after' && aRev !== null && read.rev !== null && read.rev < aRev) state.windows++
  if (point === 'before' && read.seen.has(b.uid) && !read.seen.has(a.uid)) state.lateCommits++
  if (bCommitted && point === 'after') {
    state.overtook++
    violations.push({ invariant: 'I1', uid: b.uid, message: `iteration ${iteration}: B committed while A held the earlier rev ${aRev ?? '?'} uncommitted (revs out of commit order)` })
  }
  stall.release()
  await Promise.all([pushA, pushB])
  const last = await pullToEnd(puller, state)
  if (last.violation !== null) violations.push(last.violation)
  for (const r of [a, b]) {
    if (!state.seen.has(r.uid)) violations.push({ invariant: 'I1', uid: r.uid, message: `iteration ${iteration} (A stopped ${point} its rev${aRev === null ? '' : ` ${aRev}`}): ${r.uid} was never pulled` })
  }
  return violations
}

/** Whether some backend of the database waits for a lock (B behind A's uncommitted rev). */
async function waitingOnALock(server: InMemoryServer): Promise<boolean> {
  const rows = await server.database.raw(`SELECT 1 FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple') LIMIT 1`)
  return rows.length > 0
}

/** What the T12 puller keeps across iterations, and what the row counts. */
export interface PullerState {
  checkpoint: string | null
  /** Every uid the puller's pages carried. */
  seen: Set<string>
  /** Iterations whose pull ran to its end while A held a rev uncommitted, and did not include it (the trap-1 window). */
  windows: number
  /** Iterations whose pull saw B committed while A, begun first, had not yet committed. */
  lateCommits: number
  /** Iterations in which B committed while A held an earlier rev uncommitted (revs out of commit order). */
  overtook: number
}

export function newPullerState(): PullerState {
  return { checkpoint: null, seen: new Set(), windows: 0, lateCommits: 0, overtook: 0 }
}

/**
 * Pulls `{}` to its final page (a full reconciliation first, incremental after), keeping the cursor
 * between pages. Returns the rev of the checkpoint reached, and a violation when no final page came.
 */
async function pullToEnd(server: InMemoryServer, state: PullerState): Promise<{ rev: number | null; seen: Set<string>; violation: Violation | null }> {
  const ctx = { principal: null }
  const seen = new Set<string>()
  let cursor: FullCursor | null = null
  const full = state.checkpoint === null
  for (let page = 0; page < 1_000; page++) {
    const request: SyncRequest = full
      ? { table: 'items', where: {}, checkpoint: null, push: [], full: { cursor, entries: [], complete: true }, pageSize: T12_PAGE_SIZE }
      : { table: 'items', where: {}, checkpoint: state.checkpoint, push: [], pageSize: T12_PAGE_SIZE }
    const p = await server.engine.sync(ctx, request)
    if (p.mode === 'resync') return { rev: null, seen, violation: { invariant: 'I1', message: `the puller was asked to resync (${p.reason ?? 'no reason'}) at ${state.checkpoint ?? 'no checkpoint'}` } }
    for (const r of p.rows) seen.add(String(r[0]))
    for (const t of p.tombstones) seen.add(t[0])
    for (const uid of seen) state.seen.add(uid)
    if (p.checkpoint !== null) state.checkpoint = p.checkpoint
    cursor = p.cursor
    if (!p.hasMore) return { rev: state.checkpoint === null ? null : decodeCheckpoint(state.checkpoint).rev, seen, violation: null }
  }
  return { rev: null, seen, violation: { invariant: 'I9', message: 'the puller\'s page loop ended without a final page (1,000 pages)' } }
}

/** Small pages: the table outgrows one page within a few iterations, so every run pages for real. */
const T12_PAGE_SIZE = 7

/** The hooks' side of {@link runLateCommit}: stops one push at a point, and tells when another got there. */
export interface LateCommitControl {
  /** Stops the push of `uid` at `point`; `reached` gives A's first rev (`null` before it took one). */
  stall(uid: string, point: 'before' | 'after'): { reached: Promise<number | null>; release(): void }
  /** Resolves when the push of `uid` has written its rows (just before it takes its rev). */
  watch(uid: string): Promise<void>
  hooks: Record<string, (info: { uids: string[]; firstRev?: number }) => Promise<void> | void>
}

export function createLateCommitControl(): LateCommitControl {
  let stalled: { uid: string; point: 'before' | 'after'; reach: (rev: number | null) => void; gate: Promise<void> } | null = null
  const watched = new Map<string, () => void>()
  const hook = (point: 'before' | 'after') => async (info: { uids: string[]; firstRev?: number }): Promise<void> => {
    if (point === 'before') {
      for (const uid of info.uids) {
        watched.get(uid)?.()
        watched.delete(uid)
      }
    }
    const s = stalled
    if (s === null || s.point !== point || !info.uids.includes(s.uid)) return
    s.reach(info.firstRev ?? null)
    await s.gate
  }
  return {
    stall(uid, point) {
      let reach!: (rev: number | null) => void
      let open!: () => void
      const reached = new Promise<number | null>((resolve) => (reach = resolve))
      stalled = { uid, point, reach, gate: new Promise<void>((resolve) => (open = resolve)) }
      return {
        reached,
        release() {
          stalled = null
          open()
        },
      }
    },
    watch: (uid) => new Promise<void>((resolve) => watched.set(uid, resolve)),
    hooks: { beforeVersionRow: hook('before'), afterVersionRow: hook('after') },
  }
}
