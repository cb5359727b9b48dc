/**
 * Deterministic regressions T30 found on the server (docs/test-matrix.md): B27 — a unit deleting a list
 * (ON DELETE SET NULL clears its todo's reference, captured by the triggers) and then the todo. On
 * PostgreSQL the capture of the cleared reference was written at commit over the engine's tombstone: the
 * todo came back live in lastword's metadata without an app row.
 */
import { formatStamp, type WireRecord } from '@lastword/core'
import { expect } from 'vitest'
import type { RelationalDatabase } from './relational-schema.js'
import { createInMemoryServer } from './server-kit.js'

const L = '01900000-0000-7000-8000-0000000000a1'
const T = '01900000-0000-7000-8000-0000000000b1'
const stamp = (ms: number): string => formatStamp({ ms: Date.now() - 60_000 + ms, counter: 0, node: '0123456789abcdef' })
const live = (uid: string, at: number, row: Record<string, unknown>): WireRecord => ({ uid, created_at: stamp(at), updated_at: stamp(at), deleted_at: null, row })
const dead = (uid: string, created: number, at: number): WireRecord => ({ uid, created_at: stamp(created), updated_at: stamp(created), deleted_at: stamp(at), row: null })

/** B27: a list and then its todo deleted in one unit leave both tombstones, and no app row. */
export async function listThenTodoDeleted(rel: RelationalDatabase): Promise<void> {
  const server = await createInMemoryServer({ database: rel.database, tables: rel.tables })
  try {
    const ctx = { principal: { id: 'me' } }
    const todo = { list_id: L, title: 'milk', tag: 'x' }
    await server.engine.push(ctx, { units: [{ atomic: true, groups: [{ table: 'lists', records: [live(L, 1, { name: 'groceries' })] }, { table: 'todos', records: [live(T, 2, todo)] }] }] })
    // A client's delete of the list and of its todo (PD4 under cascade, or two deletes), one non-atomic unit.
    const answer = await server.engine.push(ctx, { units: [{ atomic: false, groups: [{ table: 'lists', records: [dead(L, 1, 3)] }, { table: 'todos', records: [dead(T, 2, 4)] }] }] })
    expect(answer.units[0]?.outcomes.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['applied', 'applied'])
    const meta = await rel.database.raw(`SELECT tbl, uid, deleted_at FROM lastword_meta ORDER BY tbl, uid`)
    expect(meta.map((m) => [m['tbl'], m['uid'], m['deleted_at'] !== null])).toEqual([
      ['lists', L, true],
      ['todos', T, true],
    ])
    expect(await rel.database.raw('SELECT uid FROM todos')).toEqual([])
  } finally {
    await server.close()
    await rel.database.close()
  }
}
