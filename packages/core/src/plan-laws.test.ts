/**
 * Laws of full reconciliation (computePlan), checked with fast-check:
 *
 *  L1 convergence — apply a plan to both sides (the client takes addClient/updateClient rows and
 *     removes deleteClient/evictClient; the server takes addDatabase/updateDatabase/deleteDatabase
 *     versions) and the next plan is empty, and the client's live uids are exactly the server's live
 *     in-scope uids.
 *  L2 disjointness — a uid appears in at most one list, and only uids either side knows appear.
 *  L3 uid-blindness — uids such as `constructor`, `__proto__` and `toString` plan like any other:
 *     renaming uids renames the plan.
 *  L4 indistinguishability (I13) — a server entry the principal may not read plans exactly as if the
 *     server had no entry for that uid.
 *  L5 purge only on evidence (R12) — a record the client holds leaves it only for a readable server
 *     state (a newer tombstone in scope, or a version found outside the scope) or, acknowledged and
 *     unknown (or unreadable) to the server, on the evidence `purgeProven`; without it an acknowledged
 *     record the server does not know is pushed back, a tombstone as a tombstone.
 *
 * Model: the server map is uid → { version, deleted, inScope, readable } (in scope implies readable); the client map is uid → { version,
 * deleted, acknowledged } for the records the client holds in its scope. Stamps are unique per write
 * (HLC node ids), so equal versions carry the same `deleted`.
 *
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fcParams } from './fc-config.test-util.js'
import { computePlan, isEmptyPlan, type ClientEntry, type ServerEntry, type SyncPlan } from './plan.js'
import { formatStamp, type Stamp } from './stamp.js'

const UIDS = ['a', 'b', 'c', 'd', 'e', 'constructor', '__proto__', 'toString'] as const
const LISTS = ['addClient', 'updateClient', 'deleteClient', 'evictClient', 'addDatabase', 'updateDatabase', 'deleteDatabase'] as const

const stamp = (v: number): Stamp => formatStamp({ ms: 1_000 + v, counter: 0, node: '0123456789abcdef' })

/** What each side holds for one uid. */
interface Situation {
  server: ServerEntry | null
  client: ClientEntry | null
}

const version = fc.integer({ min: 1, max: 6 })

/** One uid's situation; equal versions on both sides are the same write, so `deleted` agrees. */
const situation: fc.Arbitrary<Situation> = fc
  .record({
    server: fc.option(fc.record({ v: version, deleted: fc.boolean(), inScope: fc.boolean(), readable: fc.boolean() }), { nil: null }),
    client: fc.option(fc.record({ v: version, deleted: fc.boolean(), acknowledged: fc.boolean(), purgeProven: fc.boolean() }), { nil: null }),
  })
  .map(({ server, client }) => ({
    server: server && { version: stamp(server.v), deleted: server.deleted, inScope: server.inScope && server.readable, readable: server.readable },
    client: client && {
      version: stamp(client.v),
      deleted: server !== null && server.v === client.v ? server.deleted : client.deleted,
      acknowledged: client.acknowledged,
      purgeProven: client.acknowledged && client.purgeProven,
    },
  }))

const world = fc.tuple(...UIDS.map(() => situation)).map((situations) => {
  const server = new Map<string, ServerEntry>()
  const client = new Map<string, ClientEntry>()
  situations.forEach((s, i) => {
    const uid = UIDS[i] as string
    if (s.server) server.set(uid, s.server)
    if (s.client) client.set(uid, s.client)
  })
  return { server, client }
})

/** Applies a plan to both sides, as the client and the server would. */
function applyPlan(plan: SyncPlan, server: Map<string, ServerEntry>, client: Map<string, ClientEntry>): void {
  for (const uid of [...plan.addClient, ...plan.updateClient]) {
    const s = server.get(uid)
    if (s === undefined) throw new Error(`plan sends ${uid} to the client, but the server has no ${uid}`)
    // These lists carry rows: a tombstone sent here would wrongly come back to life (L1 catches it).
    client.set(uid, { version: s.version, deleted: false, acknowledged: true, purgeProven: true })
  }
  for (const uid of [...plan.deleteClient, ...plan.evictClient]) client.delete(uid)
  for (const uid of [...plan.addDatabase, ...plan.updateDatabase, ...plan.deleteDatabase]) {
    const c = client.get(uid)
    if (c === undefined) throw new Error(`plan asks the client to push ${uid}, which it does not hold`)
    // The pushed row is the client's, which matched its scope: the server's copy is now in scope.
    server.set(uid, { version: c.version, deleted: c.deleted, inScope: true, readable: true })
    client.set(uid, { ...c, acknowledged: true, purgeProven: true })
  }
}

const liveClientUids = (client: Map<string, ClientEntry>) => [...client].filter(([, c]) => !c.deleted).map(([uid]) => uid).sort()
const liveServerUids = (server: Map<string, ServerEntry>) => [...server].filter(([, s]) => s.inScope && !s.deleted).map(([uid]) => uid).sort()

describe('computePlan laws', () => {
  it('L1: applying a plan to both sides converges, and the next plan is empty', () => {
    fc.assert(
      fc.property(world, ({ server, client }) => {
        const plan = computePlan(server, client)
        applyPlan(plan, server, client)
        const again = computePlan(server, client)
        expect(again, `second plan after ${JSON.stringify(plan)}`).toSatisfy(isEmptyPlan)
        expect(liveClientUids(client)).toEqual(liveServerUids(server))
      }),
      fcParams(1000),
    )
  })

  it('L2: each uid is in at most one list, and every listed uid is known to one side', () => {
    fc.assert(
      fc.property(world, ({ server, client }) => {
        const plan = computePlan(server, client)
        const listed = LISTS.flatMap((list) => plan[list])
        expect(new Set(listed).size).toBe(listed.length)
        for (const uid of listed) expect(server.has(uid) || client.has(uid)).toBe(true)
        for (const list of LISTS) expect(plan[list]).toEqual([...plan[list]].sort())
      }),
      fcParams(1000),
    )
  })

  it('L4: an unreadable server entry plans exactly like no entry (I13)', () => {
    fc.assert(
      fc.property(world, ({ server, client }) => {
        const readableOnly = new Map([...server].filter(([, s]) => s.readable))
        expect(computePlan(server, client)).toEqual(computePlan(readableOnly, client))
      }),
      fcParams(1000),
    )
  })

  it('L5: a held record leaves only on a readable server state or on the evidence of its purge (R12)', () => {
    fc.assert(
      fc.property(world, ({ server, client }) => {
        const plan = computePlan(server, client)
        const pushed = new Set([...plan.addDatabase, ...plan.updateDatabase, ...plan.deleteDatabase])
        for (const uid of [...plan.deleteClient, ...plan.evictClient]) {
          const s = server.get(uid)
          const c = client.get(uid) as ClientEntry
          if (s?.readable === true) continue
          // Unknown or unreadable: only proven purges, and tombstones never acknowledged, leave.
          expect(c.purgeProven || (!c.acknowledged && c.deleted), uid).toBe(true)
        }
        for (const [uid, c] of client) {
          const s = server.get(uid)
          if (s?.readable === true || !c.acknowledged || c.purgeProven) continue
          expect(pushed.has(uid), uid).toBe(true)
          expect(plan[c.deleted ? 'deleteDatabase' : 'addDatabase']).toContain(uid)
        }
      }),
      fcParams(1000),
    )
  })

  it('L3: uids are opaque — renaming them renames the plan', () => {
    const rename = (uid: string) => `x${UIDS.indexOf(uid as (typeof UIDS)[number])}`
    fc.assert(
      fc.property(world, ({ server, client }) => {
        const plan = computePlan(server, client)
        const renamed = computePlan(
          new Map([...server].map(([uid, s]) => [rename(uid), s])),
          new Map([...client].map(([uid, c]) => [rename(uid), c])),
        )
        for (const list of LISTS) expect(renamed[list]).toEqual(plan[list].map(rename).sort())
      }),
      fcParams(1000),
    )
  })
})
