/**
 * `lw:push` (protocol 7, SPEC.md section 12): a client's dirty records across tables, in its write order,
 * applied unit by unit, each unit in one database transaction (write-unit.ts).
 *
 * Everything is checked before anything is written: the total of records against `maxPushRecords`, every
 * group's table and schema version. Then the in-process overlap lock of every table involved (its whole
 * table: a push may write anywhere in it) and, where the dialect has one, the cross-node lock of all of
 * them, both taken in name order, so two pushes or a push and a sync never wait on each other in a cycle.
 * R10/R12 judge each acknowledged record by the point it names (`knownAt`), as a push without a checkpoint does.
 */
import { LastwordError, formatLineagePoint, segmentsNamed, type LineageHistory, type PushAnswer, type PushRequest, type Scope, type Stamp } from '@lastword/core'
import type { Authorize, CommittedChange, Limits, Logger, Principal, RequestContext } from '../types.js'
import type { Driver } from './dialect/types.js'
import type { EngineHooks } from './engine-types.js'
import { readHistory, readLineageState } from './lineage.js'
import { pushMapping, type SchemaVersions } from './schema.js'
import type { ScopeLocks } from './scope-lock.js'
import type { SyncedTable } from './tables.js'
import { applyUnit, type UnitPart } from './write-unit.js'
import type { WriteContext } from './write.js'

/** What a push needs of its engine. */
export interface PushDeps {
  driver: Driver
  limits: Limits
  logger: Logger
  hooks: EngineHooks
  authorize: Authorize | undefined
  now: () => number
  locks: ScopeLocks
  tableOf(name: unknown): SyncedTable
  versions(): SchemaVersions
  readScopeOf(ctx: RequestContext, table: SyncedTable): Promise<Scope | null>
  /** Accepted stamps move the server's clock; committed changes go to the commit listeners. */
  committed(changes: readonly CommittedChange[], acceptedMax: Stamp | null, origin: unknown): void
}

/** Applies one checked `lw:push` request. Throws `LastwordError` before writing anything it refuses. */
export async function applyPush(deps: PushDeps, ctx: RequestContext, request: PushRequest): Promise<PushAnswer> {
  const receivedAt = deps.now()
  const { limits, driver } = deps
  const units = request.units
  const total = units.reduce((n, unit) => n + unit.groups.reduce((m, group) => m + group.records.length, 0), 0)
  if (total > limits.maxPushRecords) {
    throw new LastwordError('TOO_LARGE', `A push may carry at most ${limits.maxPushRecords} records; send the rest in the next request`, { limit: limits.maxPushRecords, got: total })
  }
  // Every table and schema version known, before anything is written.
  const tables = new Map<string, SyncedTable>()
  for (const unit of units) {
    for (const group of unit.groups) {
      const table = deps.tableOf(group.table)
      tables.set(table.name, table)
      pushMapping(table, deps.versions(), group.schemaVersion)
    }
  }
  const names = [...tables.keys()].sort()
  const readScopes = new Map<string, Scope | null>()
  for (const name of names) readScopes.set(name, await deps.readScopeOf(ctx, tables.get(name) as SyncedTable))

  const releases: (() => void)[] = []
  for (const name of names) releases.push(await deps.locks.acquire(name, []))
  const lease = driver.lease(names, 'exclusive')
  const on = lease?.driver ?? driver
  try {
    const knownAt = units.flatMap((unit) => unit.groups.flatMap((group) => group.records.map((r) => r.knownAt ?? null)))
    const history: LineageHistory = await on.read(function* () {
      const state = yield* readLineageState()
      return yield* readHistory(driver.dialect, state, segmentsNamed(knownAt))
    })
    const answers: PushAnswer['units'] = []
    for (const unit of units) {
      const parts = new Map<string, UnitPart>()
      let place = 0
      for (const group of unit.groups) {
        const table = tables.get(group.table) as SyncedTable
        let part = parts.get(table.name)
        if (part === undefined) parts.set(table.name, (part = { ctx: contextOf(deps, on, ctx.principal, table, readScopes.get(table.name) ?? null, history, group.schemaVersion), records: [], places: [] }))
        for (const record of group.records) {
          part.records.push(record)
          part.places.push(place++)
        }
      }
      const result = await applyUnit(on, [...parts.values()], unit.atomic, place)
      deps.committed(result.changes, result.acceptedMax, ctx.origin)
      answers.push({ outcomes: result.outcomes })
    }
    const point = formatLineagePoint(await on.read(() => readLineageState()))
    return { receivedAt, answeredAt: deps.now(), units: answers, knownAt: point }
  } finally {
    if (lease !== null) await lease.release()
    for (const release of releases.reverse()) release()
  }
}

function contextOf(deps: PushDeps, driver: Driver, principal: Principal | null, table: SyncedTable, readScope: Scope | null, history: LineageHistory, schemaVersion: number | undefined): WriteContext {
  const schema = schemaVersion === undefined ? {} : { schema: { from: schemaVersion, mapping: pushMapping(table, deps.versions(), schemaVersion)?.mapping } }
  return { driver, table, principal, authorize: deps.authorize, readScope, now: deps.now(), maxDriftMs: deps.limits.maxDriftMs, hooks: deps.hooks, logger: deps.logger, history, ...schema }
}
