/**
 * Tombstone-aware services of one table for the app's own server code. They run as `system`
 * (no `authorize`), stamp with the server's clock, and go through the same write path as pushes.
 */
import {
  LastwordError,
  assertSafeKey,
  isFieldMerge,
  keyOf,
  normalizeTableUid,
  fromWireError,
  validateWhere,
  versionOf,
  type Hlc,
  type PushOutcome,
  type WireRecord,
  type Where,
} from '@lastword/core'
import { is, sql, SQL } from 'drizzle-orm'
import type { Row, TableService } from '../types.js'
import type { Dialect, Driver } from './dialect/types.js'
import { all } from './tx.js'
import { uuidv7 } from './ids.js'
import { scopeSql } from './scope-sql.js'
import { readMeta } from './store.js'
import { decodeRow, type SyncedTable } from './tables.js'

/** What the services need from the engine. */
export interface ServiceDeps {
  driver: Driver
  clock: Hlc
  now: () => number
  /** Applies records as `system`. */
  write: (table: SyncedTable, records: WireRecord[]) => Promise<PushOutcome[]>
}

const APP_FILTER_LIMITS = { maxConditions: 1_000, maxInValues: 100_000, maxValueLength: 100_000 }

function selectRows(dialect: Dialect, table: SyncedTable, where: SQL): SQL {
  const columns = table.columns.map((c, i) => sql`, ${c.column} AS ${sql.identifier(`c${i}`)}`)
  // uid order is code-point order everywhere lastword lists uids.
  return sql`SELECT ${table.uid} AS lw_uid${sql.join(columns)} FROM ${table.table} WHERE ${where} ORDER BY ${dialect.uidOrder(table)}`
}

/** Refuses pollution keys in a patch before it is merged into a stored row. */
function assertSafePatch(patch: unknown, table: string): Record<string, unknown> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new LastwordError('INVALID_VALUE', `A patch of "${table}" must be an object`)
  }
  for (const key of Object.keys(patch)) assertSafeKey(key, `patch of "${table}"`)
  return patch as Record<string, unknown>
}

function throwIfRejected(outcome: PushOutcome | undefined): void {
  if (outcome?.status === 'rejected') throw fromWireError(outcome.error)
}

/** Builds the services of one table. */
export function createTableService(deps: ServiceDeps, table: SyncedTable): TableService {
  const { driver } = deps
  // Rows carry the uid under the table's key (`uid`, or the app's primary key name: core's keyOf).
  const key = keyOf(table.descriptor)
  const uidOf = (uid: unknown): string => normalizeTableUid(table.descriptor, uid)
  const toRow = (raw: Record<string, unknown>): Row & { uid: string } =>
    Object.assign(decodeRow(table, raw), { [key]: String(raw['lw_uid']) }) as Row & { uid: string }

  const readRecord = async (uid: string) => {
    const stored = await driver.once(() => readMeta(driver.dialect, table.name, [uid]))
    return stored.get(uid)
  }

  /** Drizzle's static defaults and `$defaultFn`s, for columns a create leaves out. */
  const withDefaults = (row: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...row }
    for (const c of table.columns) {
      const name = c.descriptor.name
      if (Object.prototype.hasOwnProperty.call(out, name)) continue
      if (c.column.default !== undefined && !is(c.column.default, SQL)) out[name] = c.column.default
      else if (c.column.defaultFn !== undefined) {
        const value = c.column.defaultFn()
        if (!is(value, SQL)) out[name] = value
      }
    }
    return out
  }

  return {
    async findUnique(given) {
      const uid = uidOf(given)
      const rows = await driver.once(() => all(selectRows(driver.dialect, table, sql`${table.uid} = ${uid}`)))
      const raw = rows[0]
      return raw === undefined ? null : toRow(raw)
    },
    async findMany(where: Where = {}) {
      const scope = validateWhere(where, table.descriptor, APP_FILTER_LIMITS)
      const rows = await driver.once(() => all(selectRows(driver.dialect, table, scopeSql(driver.dialect, table, scope))))
      return rows.map(toRow)
    },
    async create(input) {
      const { [key]: given, ...rest } = assertSafePatch(input, table.name)
      const uid = given === undefined ? uuidv7(deps.now()) : uidOf(given)
      const stamp = deps.clock.next()
      const outcomes = await deps.write(table, [{ uid, created_at: stamp, updated_at: stamp, deleted_at: null, row: withDefaults(rest) }])
      throwIfRejected(outcomes[0])
      return uid
    },
    async update(given, patch) {
      const uid = uidOf(given)
      const changes = assertSafePatch(patch, table.name)
      const stored = await readRecord(uid)
      if (stored === undefined || stored.deleted_at !== null) {
        throw new LastwordError('NOT_FOUND', `No live record ${uid} in "${table.name}"`, { table: table.name, uid })
      }
      // Past the stored version, so this write wins unless another lands in between.
      deps.clock.receive(versionOf(stored))
      const stamp = deps.clock.next()
      const { [key]: _ignored, ...fields } = changes
      // A field-merge table: only the patched columns, at the new stamp (core's SPEC.md section 3a), so a
      // concurrent client edit of another column survives.
      const fieldMerge = isFieldMerge(table.descriptor)
      const row = fieldMerge ? fields : { ...(stored.image ?? {}), ...fields }
      const stamps = fieldMerge ? { fields: Object.fromEntries(Object.keys(fields).map((c) => [c, stamp])) } : {}
      const outcomes = await deps.write(table, [{ uid, created_at: stored.created_at, updated_at: stamp, deleted_at: null, row, ...stamps }])
      throwIfRejected(outcomes[0])
    },
    async delete(given) {
      const uid = uidOf(given)
      const stored = await readRecord(uid)
      if (stored === undefined) throw new LastwordError('NOT_FOUND', `No record ${uid} in "${table.name}"`, { table: table.name, uid })
      if (stored.deleted_at !== null) return
      deps.clock.receive(versionOf(stored))
      const stamp = deps.clock.next()
      const outcomes = await deps.write(table, [{ uid, created_at: stored.created_at, updated_at: stored.updated_at, deleted_at: stamp, row: null }])
      throwIfRejected(outcomes[0])
    },
    async push(records) {
      if (!Array.isArray(records)) throw new LastwordError('BAD_REQUEST', 'push takes an array of records')
      return deps.write(table, records)
    },
  }
}
