/**
 * A table's key and uuid values (SPEC.md section 4, "The key" and "uuid"): the descriptor's `key` and
 * `keyType` checked like the rest of it; uuid values accepted in either case and kept lowercase,
 * anything else refused with a typed error that never echoes the value; a uuid-keyed table's uids
 * canonical UUIDs on the wire; rows and client writes carrying the key beside the columns.
 */
import { describe, expect, it } from 'vitest'
import { assertTableDescriptor, normalizeClientWrite, normalizeRow, normalizeValue, type ColumnDescriptor, type TableDescriptor } from './descriptor.js'
import { LastwordError } from './errors.js'
import { assertTableUid, keyOf, normalizeTableUid } from './table-key.js'
import { isCanonicalUuid, normalizeUuid } from './uuid.js'
import { matches, validateWhere } from './where.js'

function caught(fn: () => unknown): LastwordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return error as LastwordError
  }
  throw new Error('expected a LastwordError, nothing was thrown')
}

const col = (name: string, type: ColumnDescriptor['type'], nullable = true): ColumnDescriptor => ({ name, type, nullable, writable: true })

const UUID = '0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b'
const items: TableDescriptor = { name: 'items', key: 'id', keyType: 'uuid', columns: [col('name', 'text', false), col('owner', 'uuid')] }
const labels: TableDescriptor = { name: 'labels', key: 'id', columns: [col('text', 'text', false)] }

describe('uuid values', () => {
  it('accepts 8-4-4-4-12 hexadecimal digits in either case, any version, and keeps the lowercase form', () => {
    expect(normalizeUuid(UUID)).toBe(UUID)
    expect(normalizeUuid(UUID.toUpperCase())).toBe(UUID)
    expect(normalizeUuid('00000000-0000-0000-0000-000000000000')).toBe('00000000-0000-0000-0000-000000000000')
    expect(normalizeUuid('FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF')).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff')
    expect(isCanonicalUuid(UUID)).toBe(true)
    expect(isCanonicalUuid(UUID.toUpperCase())).toBe(false)
  })

  it('refuses every other spelling PostgreSQL would read, and what is no UUID', () => {
    for (const bad of [`{${UUID}}`, `urn:uuid:${UUID}`, UUID.replaceAll('-', ''), ` ${UUID}`, `${UUID}\n`, UUID.slice(1), `${UUID}0`, 'g190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b', '', 42, null]) {
      expect(normalizeUuid(bad)).toBeUndefined()
    }
  })

  it('a uuid column: normalised in rows, refused with INVALID_VALUE naming the column, never the value', () => {
    const owner = items.columns[1] as ColumnDescriptor
    expect(normalizeValue(owner, UUID.toUpperCase())).toBe(UUID)
    expect(normalizeRow(items, { name: 'a', owner: UUID.toUpperCase() })).toEqual({ name: 'a', owner: UUID })
    const error = caught(() => normalizeRow(items, { name: 'a', owner: 'not-a-uuid-secret' }))
    expect(error.code).toBe('INVALID_VALUE')
    expect(error.details).toEqual({ column: 'owner', expected: 'uuid' })
    expect(error.message).not.toContain('secret')
    expect(caught(() => normalizeValue(owner, 7)).code).toBe('INVALID_VALUE')
  })

  it('filters on a uuid column: either case, one scope, matching the stored lowercase value; ranges in canonical order', () => {
    const upper = validateWhere({ owner: UUID.toUpperCase() }, items)
    expect(upper).toEqual(validateWhere({ owner: UUID }, items))
    expect(matches({ name: 'a', owner: UUID }, upper)).toBe(true)
    // Canonical lowercase text sorts as PostgreSQL sorts uuids (by their bytes): '9' < 'a'.
    const range = validateWhere({ owner: { gt: '90000000-0000-0000-0000-000000000000' } }, items)
    expect(matches({ owner: 'a0000000-0000-0000-0000-000000000000' }, range)).toBe(true)
    expect(matches({ owner: '10000000-0000-0000-0000-000000000000' }, range)).toBe(false)
    expect(caught(() => validateWhere({ owner: 'nope' }, items)).code).toBe('INVALID_VALUE')
    expect(caught(() => validateWhere({ owner: { in: [UUID, 3] } }, items)).code).toBe('INVALID_VALUE')
  })
})

describe('the descriptor names its key', () => {
  it('absent: uid, as before; else the name rows carry the uid under', () => {
    expect(keyOf({})).toBe('uid')
    expect(keyOf(labels)).toBe('id')
    expect(assertTableDescriptor(items)).toBe(items)
    expect(assertTableDescriptor({ ...labels, key: 'uid' }).key).toBe('uid')
  })

  it('refuses a key that is no identifier, lastword’s, a pollution key or a column’s name; a keyType other than uuid', () => {
    for (const key of ['', '1id', 'my id', 'created_at', 'rev', '__proto__', 'constructor', 'text', 7]) {
      const error = caught(() => assertTableDescriptor({ ...labels, key } as unknown as TableDescriptor))
      expect(error.code).toBe('BAD_REQUEST')
    }
    expect(caught(() => assertTableDescriptor({ ...labels, keyType: 'int' } as unknown as TableDescriptor)).code).toBe('BAD_REQUEST')
  })
})

describe('uids of a keyed table', () => {
  it('on the wire a uuid key takes canonical UUIDs only (INVALID_UID, no echo); a text key any uid', () => {
    expect(assertTableUid(items, UUID)).toBe(UUID)
    for (const bad of [UUID.toUpperCase(), 'abc', `{${UUID}}`, 5]) {
      const error = caught(() => assertTableUid(items, bad))
      expect(error.code).toBe('INVALID_UID')
    }
    expect(caught(() => assertTableUid(items, 'secret-uid')).message).not.toContain('secret')
    expect(assertTableUid(labels, 'any_uid-1')).toBe('any_uid-1')
    expect(caught(() => assertTableUid(labels, 'a b')).code).toBe('INVALID_UID')
  })

  it('from the app: a UUID of either case, taken lowercase', () => {
    expect(normalizeTableUid(items, UUID.toUpperCase())).toBe(UUID)
    expect(caught(() => normalizeTableUid(items, 'abc')).code).toBe('INVALID_UID')
    expect(normalizeTableUid(labels, 'ABC')).toBe('ABC')
  })

  it('rows and client writes carry the key beside the columns: ignored there, and `uid` is then a column name like any other', () => {
    expect(normalizeRow(labels, { id: 'x', text: 'a' })).toEqual({ text: 'a' })
    expect(caught(() => normalizeRow(labels, { uid: 'x', text: 'a' })).code).toBe('UNKNOWN_COLUMN')
    expect(normalizeClientWrite(labels, { id: 'x', text: 'a' }, null)).toEqual({ text: 'a' })
    expect(normalizeClientWrite(labels, { id: 'x', text: 'b' }, null, true)).toEqual({ text: 'b' })
    expect(caught(() => normalizeClientWrite(labels, { uid: 'x', text: 'a' }, null)).code).toBe('UNKNOWN_COLUMN')
    // A table keyed `uid` is as before.
    expect(normalizeRow({ name: 't', columns: [col('text', 'text')] }, { uid: 'x', text: 'a' })).toEqual({ text: 'a' })
  })
})
