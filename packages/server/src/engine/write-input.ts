/**
 * Step 1 of the write path (write.ts): one pushed record on its own — its uid, stamps, drift and row,
 * mapped from the schema version it was written under and, for a field-merge table, to the columns it
 * stamps — and the row a write composes from it and the stored one. A bad record throws the reason to
 * reject it; the others go on (attack V10).
 */
import {
  LastwordError,
  assertMetaOrder,
  assertTableUid,
  assertWithinDrift,
  assertWritableColumns,
  isPurgeProven,
  normalizeRow,
  normalizeValue,
  versionOf,
  type RecordMeta,
  type Stamp,
  type WireRecord,
} from '@lastword/core'
import { pushedColumns } from './fields.js'
import { mappedFieldPush, pushedRow } from './schema.js'
import { assertStorable } from './tables.js'
import type { Candidate, WriteContext } from './write.js'

/** Step 1: one record on its own. Throws the reason to reject it. */
export function validateRecord(ctx: WriteContext, record: WireRecord, index: number): Candidate {
  if (typeof record !== 'object' || record === null) throw new LastwordError('BAD_REQUEST', 'A pushed record must be an object')
  // The uid in the table key's form: a uuid key takes canonical UUIDs only (what its column stores).
  const uid = assertTableUid(ctx.table.descriptor, record.uid)
  assertMetaOrder(record)
  const meta: RecordMeta = { uid, created_at: record.created_at as Stamp, updated_at: record.updated_at as Stamp, deleted_at: record.deleted_at as Stamp | null }
  assertWithinDrift(versionOf(meta), ctx.now, ctx.maxDriftMs)
  const pushed = pushedColumns(ctx.table, mappedFieldPush(ctx.table, ctx.schema, record), meta)
  if (meta.deleted_at !== null) {
    if (record.row !== null && record.row !== undefined) {
      throw new LastwordError('BAD_REQUEST', 'A tombstone (deleted_at set) carries no row; send row: null')
    }
    return { index, meta, row: null, fields: pushed.fields, ...evidence(ctx, record) }
  }
  let input = record.row as unknown
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new LastwordError('INVALID_VALUE', `A live record of "${ctx.table.name}" needs its full row`)
  }
  // SV2/SV3 (schema.ts): the row in the current version's names, and the columns it writes.
  const { row: mappedInput, descriptor } = pushedRow(ctx.table, ctx.schema, input as Record<string, unknown>)
  input = mappedInput
  // A principal never sets a server-owned column (attack V3): core's one rule refuses the record
  // (READ_ONLY_COLUMN), as the client refuses such a local write.
  if (ctx.principal !== null) assertWritableColumns(ctx.table.descriptor, input as Record<string, unknown>)
  // A field-merge push of some columns: only those (checked and normalised by pushedColumns, in the
  // current schema's names); otherwise the row in the names of the version it was written under.
  const row = pushed.row ?? normalizeRow(descriptor, input, { dropReadOnly: true })
  if (ctx.principal === null) {
    // The app itself may set server columns; what it leaves out is filled as for anyone else.
    for (const column of ctx.table.columns) {
      const name = column.descriptor.name
      if (!column.descriptor.writable && Object.prototype.hasOwnProperty.call(input, name)) {
        row[name] = normalizeValue(column.descriptor, (input as Record<string, unknown>)[name])
      }
    }
  }
  for (const column of ctx.table.columns) {
    if (Object.prototype.hasOwnProperty.call(row, column.descriptor.name)) assertStorable(column, row[column.descriptor.name])
  }
  return { index, meta, row, fields: pushed.fields, ...evidence(ctx, record) }
}

/** What a pushed record says of its acknowledgement, and whether that proves a purge (R10, R12). */
function evidence(ctx: WriteContext, record: WireRecord): { acknowledged: boolean; purgeProven: boolean } {
  const acknowledged = record.acknowledged === true
  return { acknowledged, purgeProven: ctx.history !== null && isPurgeProven({ acknowledged, knownAt: record.knownAt }, ctx.history) }
}

export function composeRow(ctx: WriteContext, candidate: Candidate, before: Record<string, unknown> | null): Record<string, unknown> {
  const source = candidate.row ?? {}
  const out: Record<string, unknown> = {}
  for (const column of ctx.table.columns) {
    const name = column.descriptor.name
    if (Object.prototype.hasOwnProperty.call(source, name)) {
      out[name] = source[name]
    } else if (before !== null) {
      out[name] = Object.prototype.hasOwnProperty.call(before, name) ? before[name] : null
    } else {
      // A create that leaves a column out (a push from an older schema, SV1): its default, else null.
      const fill = ctx.table.serverColumns.get(name)
      const made = ctx.table.defaults.get(name)
      const value = normalizeValue(column.descriptor, fill !== undefined ? fill(ctx.principal) : made !== undefined ? made() : null)
      assertStorable(column, value)
      out[name] = value
    }
  }
  return out
}
