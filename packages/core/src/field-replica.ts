/**
 * A client replica's side of field-level merge (SPEC.md section 3a, rule A5 of section 6): a live
 * server state of a `merge: 'field'` table joins the live local record column by column with core's
 * `joinFieldRecords`, so a local edit of one column survives a newer server state that changed another.
 * The columns written locally and not yet acknowledged (`changed`) stay dirty only where the local stamp
 * is still later than the server's; when none is left, the record is clean.
 */
import { defaultFieldStamps, joinFieldRecords, sameFieldState, type FieldRecord, type FieldStamps } from './field-merge.js'
import type { RecordState } from './metadata.js'
import type { IncomingDecision, ReplicaRecord } from './replica.js'
import { compareStamps } from './stamp.js'

/** A live local record as core's merge sees it (every column at `updated_at` when it has no stamps). */
function localFieldRecord(local: ReplicaRecord): FieldRecord {
  const row = local.row ?? {}
  return { uid: local.uid, created_at: local.created_at, updated_at: local.updated_at, deleted_at: null, row, fields: local.fields ?? defaultFieldStamps(Object.keys(row), local.updated_at) }
}

/**
 * A5: joins a live incoming state with column stamps into the live local record. Returns `applied` with
 * the joined record when anything changes, `same` when the incoming state is the local one, else `kept`.
 */
export function joinIncoming<T extends ReplicaRecord>(local: T, incoming: RecordState & { fields: FieldStamps }): IncomingDecision<T> {
  const mine = localFieldRecord(local)
  const theirs: FieldRecord = { ...incoming, deleted_at: null, row: incoming.row ?? {}, fields: incoming.fields }
  const joined = joinFieldRecords(mine, theirs)
  const written = local.dirty ? (local.changed ?? Object.keys(mine.fields)) : []
  // A server state stamps every column the table has: a column it lacks was dropped by a schema change
  // (SV3), and is no longer this client's to push.
  const changed = written.filter((c) => {
    const own = mine.fields[c]
    const other = incoming.fields[c]
    return own !== undefined && other !== undefined && joined.fields[c] === own && compareStamps(own, other) > 0
  })
  const dirty = changed.length > 0
  if (sameFieldState(joined, mine) && dirty === local.dirty && changed.length === written.length && local.acknowledged) {
    return sameFieldState(joined, theirs) ? { kind: 'same', rule: 'A3 same write acknowledges', write: null } : { kind: 'kept', rule: 'A4 local state newer', write: null }
  }
  const { rejected: _rejected, changed: _changed, ...rest } = local
  const write: ReplicaRecord = {
    ...(dirty ? local : rest),
    created_at: joined.created_at,
    updated_at: joined.updated_at,
    row: joined.row,
    fields: joined.fields,
    dirty,
    acknowledged: true,
    ...(dirty ? { changed } : {}),
  }
  return { kind: 'applied', rule: 'A5 columns joined', write }
}
