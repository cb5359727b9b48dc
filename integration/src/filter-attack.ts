/**
 * S01 — random filter ASTs against two tenants with overlapping data (attack V1, invariant I8).
 *
 * The `docs` table holds the same shapes of rows for tenants t1 and t2 (plus a few of each alone, and
 * tombstones whose last images match filters too); `tenant` is server-owned and `authorize` restricts
 * reads to the principal's tenant. For every generated filter — valid or not, hostile or not:
 *
 * 1. core's `validateWhere` and the server agree on whether it is valid; an invalid one is a typed error
 *    everywhere (never INTERNAL, never widened to `{}`);
 * 2. SQL and core agree on every row: the server's SQL (`service.findMany`, all tenants) returns exactly
 *    the rows core's `matches` selects;
 * 3. through sync (full reconciliation) each tenant gets exactly its own matching rows — no foreign row,
 *    uid or tombstone, whatever the filter asks for (`{ tenant: 't2' }`, `in`, ranges, nulls);
 * 4. every `realtimeEvery`-th filter is also subscribed over a live connection per tenant while rows of
 *    both tenants are created, edited in and out of the filter, and deleted: no event and no incremental
 *    pull carries anything of the other tenant or anything the filter excludes.
 */
import fc from 'fast-check'
import { PROTOCOL_VERSION, isLastwordError, matches, syncPageSchema, validateWhere, type Scope, type SyncPage, type TableDescriptor } from '@lastword/core'
import type { Authenticate, Authorize, Principal } from '@lastword/server'
import type { TestDatabase } from './databases.js'
import { connectRaw, createInMemoryServer, type InMemoryServer } from './server-kit.js'
import { createRng, type Rng } from './random.js'

type Tenant = 't1' | 't2'
const TENANTS: readonly Tenant[] = ['t1', 't2']

const TITLES = [null, '', 'a', 'A', 'b', 'ab', 'a b', 'é', 'e\u0301', '😀', '\uFFFF', '\u{10000}', 'z', "O'Brien", '%', '_', 't1', 't2']
const NUMBERS = [null, -1, 0, 1, 2, 7, 42, 2_147_483_647, -2_147_483_648]
const SCORES = [null, -1.5, 0, 0.1, 1, 2.5, 1e10, -0.000001]
const BOOLS = [null, true, false]
const DATES = [null, '1970-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2024-06-30T12:00:00.500Z', '2099-12-31T23:59:59.999Z']

interface DocRow {
  title: string | null
  n: number | null
  score: number | null
  done: boolean | null
  due: string | null
}

function randomDoc(rng: Rng): DocRow {
  return { title: rng.pick(TITLES), n: rng.pick(NUMBERS), score: rng.pick(SCORES), done: rng.pick(BOOLS), due: rng.pick(DATES) }
}

/** Values a filter may compare a column with: right types, wrong types, edge values, junk. */
const anyValue = fc.oneof(
  fc.constantFrom<unknown>(...TITLES.filter((t) => t !== null), 't1', 't2', 'T1', ''),
  fc.constantFrom<unknown>(...NUMBERS.filter((n) => n !== null), 0.5, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e300),
  fc.constantFrom<unknown>(...SCORES.filter((n) => n !== null)),
  fc.boolean(),
  fc.constantFrom<unknown>(...DATES.filter((d) => d !== null), '2024-01-01T01:00:00+01:00', '2024-02-30T00:00:00Z', 'yesterday'),
  fc.constantFrom<unknown>(undefined, [], {}, { eq: 1 }, ['t1']),
)

const COLUMNS = ['title', 'n', 'score', 'done', 'due', 'tenant', 'uid', 'nope', 'TITLE', 'title"; DROP TABLE docs;--', '__proto__', 'constructor']
const columnArb = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('title', 'n', 'score', 'done', 'due', 'tenant') }, { weight: 1, arbitrary: fc.constantFrom(...COLUMNS) })
const opArb = fc.oneof({ weight: 10, arbitrary: fc.constantFrom('eq', 'in', 'gt', 'gte', 'lt', 'lte') }, { weight: 1, arbitrary: fc.constantFrom('ne', 'or', 'like', '$gt', '__proto__', 'constructor') })

/** Values of the right type for a column (what most filters use). */
const typedValue = (column: string): fc.Arbitrary<unknown> => {
  switch (column) {
    case 'title':
      return fc.constantFrom<unknown>(...TITLES.filter((t) => t !== null), 'a\u0000'.slice(0, 1), 'b c')
    case 'tenant':
      return fc.constantFrom<unknown>('t1', 't2', '', 't', 't3')
    case 'n':
      return fc.constantFrom<unknown>(...NUMBERS.filter((n) => n !== null), 3, -5, 0.5)
    case 'score':
      return fc.constantFrom<unknown>(...SCORES.filter((n) => n !== null), 0.05, 2)
    case 'done':
      return fc.boolean()
    case 'due':
      return fc.constantFrom<unknown>(...DATES.filter((d) => d !== null), '2024-01-01T01:00:00+01:00', '2030-01-01T00:00:00Z')
    default:
      return anyValue
  }
}

/** The condition on one column, as an app (or an attacker) writes it. */
const specArb = (column: string): fc.Arbitrary<unknown> => {
  const value = fc.oneof({ weight: 6, arbitrary: typedValue(column) }, { weight: 1, arbitrary: anyValue })
  return fc.oneof(
    { weight: 3, arbitrary: value },
    { weight: 1, arbitrary: fc.constant(null) },
    {
      weight: 5,
      arbitrary: fc
        .array(fc.tuple(opArb, fc.oneof({ weight: 5, arbitrary: value }, { weight: 2, arbitrary: fc.array(value, { maxLength: 4 }) })), { minLength: 1, maxLength: 3 })
        .chain((ops) => fc.constant(ops))
        .map((ops) => {
          const out: Record<string, unknown> = {}
          for (const [op, v] of ops) Object.defineProperty(out, op, { value: op === 'in' && !Array.isArray(v) ? [v] : v, enumerable: true, configurable: true, writable: true })
          return out
        }),
    },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({}, { in: [] }) },
  )
}

/** A filter: 0–4 columns (own properties, `__proto__` included). */
export const filterArb: fc.Arbitrary<Record<string, unknown>> = fc
  .array(columnArb.chain((column) => specArb(column).map((spec) => [column, spec] as const)), { maxLength: 4 })
  .map((pairs) => {
    const out: Record<string, unknown> = {}
    for (const [column, spec] of pairs) Object.defineProperty(out, column, { value: spec, enumerable: true, configurable: true, writable: true })
    return out
  })

export interface S01Options {
  database: TestDatabase
  filters: number
  seed: number
  /** Every how many filters the realtime and incremental paths are exercised too. */
  realtimeEvery: number
}

export interface S01Result {
  checked: number
  valid: number
  violations: string[]
}

const describe = (filter: unknown): string => {
  try {
    return JSON.stringify(filter, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v === undefined ? '«undefined»' : v))
  } catch {
    return String(filter)
  }
}

export async function runFilterAttack(options: S01Options): Promise<S01Result> {
  const { database, seed } = options
  const rng = createRng(seed)
  const authenticate: Authenticate = (handshake) => (handshake.token === 't1' || handshake.token === 't2' ? { id: `user-${handshake.token}`, tenant: handshake.token } : null)
  const authorize: Authorize = ({ op, principal, ...rest }) => {
    const tenant = (principal as Principal & { tenant: string }).tenant
    if (op === 'read') return { tenant }
    const { before, after } = rest as { before: Record<string, unknown> | null; after: Record<string, unknown> | null }
    return (before === null || before['tenant'] === tenant) && (after === null || after['tenant'] === tenant)
  }
  const server: InMemoryServer = await createInMemoryServer({
    database,
    tables: { docs: { table: database.docs, serverColumns: { tenant: (p: Principal | null) => (p as { tenant?: string } | null)?.tenant } } },
    authenticate,
    authorize,
  })
  const violations: string[] = []
  const result: S01Result = { checked: 0, valid: 0, violations }
  try {
    const descriptor = server.engine.tables.find((t) => t.name === 'docs') as TableDescriptor
    const service = server.engine.service('docs')
    // Overlapping data: 40 shapes in both tenants, 8 of each alone; a tenth deleted (tombstones keep images).
    const uids: Record<Tenant, string[]> = { t1: [], t2: [] }
    for (let i = 0; i < 48; i++) {
      const shape = randomDoc(rng)
      for (const tenant of TENANTS) {
        if (i >= 40 && rng.chance(0.5)) continue
        const doc = i >= 40 ? randomDoc(rng) : shape
        uids[tenant].push(await service.create({ ...doc, tenant }))
      }
    }
    for (const tenant of TENANTS) for (const uid of uids[tenant]) if (rng.chance(0.1)) await service.delete(uid)

    let all = await service.findMany({})
    const tenantOf = new Map<string, string>()
    const refreshTenants = (): void => {
      for (const r of all) tenantOf.set(r.uid, String(r['tenant']))
    }
    refreshTenants()
    for (const tenant of TENANTS) for (const uid of uids[tenant]) if (!tenantOf.has(uid)) tenantOf.set(uid, tenant)

    const filters = fc.sample(filterArb, { numRuns: options.filters, seed })
    for (const [i, filter] of filters.entries()) {
      result.checked++
      const f = describe(filter)
      let scope: Scope | null = null
      try {
        scope = validateWhere(filter, descriptor)
      } catch (error) {
        if (!isLastwordError(error)) violations.push(`core threw a non-LastwordError for ${f}: ${String(error)}`)
      }
      // 1–2. SQL (all tenants, as the app) against core.
      try {
        const rows = await service.findMany(filter as never)
        if (scope === null) violations.push(`the server accepted a filter core refuses: ${f}`)
        else {
          const got = rows.map((r) => r.uid).sort()
          const want = all.filter((r) => matches(r, scope as Scope)).map((r) => r.uid).sort()
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            violations.push(`SQL and core disagree on ${f}: SQL ${got.length} rows, core ${want.length}; SQL only ${JSON.stringify(got.filter((u) => !want.includes(u)).slice(0, 3).map((u) => all.find((r) => r.uid === u)))}, core only ${JSON.stringify(want.filter((u) => !got.includes(u)).slice(0, 3).map((u) => all.find((r) => r.uid === u)))}`)
          }
        }
      } catch (error) {
        if (!isLastwordError(error) || error.code === 'INTERNAL') violations.push(`findMany failed untyped on ${f}: ${String(error)}`)
        else if (scope !== null) violations.push(`the server refused a filter core accepts: ${f}: ${error.code}`)
      }
      if (scope !== null) result.valid++
      // 3. Through sync, per tenant.
      for (const tenant of TENANTS) {
        const principal = { id: `user-${tenant}`, tenant }
        try {
          const page = await server.engine.sync({ principal }, { table: 'docs', where: filter, checkpoint: null, push: [], full: { cursor: null, entries: [], complete: true }, pageSize: 10_000 })
          if (scope === null) violations.push(`sync accepted a filter core refuses: ${f}`)
          else checkPage(page, tenant, scope, f, `full sync as ${tenant}`)
        } catch (error) {
          if (!isLastwordError(error) || error.code === 'INTERNAL') violations.push(`sync failed untyped on ${f} as ${tenant}: ${String(error)}`)
          else if (scope !== null) violations.push(`sync refused a filter core accepts: ${f} as ${tenant}: ${error.code}`)
        }
      }
      // 4. Realtime and incremental pulls, with writes to both tenants.
      if (scope !== null && i % options.realtimeEvery === 0) {
        await realtimeRound(filter, scope, f)
        all = await service.findMany({})
        refreshTenants()
      }
      if (violations.length > 20) break
    }
    return result

    function checkPage(page: SyncPage, tenant: Tenant, scope: Scope, f: string, how: string): void {
      const columns = page.columns
      const rows = page.rows.map((values) => {
        const row: Record<string, unknown> = { uid: values[0] }
        columns.forEach((c, k) => (row[c] = values[k + 3]))
        return row
      })
      for (const row of rows) {
        if (row['tenant'] !== tenant) violations.push(`${how} leaked a row of ${String(row['tenant'])} for ${f}: ${JSON.stringify(row)}`)
        else if (!matches(row, scope)) violations.push(`${how} sent a row the filter excludes for ${f}: ${JSON.stringify(row)}`)
      }
      for (const uid of [...page.tombstones.map((t) => t[0]), ...page.evict.map(([uid]) => uid), ...page.purged, ...page.push]) {
        if (tenantOf.get(uid) !== tenant) violations.push(`${how} named a foreign uid ${uid} (${tenantOf.get(uid) ?? 'unknown'}) for ${f}`)
      }
      if (page.mode === 'full') {
        const want = all.filter((r) => r['tenant'] === tenant && matches(r, scope)).map((r) => r.uid).sort()
        const got = rows.map((r) => String(r['uid'])).sort()
        if (JSON.stringify(got) !== JSON.stringify(want)) violations.push(`${how} for ${f}: ${got.length} rows, expected ${want.length}`)
      }
    }

    async function realtimeRound(filter: Record<string, unknown>, scope: Scope, f: string): Promise<void> {
      const sessions = []
      for (const tenant of TENANTS) {
        const conn = await connectRaw(server, { protocolVersion: PROTOCOL_VERSION, clientId: rng.int(2 ** 30).toString(16).padStart(16, '0'), token: tenant })
        const reply = (await conn.request('lw:sync', { table: 'docs', where: filter, checkpoint: null, push: [], full: { cursor: null, entries: [], complete: true }, subscription: 's1' })) as {
          ok: boolean
          data: SyncPage
        }
        if (!reply.ok) {
          violations.push(`subscribing ${f} as ${tenant} failed: ${JSON.stringify(reply)}`)
          conn.close()
          continue
        }
        sessions.push({ tenant, conn, checkpoint: syncPageSchema.parse(reply.data).checkpoint })
      }
      // Writes to both tenants: creates, edits that move rows in and out of the filter, deletes.
      for (let k = 0; k < 12; k++) {
        const tenant = rng.pick(TENANTS)
        const live = all.filter((r) => r['tenant'] === tenant)
        const roll = rng.next()
        if (roll < 0.35 || live.length === 0) {
          const uid = await service.create({ ...randomDoc(rng), tenant })
          tenantOf.set(uid, tenant)
        } else if (roll < 0.8) await service.update(rng.pick(live).uid, randomDoc(rng) as never).catch(() => undefined)
        else await service.delete(rng.pick(live).uid).catch(() => undefined)
      }
      await server.transport.idle()
      for (const { tenant, conn, checkpoint } of sessions) {
        for (const { event, payload } of conn.events) {
          if (event !== 'lw:changes') continue
          const e = payload as { rows: unknown[][]; tombstones: string[][]; evict: [string, string][]; columns: string[] }
          checkPage(
            { mode: 'incremental', rows: e.rows, tombstones: e.tombstones as never, evict: e.evict, purged: [], push: [], columns: e.columns } as unknown as SyncPage,
            tenant,
            scope,
            f,
            `realtime to ${tenant}`,
          )
        }
        const reply = (await conn.request('lw:sync', { table: 'docs', where: filter, checkpoint, push: [] })) as { ok: boolean; data: SyncPage }
        if (!reply.ok) violations.push(`incremental pull of ${f} as ${tenant} failed: ${JSON.stringify(reply)}`)
        else checkPage(syncPageSchema.parse(reply.data), tenant, scope, f, `incremental pull as ${tenant}`)
        conn.close()
      }
    }
  } finally {
    await server.close()
  }
}
