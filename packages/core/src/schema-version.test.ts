/** Schema versions (SPEC.md section 11): SV1–SV6, the mapping of rows between versions, protocol versions. */
import { describe, expect, it } from 'vitest'
import type { ColumnDescriptor, TableDescriptor } from './descriptor.js'
import { assertTableDescriptor } from './descriptor.js'
import { LastwordError } from './errors.js'
import { PREVIOUS_PROTOCOL_VERSION, protocolVerdict } from './protocol.js'
import { diffSchema, isWidening, mapRow, nextRenames, schemaMapping, schemaOutdated } from './schema-version.js'
import { PROTOCOL_VERSION } from './wire.js'

const col = (name: string, type: ColumnDescriptor['type'] = 'text', extra: Partial<ColumnDescriptor> = {}): ColumnDescriptor => ({
  name,
  type,
  nullable: true,
  writable: true,
  ...extra,
})
const table = (columns: ColumnDescriptor[], schemaVersion = 1, renames: TableDescriptor['renames'] = []): TableDescriptor => ({
  name: 'todos',
  columns,
  schemaVersion,
  renames,
})

function refusal(fn: () => unknown): { code: string; reason: unknown } {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    const e = error as LastwordError
    return { code: e.code, reason: e.details?.['reason'] }
  }
  throw new Error('expected a refusal')
}

const v1 = table([col('title'), col('done', 'boolean')])

describe('diffSchema: supported changes (SV1, SV3, SV4, SV5)', () => {
  it('the same columns are no change', () => {
    expect(diffSchema(v1, table([col('title'), col('done', 'boolean')], 2))).toEqual([])
  })
  it('SV1 adds a nullable column, or a NOT NULL one with a default', () => {
    expect(diffSchema(v1, table([...v1.columns, col('note')], 2))).toEqual([{ kind: 'add', column: 'note' }])
    const required = table([...v1.columns, col('rank', 'integer', { nullable: false })], 2)
    expect(diffSchema(v1, required, { defaulted: new Set(['rank']) })).toEqual([{ kind: 'add', column: 'rank' }])
  })
  it('SV3 drops a column', () => {
    expect(diffSchema(v1, table([col('title')], 2))).toEqual([{ kind: 'drop', column: 'done' }])
  })
  it('SV4 renames a column the app declares renamed; undeclared it is a drop and an add', () => {
    const next = table([col('name'), col('done', 'boolean')], 2)
    expect(diffSchema(v1, next, { renamed: { name: 'title' } })).toEqual([{ kind: 'rename', from: 'title', to: 'name' }])
    expect(diffSchema(v1, next)).toEqual([
      { kind: 'add', column: 'name' },
      { kind: 'drop', column: 'title' },
    ])
  })
  it('a rename already applied is ignored (the option stays declared)', () => {
    const next = table([col('name'), col('done', 'boolean')], 2)
    expect(diffSchema(next, table([col('name'), col('done', 'boolean')], 3), { renamed: { name: 'title' } })).toEqual([])
  })
  it('SV5 widens: integer to real, 16 to 32 bits to unbounded, varchar(n) to longer or text', () => {
    expect(isWidening(col('n', 'integer', { bits: 16 }), col('n', 'integer', { bits: 32 }))).toBe(true)
    expect(isWidening(col('n', 'integer', { bits: 32 }), col('n', 'integer'))).toBe(true)
    expect(isWidening(col('n', 'integer'), col('n', 'real'))).toBe(true)
    expect(isWidening(col('t', 'text', { maxLength: 10 }), col('t', 'text', { maxLength: 20 }))).toBe(true)
    expect(isWidening(col('t', 'text', { maxLength: 10 }), col('t'))).toBe(true)
    expect(diffSchema(table([col('n', 'integer', { bits: 16 })]), table([col('n', 'real')], 2))).toEqual([{ kind: 'widen', column: 'n' }])
  })
})

describe('diffSchema refuses everything else (SV6), typed, naming the reason', () => {
  const cases: Array<[string, TableDescriptor, TableDescriptor, string, Record<string, string>?]> = [
    ['a type change', table([col('n', 'integer')]), table([col('n', 'text')], 2), 'retyped'],
    ['real to integer', table([col('n', 'real')]), table([col('n', 'integer')], 2), 'retyped'],
    ['fewer bits', table([col('n', 'integer', { bits: 32 })]), table([col('n', 'integer', { bits: 16 })], 2), 'narrowed'],
    ['a width gained', table([col('n', 'integer')]), table([col('n', 'integer', { bits: 32 })], 2), 'narrowed'],
    ['a shorter varchar', table([col('t', 'text', { maxLength: 9 })]), table([col('t', 'text', { maxLength: 3 })], 2), 'narrowed'],
    ['NOT NULL added', table([col('t')]), table([col('t', 'text', { nullable: false })], 2), 'made-required'],
    ['a required column without default', table([col('t')]), table([col('t'), col('r', 'text', { nullable: false })], 2), 'required-without-default'],
    ['a column made server-owned', table([col('t')]), table([col('t', 'text', { writable: false })], 2), 'ownership-changed'],
    ['a rename from nowhere', table([col('t')]), table([col('t'), col('u')], 2), 'rename-source-missing', { u: 'missing' }],
  ]
  for (const [what, prev, next, reason, renamed] of cases) {
    it(what, () => {
      expect(refusal(() => diffSchema(prev, next, renamed === undefined ? {} : { renamed }))).toEqual({ code: 'SCHEMA_CHANGE_UNSUPPORTED', reason })
    })
  }
})

describe('schemaMapping and mapRow (SV2, SV3)', () => {
  const v2 = table([col('title'), col('done', 'boolean'), col('note')], 2)
  it('a row of an older version keeps the columns it knew; those added since are left out and listed', () => {
    const mapped = mapRow(schemaMapping(v1, v2), { title: 'a', done: true }, true)
    expect(mapped).toEqual({ ok: true, row: { title: 'a', done: true }, unknown: ['note'] })
  })
  it('follows renames listed after the older version, across several versions', () => {
    const v3 = table([col('name'), col('done', 'boolean')], 3, [[2, 'title', 'heading'], [3, 'heading', 'name']])
    expect(mapRow(schemaMapping(v1, v3), { title: 'a', done: false }, true)).toEqual({ ok: true, row: { name: 'a', done: false }, unknown: [] })
    const v2r = table([col('heading'), col('done', 'boolean')], 2, [[2, 'title', 'heading']])
    expect(mapRow(schemaMapping(v2r, v3), { heading: 'b', done: false }, true)).toEqual({ ok: true, row: { name: 'b', done: false }, unknown: [] })
  })
  it('a value for a dropped or retyped column makes a strict mapping fail, naming the column; a lenient one leaves it', () => {
    const dropped = table([col('title')], 2)
    expect(mapRow(schemaMapping(v1, dropped), { title: 'a', done: true }, true)).toEqual({ ok: false, column: 'done' })
    expect(mapRow(schemaMapping(v1, dropped), { title: 'a', done: true }, false)).toEqual({ ok: true, row: { title: 'a' }, unknown: [] })
    const retyped = table([col('title'), col('done', 'text')], 2)
    expect(mapRow(schemaMapping(v1, retyped), { done: true }, true)).toEqual({ ok: false, column: 'done' })
  })
  it('the same version maps every column to itself', () => {
    expect(mapRow(schemaMapping(v2, v2), { title: 'a', done: null, note: 'n' }, true)).toEqual({ ok: true, row: { title: 'a', done: null, note: 'n' }, unknown: [] })
  })
  it('keys neither version knows pass through, for normalizeRow to refuse', () => {
    expect(mapRow(schemaMapping(v1, v2), { bogus: 1 }, true)).toEqual({ ok: true, row: { bogus: 1 }, unknown: ['note'] })
  })
  it('schemaOutdated is typed and names versions, never the row', () => {
    const error = schemaOutdated(v2, 1)
    expect(error.code).toBe('SCHEMA_OUTDATED')
    expect(error.details).toEqual({ table: 'todos', schemaVersion: 1, current: 2 })
  })
  it('nextRenames appends this version\'s renames', () => {
    expect(nextRenames([[2, 'a', 'b']], [{ kind: 'rename', from: 'b', to: 'c' }, { kind: 'add', column: 'x' }], 3)).toEqual([
      [2, 'a', 'b'],
      [3, 'b', 'c'],
    ])
  })
})

describe('descriptors with versions', () => {
  it('assertTableDescriptor refuses a bad version or rename', () => {
    expect(refusal(() => assertTableDescriptor({ ...v1, schemaVersion: 0 })).code).toBe('BAD_REQUEST')
    expect(refusal(() => assertTableDescriptor({ ...v1, schemaVersion: 2, renames: [[3, 'a', 'b']] })).code).toBe('BAD_REQUEST')
    expect(refusal(() => assertTableDescriptor({ ...v1, schemaVersion: 2, renames: [[2, 'a', '__proto__ x']] })).code).toBe('BAD_REQUEST')
    expect(assertTableDescriptor({ ...v1, schemaVersion: 2, renames: [[2, 'a', 'b']] }).schemaVersion).toBe(2)
  })
})

describe('protocol versions', () => {
  it('the current and the previous are served', () => {
    expect(protocolVerdict(PROTOCOL_VERSION)).toEqual({ kind: 'current' })
    expect(protocolVerdict(PREVIOUS_PROTOCOL_VERSION)).toEqual({ kind: 'previous' })
  })
  it('an older client is told to upgrade, a newer one that the server is behind (typed, no echo)', () => {
    for (const [version, upgrade] of [[PREVIOUS_PROTOCOL_VERSION - 1, true], [1, true], [PROTOCOL_VERSION + 1, false]] as const) {
      try {
        protocolVerdict(version)
        throw new Error('expected a refusal')
      } catch (error) {
        const e = error as LastwordError
        expect(e.code).toBe('PROTOCOL_MISMATCH')
        expect(e.details).toEqual({ supported: [PROTOCOL_VERSION, PREVIOUS_PROTOCOL_VERSION], upgrade })
      }
    }
  })
})
