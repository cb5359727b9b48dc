/**
 * Step 2 of the write path (write.ts) and its decisions: each validated record composed (server columns
 * from the principal on create, kept on update; a field-merge write merged into the stored state) and
 * authorized against the stored state as the records before it in the push leave it; then every accepted
 * record decided with core's rule in push order (`replay`, pure), again after some were refused.
 */
import {
  LastwordError,
  assertSameWrite,
  isFieldMerge,
  isPurgedWrite,
  matches,
  resolveWrite,
  toLastwordError,
  type Resolution,
  type Scope,
} from '@lastword/core'
import type { WriteOp } from '../types.js'
import { AuthorizeFailure, callAuthorize, isWriteAllowed } from './authorize.js'
import { incomingFieldRecord, mergeStored } from './fields.js'
import type { ServerRecord } from './store.js'
import type { SyncedTable } from './tables.js'
import { composeRow } from './write-input.js'
import { isLive as live } from './write-rows.js'
import type { Accepted, Candidate, Final, Prepared, WriteContext } from './write.js'
function purged(uid: string): LastwordError {
  return new LastwordError('PURGED', 'This record was deleted and purged after retention on the server; remove it', { uid })
}

/** Whether a stored row (a tombstone's last image included) is within what the caller may read. */
function readableBy(readScope: Scope | null, stored: Record<string, unknown> | null): boolean {
  return readScope === null || (stored !== null && matches(stored, readScope))
}

function copy(row: Record<string, unknown> | null): Record<string, unknown> | null {
  return row === null ? null : structuredClone(row)
}

/** Step 2: compose and authorize each candidate against `stored`, in push order. */
export async function prepare(ctx: WriteContext, candidates: readonly Candidate[], stored: ReadonlyMap<string, ServerRecord>): Promise<Prepared> {
  // The stored state as the candidates accepted so far would leave it: a later write of the same uid in
  // this push is composed and authorized against it.
  const projected = new Map(stored)
  const accepted: Accepted[] = []
  const rejected = new Map<number, LastwordError>()
  for (const candidate of candidates) {
    const { uid } = candidate.meta
    const current = projected.get(uid)
    // `before` fills the columns a write leaves out: only a live row has them.
    const before = live(current) ? (current?.image ?? null) : null
    // What authorize sees as the stored row: a tombstone's last image too, so a rule on the stored row
    // ("own rows only") protects deleted records from being re-stamped or re-created by another tenant.
    const stored = current?.image ?? null
    try {
      if (isPurgedWrite(current, candidate, candidate.purgeProven)) throw purged(uid)
      // A field-merge write merges into the last image, a tombstone's included (F5, F6).
      const base = isFieldMerge(ctx.table.descriptor) ? stored : before
      const composed = candidate.meta.deleted_at === null ? composeRow(ctx, candidate, base) : null
      // Field merge: the write as core's merge takes it, and the row it would leave (authorize sees it).
      const field = isFieldMerge(ctx.table.descriptor) ? incomingFieldRecord(candidate.meta, candidate.fields, composed, current?.image ?? null) : undefined
      const after = field === undefined || composed === null ? composed : (mergeStored(ctx.table, current, field, -1).state.image ?? composed)
      if (ctx.principal !== null && ctx.authorize !== undefined) {
        const op: WriteOp = after === null ? 'delete' : before === null ? 'create' : 'update'
        // Copies: the app's authorize must not be able to change what gets written.
        const request = { op, principal: ctx.principal, table: ctx.table.name, uid, before: copy(stored), after: copy(after) }
        const result = await callAuthorize(ctx.authorize, request, ctx.logger)
        if (!isWriteAllowed(result, ctx.table, stored, after, ctx.logger)) {
          // I13: a write of a uid the server acknowledged to this client, refused on a record the caller
          // may not read, answers as for a uid the server no longer knows (R10): FORBIDDEN would say it exists.
          // Without R12's evidence a never-known uid would be created, so this one answers FORBIDDEN as a
          // taken uid does (the residual "creating on a taken uid", docs/guarantees.md).
          if (candidate.purgeProven && current !== undefined && !readableBy(ctx.readScope, stored)) throw purged(uid)
          throw new LastwordError('FORBIDDEN', `Not allowed to ${op} this record of "${ctx.table.name}"`, { op })
        }
      }
      // R11: a write at the stored version must be the stored write seen again (checked once authorized,
      // so a record the caller may not write answers FORBIDDEN like any other).
      if (field === undefined && current !== undefined && resolveWrite(current, candidate.meta).kind === 'noop') {
        assertSameWrite(ctx.table.descriptor, { deleted_at: current.deleted_at, row: current.image }, { deleted_at: candidate.meta.deleted_at, row: after })
      }
      accepted.push(field === undefined ? { candidate, after } : { candidate, after, field })
      advance(ctx.table, projected, { candidate, after, ...(field === undefined ? {} : { field }) }, -1)
    } catch (error) {
      // A throwing authorize ends the request (authorize.ts); anything else rejects this record alone.
      if (error instanceof AuthorizeFailure) throw error
      rejected.set(candidate.index, toLastwordError(error))
    }
  }
  return { accepted, rejected }
}

/** Decides one write against the projected state and projects it; `write`: the stored state changes. */
function advance(table: SyncedTable, projected: Map<string, ServerRecord>, accepted: Accepted, rev: number): { resolution: Resolution<ServerRecord>; write: boolean } {
  const meta = accepted.candidate.meta
  const current = projected.get(meta.uid)
  if (accepted.field !== undefined) {
    // Field merge (core's mergeFieldWrite, F1–F8): even a superseded write may change the state (F6).
    const merged = mergeStored(table, current, accepted.field, rev)
    if (merged.changed) projected.set(meta.uid, merged.state)
    return { resolution: merged.resolution, write: merged.changed }
  }
  const resolution = resolveWrite(current, meta)
  if (resolution.kind === 'applied') {
    // A tombstone keeps the last image it had, so scopes still apply to the deletion (trap 2).
    projected.set(meta.uid, { ...meta, rev, image: accepted.after ?? current?.image ?? null, fields: null })
  }
  return { resolution, write: resolution.kind === 'applied' }
}

/** Decides every accepted record against `stored`: core's rule, in push order. Pure. */
export function replay(table: SyncedTable, accepted: readonly Accepted[], stored: ReadonlyMap<string, ServerRecord>): { resolutions: Resolution<ServerRecord>[]; finals: Final[]; states: (ServerRecord | undefined)[] } {
  const projected = new Map(stored)
  const finals = new Map<string, Final>()
  const states: (ServerRecord | undefined)[] = []
  const resolutions = accepted.map((a) => {
    const { candidate } = a
    const { resolution, write } = advance(table, projected, a, 0)
    states.push(projected.get(candidate.meta.uid))
    if (write) {
      const uid = candidate.meta.uid
      const state = projected.get(uid) as ServerRecord
      const existing = finals.get(uid)
      finals.set(uid, { uid, initial: stored.get(uid), state, order: existing?.order ?? finals.size })
    }
    return resolution
  })
  return { resolutions, finals: [...finals.values()].sort((a, b) => a.order - b.order), states }
}

/** The accepted writes of the uids in `refused` become rejections with their error, and the rest is decided again. */
export function dropRefused(table: SyncedTable, prepared: Prepared, stored: ReadonlyMap<string, ServerRecord>, refused: ReadonlyMap<string, LastwordError>): { prepared: Prepared } & ReturnType<typeof replay> {
  const rejected = new Map(prepared.rejected)
  for (const a of prepared.accepted) {
    const error = refused.get(a.candidate.meta.uid)
    if (error !== undefined) rejected.set(a.candidate.index, error)
  }
  const kept = { accepted: prepared.accepted.filter((a) => !refused.has(a.candidate.meta.uid)), rejected }
  return { prepared: kept, ...replay(table, kept.accepted, stored) }
}
