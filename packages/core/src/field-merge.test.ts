/**
 * The field-level merge rules F1–F8 (SPEC.md section 3a), one by one, and the checks of pushed column
 * stamps. The laws (FM1–FM4) are in field-merge-laws.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { assertTableDescriptor, type TableDescriptor } from './descriptor.js'
import { assertFieldStamps, defaultFieldStamps, fieldDigest, mergeFieldWrite, toFieldRecord, type FieldRecord } from './field-merge.js'
import { formatStamp, type Stamp } from './stamp.js'

const s = (ms: number): Stamp => formatStamp({ ms, counter: 0, node: '00000000000000aa' })
const table: TableDescriptor = {
  name: 'todos',
  merge: 'field',
  columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'done', type: 'boolean', nullable: false, writable: true },
  ],
}

const created: FieldRecord = { uid: 'a', created_at: s(1), updated_at: s(1), deleted_at: null, row: { title: 'milk', done: false }, fields: { title: s(1), done: s(1) } }
const edit = (ms: number, row: Record<string, unknown>): FieldRecord => ({
  uid: 'a',
  created_at: s(1),
  updated_at: s(ms),
  deleted_at: null,
  row,
  fields: Object.fromEntries(Object.keys(row).map((k) => [k, s(ms)])),
})
const del = (ms: number): FieldRecord => ({ uid: 'a', created_at: s(1), updated_at: s(1), deleted_at: s(ms), row: null, fields: {} })

describe('field merge rules (F1–F8)', () => {
  it('F1: a write against nothing creates', () => {
    expect(mergeFieldWrite(undefined, created)).toMatchObject({ rule: 'F1 create', kind: 'applied', changed: true, state: { row: { title: 'milk', done: false } } })
  })

  it('F2: the same write again is a no-op', () => {
    expect(mergeFieldWrite(created, { ...created, row: { ...created.row }, fields: { ...created.fields } })).toMatchObject({ rule: 'F2 same write seen twice', kind: 'noop', changed: false })
    const tomb = mergeFieldWrite(created, del(5)).state
    expect(mergeFieldWrite(tomb, del(5))).toMatchObject({ rule: 'F2 same write seen twice', kind: 'noop', changed: false })
  })

  it('F3: concurrent edits of different columns both survive, in either order', () => {
    const rename = edit(3, { title: 'oat milk' })
    const tick = edit(4, { done: true })
    for (const [x, y] of [[rename, tick], [tick, rename]] as const) {
      const merged = mergeFieldWrite(mergeFieldWrite(created, x).state, y)
      expect(merged).toMatchObject({ rule: 'F3 columns merged', kind: 'applied' })
      expect(merged.state).toMatchObject({ updated_at: s(4), row: { title: 'oat milk', done: true }, fields: { title: s(3), done: s(4) } })
    }
  })

  it('F3 and F8: the same column → the later stamp wins; an edit whose every column is newer already is superseded', () => {
    const later = mergeFieldWrite(created, edit(5, { title: 'B' })).state
    const older = mergeFieldWrite(later, edit(3, { title: 'A' }))
    expect(older).toMatchObject({ rule: 'F8 every column already newer', kind: 'superseded', changed: false })
    expect(older.state.row).toMatchObject({ title: 'B' })
    // An older column write that is still newer than that column's stamp changes the record, not its version.
    const tick = mergeFieldWrite(later, edit(4, { done: true }))
    expect(tick).toMatchObject({ rule: 'F3 columns merged', kind: 'applied', changed: true, state: { updated_at: s(5), row: { title: 'B', done: true } } })
  })

  it('F4 and F7: a later delete wins; an older delete is superseded by a newer edit', () => {
    const edited = mergeFieldWrite(created, edit(4, { done: true })).state
    expect(mergeFieldWrite(edited, del(6))).toMatchObject({ rule: 'F4 later delete wins', kind: 'applied', state: { deleted_at: s(6) } })
    const kept = mergeFieldWrite(edited, del(3))
    expect(kept).toMatchObject({ rule: 'F7 older delete superseded', kind: 'superseded', changed: false, state: { deleted_at: null } })
  })

  it('F5 and F6: an edit and a delete of different columns in either order — older edit stays under the delete, newer brings the record back with the columns as at the delete', () => {
    const deleted = mergeFieldWrite(created, del(5)).state
    const older = mergeFieldWrite(deleted, edit(4, { done: true }))
    expect(older).toMatchObject({ rule: 'F6 older edit stays under the delete', kind: 'superseded', changed: true, state: { deleted_at: s(5) } })
    const back = mergeFieldWrite(older.state, edit(6, { title: 'back' }))
    expect(back).toMatchObject({ rule: 'F5 edit newer than the delete brings the record back', kind: 'applied' })
    // The columns as they were at the delete (done: true, written before it), overlaid with the newer edit.
    expect(back.state).toMatchObject({ deleted_at: null, updated_at: s(6), row: { title: 'back', done: true } })
    // The other order: the newer edit first, then the delete, then the older edit — the same state.
    const other = [edit(6, { title: 'back' }), del(5), edit(4, { done: true })].reduce((st, w) => mergeFieldWrite(st, w).state, created)
    expect(other).toEqual(back.state)
  })

  it('records without column stamps count every column at their updated_at (migration without loss)', () => {
    expect(defaultFieldStamps(['title', 'done'], s(2))).toEqual({ title: s(2), done: s(2) })
    expect(toFieldRecord({ uid: 'a', created_at: s(1), updated_at: s(2), deleted_at: null }, { title: 'x', done: false }, null, ['title', 'done']).fields).toEqual({ title: s(2), done: s(2) })
  })

  it('fieldDigest differs when a column stamp differs and ignores key order', () => {
    expect(fieldDigest({ title: s(1), done: s(2) })).toBe(fieldDigest({ done: s(2), title: s(1) }))
    expect(fieldDigest({ title: s(1), done: s(2) })).not.toBe(fieldDigest({ title: s(1), done: s(3) }))
  })
})

describe('assertFieldStamps', () => {
  const record = { updated_at: s(5), deleted_at: null, row: { title: 'x' } }
  it('accepts stamps of known columns no later than updated_at, each with a value', () => {
    expect(assertFieldStamps(table, record, { title: s(5) })).toEqual({ title: s(5) })
  })
  it.each([
    ['not an object', 'x', 'INVALID_STAMP'],
    ['an unknown column', { nope: s(1) }, 'UNKNOWN_COLUMN'],
    ['a malformed stamp', { title: 'yesterday' }, 'INVALID_STAMP'],
    ['a stamp after updated_at', { title: s(6) }, 'INVALID_STAMP'],
    ['a stamped column without a value', { done: s(5) }, 'INVALID_VALUE'],
    ['more stamps than columns', { title: s(1), done: s(1), x: s(1) }, 'UNKNOWN_COLUMN'],
  ])('refuses %s, never echoing it', (_what, fields, code) => {
    try {
      assertFieldStamps(table, record, fields)
      expect.unreachable()
    } catch (error) {
      expect(error).toMatchObject({ code })
      expect(String((error as Error).message)).not.toContain('yesterday')
    }
  })
})

describe('the merge option of a descriptor', () => {
  it('accepts row and field, refuses anything else', () => {
    expect(assertTableDescriptor(table).merge).toBe('field')
    expect(() => assertTableDescriptor({ ...table, merge: 'cell' as 'row' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
  })
})
