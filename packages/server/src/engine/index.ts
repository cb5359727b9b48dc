/**
 * The sync engine: storage, services and the `lw:sync` handler (sync.ts) over a Drizzle database
 * (better-sqlite3 or node-postgres). The transport (socket.io, auth, realtime) sits on top of it
 * through the {@link SyncEngine} interface.
 */
import {
  DEFAULT_WHERE_LIMITS,
  LastwordError,
  normalizeTableUid,
  compileScope,
  createHlc,
  hashString,
  intersectScopes,
  scopeKey,
  formatLineagePoint,
  validateWhere,
  type LineageHistory,
  type PushOutcome,
  type Scope,
  type TableDescriptor,
  type WireRecord,
} from '@lastword/core'
import {
  DEFAULT_LIMITS,
  type Authorize,
  type CommitListener,
  type CommittedChange,
  type EffectiveScope,
  type Limits,
  type Logger,
  type BackfillOptions,
  type MigrateOptions,
  type Principal,
  type RequestContext,
  type SyncEngine,
  type TableService,
} from '../types.js'
import { callAuthorize, readScopeFrom } from './authorize.js'
import { bindClientId } from './clients.js'
import { createDriver, type Driver } from './driver.js'
import { randomNodeId } from './ids.js'
import { eraseRecord, openLineage, openSegment, readLineageState } from './lineage.js'
import { checkAppTables } from './app-tables.js'
import { createScopeLocks } from './scope-lock.js'
import { createTableService } from './services.js'
import { committedChange, purgeUpTo, readChangeLog, readState } from './store.js'
import { applyVersions, pushMapping, recordSchemas, type SchemaVersions } from './schema.js'
import { buildSyncedTable, type SyncedTable, type TableInput } from './tables.js'
import { linkForeignKeys } from './foreign-keys.js'
import { applyWrites } from './write.js'
import { applyPush, type PushDeps } from './push.js'
import { syncPage, type SyncDeps } from './sync.js'
import { checkReadiness } from './readiness.js'
import { createHookStore } from './hook-store.js'
import { backfill } from './backfill.js'

export type { ScopeLockEvent, ScopeLockObserver } from './scope-lock.js'
export type { AnyDrizzleTable, TableInput } from './tables.js'
export type { WriteHooks } from './write.js'
export type { ReadyResult } from './readiness.js'
export type { ChangeEvent, HookState, HookStore } from './hook-store.js'
export type { CommitWatch, CommitWatchOptions, ExclusiveLock } from './dialect/types.js'
export type { Engine, EngineHooks, EngineOptions, SyncDatabase } from './engine-types.js'
import type { Engine, EngineOptions } from './engine-types.js'
const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

/**
 * Creates the sync engine over the app's Drizzle database. Run `migrate()` once before serving.
 *
 * @example
 * const engine = createEngine({
 *   db: drizzle(new Database('app.db')),
 *   tables: { todos: { table: todos, serverColumns: { tenant: (p) => p?.tenant } } },
 *   authorize: ({ op, principal, after }) => op === 'read' ? { tenant: principal.tenant } : after === null || after.tenant === principal.tenant,
 * })
 * await engine.migrate()
 */
export function createEngine<P extends Principal = Principal>(options: EngineOptions<P>): Engine {
  const logger = options.logger ?? SILENT
  const now = options.now ?? Date.now
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits }
  const hooks = options.hooks ?? {}
  const authorize = options.authorize as Authorize | undefined
  const driver = createDriver(options.db, { logger })
  const casing = driver.casing as Parameters<typeof buildSyncedTable>[2]
  const tables = new Map<string, SyncedTable>()
  for (const [name, input] of Object.entries(options.tables)) {
    tables.set(name, buildSyncedTable(name, input as TableInput, casing))
  }
  linkForeignKeys(tables.values())
  const descriptors: readonly TableDescriptor[] = [...tables.values()].map((t) => t.descriptor)
  const clock = createHlc({ node: randomNodeId(), now })
  const locks = createScopeLocks(hooks.onScopeLock)
  const listeners = new Set<CommitListener>()
  const services = new Map<string, TableService>()
  let versions: SchemaVersions = new Map()
  let closed = false

  const ensureOpen = (): void => {
    if (closed) throw new LastwordError('CLOSED', 'The sync engine was closed')
  }

  const tableOf = (name: unknown): SyncedTable => {
    const table = typeof name === 'string' ? tables.get(name) : undefined
    if (table === undefined) {
      throw new LastwordError('UNKNOWN_TABLE', `Table ${JSON.stringify(String(name).slice(0, 80))} is not synced; known: ${[...tables.keys()].join(', ')}`)
    }
    return table
  }

  /** What `authorize` lets the principal read: `null` = everything. */
  const readScopeOf = async (ctx: RequestContext, table: SyncedTable): Promise<Scope | null> => {
    if (ctx.principal === null || authorize === undefined) return null
    const result = await callAuthorize(authorize, { op: 'read', principal: ctx.principal, table: table.name }, logger)
    return readScopeFrom(result, table, logger)
  }

  /** A client's filter, validated against the table and the limits (the only place one is). */
  const clientScopeOf = (table: SyncedTable, where: unknown): Scope => {
    const scope = validateWhere(where, table.descriptor, {
      maxConditions: limits.maxFilterConditions,
      maxInValues: limits.maxInValues,
      maxValueLength: DEFAULT_WHERE_LIMITS.maxValueLength,
    })
    hooks.onFilterCompiled?.({ table: table.name, size: scope.reduce((n, c) => n + (c.op === 'in' ? c.values.length : 1), 0) })
    return scope
  }

  const scopesOf = async (ctx: RequestContext, table: SyncedTable, where: unknown): Promise<EffectiveScope & { readScope: Scope | null }> => {
    const clientScope = clientScopeOf(table, where)
    const readScope = await readScopeOf(ctx, table)
    const scope = readScope === null ? clientScope : intersectScopes(clientScope, readScope)
    return { scope, hash: hashString(scopeKey(table.name, scope)), readScope }
  }

  const notify = (changes: readonly CommittedChange[], origin: unknown): void => {
    for (const listener of listeners) {
      try {
        listener(changes, origin)
      } catch (error) {
        logger.error({ err: error }, 'lastword: an onCommit listener threw')
      }
    }
  }

  const write = async (
    principal: Principal | null,
    table: SyncedTable,
    records: readonly WireRecord[],
    readScope: Scope | null,
    on: Driver = driver,
    origin?: unknown,
    history: LineageHistory | null = null,
    schemaVersion?: number,
  ): Promise<PushOutcome[]> => {
    const schema = schemaVersion === undefined ? {} : { schema: { from: schemaVersion, mapping: pushMapping(table, versions, schemaVersion)?.mapping } }
    const result = await applyWrites(
      { driver: on, table, principal, authorize, readScope, now: now(), maxDriftMs: limits.maxDriftMs, hooks, logger, history, ...schema },
      records,
    )
    // Only stamps that passed validation move the clock (a refused far-future stamp must not).
    if (result.acceptedMax !== null) clock.receive(result.acceptedMax)
    if (result.changes.length > 0) notify(result.changes, origin)
    return result.outcomes
  }

  const pushDeps: PushDeps = {
    driver,
    limits,
    logger,
    hooks,
    authorize,
    now,
    locks,
    tableOf,
    versions: () => versions,
    readScopeOf,
    committed(changes, acceptedMax, origin) {
      // Only stamps that passed validation move the clock (a refused far-future stamp must not).
      if (acceptedMax !== null) clock.receive(acceptedMax)
      if (changes.length > 0) notify(changes, origin)
    },
  }

  const syncDeps: SyncDeps = { driver, limits, now, locks, tableOf, versions: () => versions, scopesOf, write }

  const engine: Engine = {
    dialect: driver.dialect.name,
    tables: descriptors,
    limits,
    clock,

    async migrate(options: MigrateOptions = {}) {
      ensureOpen()
      await driver.checkSettings()
      await checkAppTables(driver, tables.values())
      await driver.script(driver.dialect.migrationStatements())
      // Each table's schema version (schema.ts): an unsupported change refuses before anything is served.
      versions = await driver.write(() => recordSchemas([...tables.values()]))
      applyVersions([...tables.values()], versions)
      // A segment of the database's history per run (lineage.ts): costs nothing to clients of this
      // database, and ends the segment a restored backup was in at its rev.
      await driver.write(() => openSegment())
      // Capture (ARCHITECTURE.md): the triggers follow the tables' columns as declared now; then the rows
      // lastword has no metadata for, which the triggers never saw.
      const captured = [...tables.values()].filter((t) => t.capture)
      await driver.write(() => driver.dialect.installCapture(captured))
      if (options.backfill !== false) await engine.backfill(options.backfill)
    },

    async backfill(options: BackfillOptions = {}) {
      ensureOpen()
      return backfill({ driver, logger, now, hook: hooks.beforeBackfillBatch }, tables.values(), options)
    },

    async markRestored() {
      ensureOpen()
      return driver.write(() => openSegment())
    },

    async erase(name, uid) {
      ensureOpen()
      const table = tableOf(name)
      const key = normalizeTableUid(table.descriptor, uid)
      return (await driver.write(() => eraseRecord(driver.dialect, table, key))).erased
    },

    now: () => now(),

    async ready(options = {}) {
      if (closed) return { ready: false, reason: 'closed', message: 'The sync engine was closed', durationMs: 0 }
      return checkReadiness(driver, options.timeoutMs ?? 5_000)
    },

    async bindClient(clientId, principalId) {
      ensureOpen()
      return driver.write(() => bindClientId(clientId, principalId, now(), limits.clientIdBindingMs))
    },

    async effectiveScope(ctx, table, where) {
      ensureOpen()
      const { scope, hash } = await scopesOf(ctx, tableOf(table), where)
      return { scope, hash }
    },

    compileFilter(table, where) {
      ensureOpen()
      const synced = tableOf(table)
      return compileScope(synced.name, clientScopeOf(synced, where))
    },

    async readScope(ctx, table) {
      ensureOpen()
      const synced = tableOf(table)
      const scope = await readScopeOf(ctx, synced)
      return scope === null ? null : compileScope(synced.name, scope)
    },

    async sync(ctx, request) {
      ensureOpen()
      return syncPage(syncDeps, ctx, request)
    },

    async push(ctx, request) {
      ensureOpen()
      return applyPush(pushDeps, ctx, request)
    },

    service(name) {
      ensureOpen()
      const table = tableOf(name)
      let service = services.get(table.name)
      if (service === undefined) {
        service = createTableService({ driver, clock, now, write: (t, records) => write(null, t, records, null) }, table)
        services.set(table.name, service)
      }
      return service
    },

    async purge({ olderThanMs }) {
      ensureOpen()
      if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
        throw new LastwordError('BAD_REQUEST', 'purge needs olderThanMs >= 0')
      }
      return driver.write(() => purgeUpTo(Math.floor(now() - olderThanMs)))
    },

    onCommit(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    activeScopes: (table) => locks.active(table),
    async currentRev() {
      ensureOpen()
      return (await driver.once(() => readState())).rev
    },

    async currentPoint() {
      ensureOpen()
      return formatLineagePoint(await driver.read(() => readLineageState()))
    },

    async changesSince(after, upTo, limit) {
      ensureOpen()
      if (upTo <= after) return { entries: [], scannedTo: after }
      const size = Math.max(1, Math.floor(limit))
      const { logged, lineage } = await driver.once(function* () {
        return { logged: yield* readChangeLog(after, upTo, size), lineage: yield* openLineage() }
      })
      const entries = logged.map(({ rev, tbl, before, current }) => ({ rev, change: committedChange(tbl, current, current.rev, before, lineage) }))
      const scannedTo = logged.length < size ? upTo : (logged[logged.length - 1]?.rev ?? upTo)
      return { entries, scannedTo }
    },

    watchCommits: (watch) => (closed ? null : driver.watchCommits(watch)),
    hookStore: createHookStore(driver, ensureOpen),

    async close() {
      if (closed) return
      closed = true
      listeners.clear()
      driver.close()
    },
  }
  return engine
}
