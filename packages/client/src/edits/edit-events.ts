/**
 * The `edit` event: what happened to a local edit the server did not take — it lost to a later write
 * (`superseded`, SPEC.md P3/P4) or was refused (`rejected`, P7, with its typed code). Told by the tab
 * that owns the sync once the `lw:push` answer that says so is stored (pusher.ts), and by the other tabs
 * from its relayed report ({@link editsFromReport}). A superseded edit carries the winner when the user
 * may read it (the push answer's winner); `null` when the server hides it (P4).
 */
import { fromWireError, type RecordState, type RowValues, type Stamp, type WireError } from '@lastword/core'
import type { LocalStore } from '../store/types.js'

/** The state that won over a local edit. */
export interface EditWinner {
  /** The winner's row (`null` when it is a deletion). */
  row: RowValues | null
  created_at: Stamp
  updated_at: Stamp
  deleted_at: Stamp | null
}

/** What happened to one local edit (the `edit` event). */
export type EditEvent =
  | {
      kind: 'superseded'
      table: string
      uid: string
      /** The conflict rule that decided it (SPEC.md R1–R9). */
      rule: string
      /** The winning state, when the user may read it; else `null` (the local copy was removed, P4). */
      winner: EditWinner | null
    }
  | {
      kind: 'rejected'
      table: string
      uid: string
      /**
       * Why (`FORBIDDEN`, `INVALID_VALUE`, …): the record is kept, no longer dirty; see `client.rejected()`.
       * `PURGED` (the record was deleted and purged on the server, R10): the local copy is removed instead.
       * `PARENT_DELETED` (a parent it references was deleted, core's SPEC.md PD1): removed too, and the
       * server's state of it comes back (P9).
       */
      error: WireError
    }

const toWinner = (state: RecordState): EditWinner => ({
  row: state.deleted_at === null ? state.row : null,
  created_at: state.created_at,
  updated_at: state.updated_at,
  deleted_at: state.deleted_at,
})

/**
 * The `edit` events of another tab's sync, for a follower (its owner ran the sync and relayed the
 * report): refusals as reported; a superseded edit's winner read from the local database, where the
 * owner stored it (`null` when the record is gone — the winner was hidden — or written again since).
 */
export async function editsFromReport(report: unknown, store: LocalStore): Promise<EditEvent[]> {
  const r = (typeof report === 'object' && report !== null ? report : {}) as { table?: unknown; superseded?: unknown; rejected?: unknown }
  if (typeof r.table !== 'string') return []
  const table = r.table
  const list = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : [])
  const superseded = list(r.superseded).filter((e) => typeof e['uid'] === 'string' && typeof e['rule'] === 'string')
  const events: EditEvent[] = []
  if (superseded.length > 0) {
    const uids = superseded.map((e) => e['uid'] as string)
    const stored = await store.transaction('readonly', (tx) => tx.getRecords(table, uids))
    superseded.forEach((e, i) => {
      const record = stored[i]
      const winner = record === undefined || record.dirty ? null : toWinner({ ...record, row: record.row ?? {} })
      events.push({ kind: 'superseded', table, uid: e['uid'] as string, rule: e['rule'] as string, winner })
    })
  }
  for (const e of list(r.rejected)) {
    const error = e['error'] as { code?: unknown; message?: unknown } | undefined
    if (typeof e['uid'] === 'string' && typeof error?.code === 'string') events.push({ kind: 'rejected', table, uid: e['uid'], error: fromWireError(error).toWire() })
  }
  return events
}
