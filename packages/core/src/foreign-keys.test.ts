// Foreign keys and the parent-deleted rule (SPEC.md section 4a: PD1–PD5), one table of cases per rule.
import { describe, expect, it } from 'vitest'
import { assertTableDescriptor, type TableDescriptor } from './descriptor.js'
import { isLastwordError } from './errors.js'
import { assertParentsLive, childEffects, isParentDeleted, parentRefs, type ForeignKeyAction, type ForeignKeyDescriptor, type ParentState } from './foreign-keys.js'

const lists: TableDescriptor = { name: 'lists', columns: [{ name: 'name', type: 'text', nullable: false, writable: true }] }

/** A child table whose `list_uid` references lists with `onDelete`. */
function todos(onDelete: ForeignKeyAction, nullable = true, writable = true): TableDescriptor {
  return {
    name: 'todos',
    columns: [
      { name: 'title', type: 'text', nullable: false, writable: true },
      { name: 'list_uid', type: 'text', nullable, writable },
    ],
    foreignKeys: [{ column: 'list_uid', references: 'lists', onDelete, onUpdate: 'no action' }],
  }
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn()
    return null
  } catch (error) {
    return isLastwordError(error) ? error.code : 'not a LastwordError'
  }
}

describe('PD1/PD3: whether a parent refuses its child (isParentDeleted)', () => {
  const cases: Array<[string, ParentState, boolean, boolean]> = [
    // [parent, state, server refuses, client refuses]
    ['live', { deleted_at: null }, false, false],
    ['a tombstone', { deleted_at: 'x' }, true, true],
    ['absent', undefined, true, false],
  ]
  for (const [what, state, server, client] of cases) {
    it(`a parent ${what}: the server ${server ? 'refuses' : 'accepts'}, a client ${client ? 'refuses' : 'accepts'}`, () => {
      expect(isParentDeleted(state, 'server')).toBe(server)
      expect(isParentDeleted(state, 'client')).toBe(client)
    })
  }
})

describe('assertParentsLive', () => {
  const table = todos('cascade')
  const tombstone = (parent: string, uid: string): ParentState => (parent === 'lists' && uid === 'gone' ? { deleted_at: 'x' } : { deleted_at: null })

  it('refuses a row pointing at a deleted parent with PARENT_DELETED, naming the column, never the uid', () => {
    let caught: unknown
    try {
      assertParentsLive(table, { title: 't', list_uid: 'gone' }, tombstone, 'client')
    } catch (error) {
      caught = error
    }
    expect(isLastwordError(caught, 'PARENT_DELETED')).toBe(true)
    expect((caught as Error).message).not.toContain('gone')
    expect((caught as { details: unknown }).details).toEqual({ table: 'todos', column: 'list_uid', references: 'lists' })
  })

  it('accepts a live parent, no reference (null), a tombstone row and a table without keys', () => {
    expect(codeOf(() => assertParentsLive(table, { title: 't', list_uid: 'here' }, tombstone, 'server'))).toBeNull()
    expect(codeOf(() => assertParentsLive(table, { title: 't', list_uid: null }, () => undefined, 'server'))).toBeNull()
    expect(codeOf(() => assertParentsLive(table, null, () => undefined, 'server'))).toBeNull()
    expect(codeOf(() => assertParentsLive(lists, { name: 'x' }, () => undefined, 'server'))).toBeNull()
    expect(parentRefs(table, { title: 't', list_uid: 'a' })).toEqual([[table.foreignKeys?.[0], 'a']])
  })

  it('an unknown parent: the client lets the server decide, the server refuses', () => {
    expect(codeOf(() => assertParentsLive(table, { title: 't', list_uid: 'a' }, () => undefined, 'client'))).toBeNull()
    expect(codeOf(() => assertParentsLive(table, { title: 't', list_uid: 'a' }, () => undefined, 'server'))).toBe('PARENT_DELETED')
  })
})

describe('PD4: what a parent\'s local delete does to its children, per onDelete (childEffects)', () => {
  const cases: Array<[ForeignKeyAction, boolean, boolean, 'delete' | 'clear' | null]> = [
    // [onDelete, nullable, writable, effect]
    ['cascade', true, true, 'delete'],
    ['cascade', false, true, 'delete'],
    ['set null', true, true, 'clear'],
    ['set null', false, true, null], // the database could not clear it either: nothing locally
    ['set null', true, false, null], // a server-owned column is the server's to clear
    ['restrict', true, true, null],
    ['no action', true, true, null],
    ['set default', true, true, null], // the default is the database's: the server decides
  ]
  for (const [onDelete, nullable, writable, effect] of cases) {
    it(`${onDelete}${nullable ? '' : ', not nullable'}${writable ? '' : ', server-owned'}: ${effect ?? 'nothing'}`, () => {
      const effects = childEffects([lists, todos(onDelete, nullable, writable)], 'lists')
      expect(effects).toEqual(effect === null ? [] : [{ table: 'todos', column: 'list_uid', effect }])
      // Only the referenced table's deletes have effects.
      expect(childEffects([lists, todos(onDelete, nullable, writable)], 'todos')).toEqual([])
    })
  }
})

describe('descriptors with foreign keys (assertTableDescriptor)', () => {
  const withKey = (fk: Partial<ForeignKeyDescriptor>): TableDescriptor => ({ ...todos('cascade'), foreignKeys: [{ column: 'list_uid', references: 'lists', onDelete: 'cascade', onUpdate: 'no action', ...fk }] })

  it('accepts a key on a text column to an identifier, with known actions', () => {
    expect(codeOf(() => assertTableDescriptor(todos('set null')))).toBeNull()
  })

  it.each<[string, Partial<ForeignKeyDescriptor>]>([
    ['a column the table lacks', { column: 'nope' }],
    ['a column that is not text', { column: 'n' }],
    ['a table name that is not an identifier', { references: 'li-sts' }],
    ['a pollution key as the table', { references: '__proto__' }],
    ['an unknown onDelete', { onDelete: 'explode' as ForeignKeyAction }],
    ['an unknown onUpdate', { onUpdate: 'CASCADE' as ForeignKeyAction }],
  ])('refuses %s with BAD_REQUEST', (_what, fk) => {
    const table = withKey(fk)
    table.columns.push({ name: 'n', type: 'integer', nullable: true, writable: true })
    expect(codeOf(() => assertTableDescriptor(table))).toBe('BAD_REQUEST')
  })

  it('refuses two keys on one column', () => {
    const table = todos('cascade')
    table.foreignKeys = [...(table.foreignKeys ?? []), { column: 'list_uid', references: 'todos', onDelete: 'set null', onUpdate: 'no action' }]
    expect(codeOf(() => assertTableDescriptor(table))).toBe('BAD_REQUEST')
  })
})
