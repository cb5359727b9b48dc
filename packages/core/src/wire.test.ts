/**
 * The protocol-version test: the wire schemas are fingerprinted, and the fingerprint is recorded with
 * the protocol version it belongs to. Change a schema and this fails until PROTOCOL_VERSION is bumped
 * and the fingerprint updated — so a client and a server that disagree on the shapes can never both
 * claim the same version. The fingerprint hashes each schema's `describe()` (types, bounds, patterns,
 * defaults, strictness, nesting). A validator upgrade that changes how a schema describes itself also
 * trips it: then check the diff is cosmetic and update only the fingerprint.
 */
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { hashString } from './checkpoint.js'
import { LastwordError, isErrorCode } from './errors.js'
import { describeWireSchema, strictObject, wireSchema, type WireSchema } from './wire-schema.js'
import {
  compactPage,
  clientEntrySchema,
  handshakeSchema,
  helloSchema,
  parseWire,
  PROTOCOL_VERSION,
  pushAnswerSchema,
  pushOutcomeSchema,
  pushRequestSchema,
  realtimeEventSchema,
  syncPageSchema,
  syncRequestSchema,
  tableDescriptorSchema,
  WIRE_BOUNDS,
  WIRE_SCHEMAS,
  wireRecordSchema,
} from './wire.js'

/** Recorded by hand: bump `version` with PROTOCOL_VERSION, paste the fingerprint the failure prints. */
const RECORDED = { version: 7, fingerprint: '039a6bbb68242a' }

/** JSON with object keys sorted at every level, so the fingerprint does not depend on key order. */
function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

function fingerprint(all: Record<string, WireSchema<unknown>> = WIRE_SCHEMAS): string {
  const schemas: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(all)) schemas[name] = describeWireSchema(schema)
  return hashString(stableStringify(schemas))
}

/** The handshake as wire.ts declares it, with the token's bound and the object's strictness as given. */
function handshakeWith(maxToken: number, strict = true): WireSchema<unknown> {
  const entries = {
    protocolVersion: v.pipe(v.number(), v.safeInteger()),
    clientId: v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/)),
    token: v.optional(v.pipe(v.string(), v.maxLength(maxToken))),
  }
  return wireSchema(() => (strict ? strictObject(entries) : v.looseObject(entries)))
}

function caught(fn: () => unknown): LastwordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return error as LastwordError
  }
  throw new Error('expected a LastwordError, nothing was thrown')
}

const STAMP = '018bcfe56800-0005-0123456789abcdef'
const record = { uid: 'abc', created_at: STAMP, updated_at: STAMP, deleted_at: null, row: { title: 'milk' } }
const request = { table: 'todos', where: { done: false }, checkpoint: null, push: [record] }

describe('protocol version', () => {
  it('the wire schemas match the fingerprint recorded for PROTOCOL_VERSION', () => {
    const actual = { version: PROTOCOL_VERSION, fingerprint: fingerprint() }
    expect(actual, `wire schemas changed: bump PROTOCOL_VERSION and update the fingerprint (now ${actual.fingerprint})`).toEqual(RECORDED)
  })

  it('the fingerprint is deterministic and sees a one-character change', () => {
    expect(fingerprint()).toBe(fingerprint())
    // The same declaration fingerprints the same, so what follows differs by the change alone.
    expect(fingerprint({ ...WIRE_SCHEMAS, handshake: handshakeWith(8_192) })).toBe(fingerprint())
    expect(fingerprint({ ...WIRE_SCHEMAS, handshake: handshakeWith(8_193) })).not.toBe(fingerprint())
  })

  it('the fingerprint sees strictness, patterns and defaults', () => {
    expect(fingerprint({ ...WIRE_SCHEMAS, handshake: handshakeWith(8_192, false) })).not.toBe(fingerprint())
    const pattern = (re: RegExp) => describeWireSchema(wireSchema(() => v.pipe(v.string(), v.regex(re))))
    expect(pattern(/^[0-9a-f]{16}$/)).toEqual(pattern(/^[0-9a-f]{16}$/))
    expect(pattern(/^[0-9a-f]{16}$/)).not.toEqual(pattern(/^[0-9a-f]{15}$/))
    const withDefault = (value: number) => describeWireSchema(wireSchema(() => v.object({ n: v.optional(v.number(), () => value) })))
    expect(withDefault(0)).toEqual(withDefault(0))
    expect(withDefault(0)).not.toEqual(withDefault(1))
  })

  it('stableStringify ignores key order', () => {
    expect(stableStringify({ b: 1, a: [{ d: 1, c: 2 }] })).toBe(stableStringify({ a: [{ c: 2, d: 1 }], b: 1 }))
  })
})

describe('pushRequestSchema and pushAnswerSchema (protocol 7, SPEC.md section 12)', () => {
  const push = { units: [{ atomic: true, groups: [{ table: 'lists', records: [record] }, { table: 'todos', schemaVersion: 2, records: [record, record] }] }] }

  it('accepts units of groups; refuses empty lists, unknown keys and bad versions, naming the path and bound, never the input', () => {
    expect(pushRequestSchema.parse(push)).toEqual(push)
    expect(pushRequestSchema.safeParse({ units: [] }).success).toBe(false)
    expect(pushRequestSchema.safeParse({ units: [{ atomic: true, groups: [] }] }).success).toBe(false)
    expect(pushRequestSchema.safeParse({ units: [{ atomic: true, groups: [{ table: 'lists', records: [] }] }] }).success).toBe(false)
    expect(pushRequestSchema.safeParse({ units: [{ atomic: 'yes', groups: push.units[0]!.groups }] }).success).toBe(false)
    expect(pushRequestSchema.safeParse({ units: [{ atomic: true, groups: [{ table: 'lists', schemaVersion: 0, records: [record] }] }] }).success).toBe(false)
    const extra = caught(() => pushRequestSchema.parse({ ...push, secretKey: 'secretValue' }, 'push request'))
    expect(extra.message).not.toMatch(/secret/)
    const tooMany = caught(() => pushRequestSchema.parse({ units: [{ atomic: false, groups: Array.from({ length: WIRE_BOUNDS.maxPushGroups + 1 }, () => ({ table: 't', records: [record] })) }] }, 'push request'))
    expect(tooMany.details).toEqual({ path: 'units.0.groups' })
    expect(tooMany.message).toContain(`at most ${WIRE_BOUNDS.maxPushGroups}`)
    expect(pushRequestSchema.safeParse({ units: Array.from({ length: WIRE_BOUNDS.maxPushUnits + 1 }, () => push.units[0]) }).success).toBe(false)
  })

  it('an answer: per unit, push outcomes (UNIT_REFUSED among the codes), and the point it was read at', () => {
    const answer = {
      receivedAt: 1,
      answeredAt: 2,
      units: [{ outcomes: [{ uid: 'abc', status: 'rejected', error: { code: 'UNIT_REFUSED', message: 'm', details: { table: 'todos', uid: 'def' } } }] }],
      knownAt: '0123456789abcdef.fedcba9876543210.42',
    }
    expect(pushAnswerSchema.parse(answer)).toEqual(answer)
    expect(isErrorCode('UNIT_REFUSED')).toBe(true)
    expect(pushAnswerSchema.safeParse({ ...answer, knownAt: 'somewhere' }).success).toBe(false)
  })
})

describe('syncRequestSchema', () => {
  it('accepts an incremental and a full request', () => {
    expect(syncRequestSchema.parse(request)).toEqual(request)
    const full = { ...request, full: { cursor: null, entries: [['abc', STAMP, false, true, '0123456789abcdef.fedcba9876543210.42']], complete: true }, pageSize: 500, subscription: 's1' }
    expect(syncRequestSchema.parse(full)).toEqual(full)
    // A field-merge table's entries carry a sixth element: the digest of the column stamps.
    const digest = { ...full, full: { ...full.full, entries: [[...(full.full.entries[0] as unknown[]), '0123456789abcd']] } }
    expect(syncRequestSchema.parse(digest)).toEqual(digest)
    expect(syncRequestSchema.safeParse({ ...full, full: { ...full.full, entries: [[...(full.full.entries[0] as unknown[]), 'x']] } }).success).toBe(false)
  })

  it('field-merge tables: pushed column stamps are checked for shape and bounded', () => {
    const withFields = { ...request, push: [{ ...record, fields: { title: STAMP } }] }
    expect(syncRequestSchema.parse(withFields)).toEqual(withFields)
    expect(syncRequestSchema.safeParse({ ...request, push: [{ ...record, fields: { title: 'soon' } }] }).success).toBe(false)
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`c${i}`, STAMP]))
    expect(syncRequestSchema.safeParse({ ...request, push: [{ ...record, fields: many }] }).success).toBe(false)
  })

  it('rejects unknown keys, at the top and inside records', () => {
    expect(syncRequestSchema.safeParse({ ...request, extra: 1 }).success).toBe(false)
    expect(syncRequestSchema.safeParse({ ...request, push: [{ ...record, rev: 5 }] }).success).toBe(false)
    expect(syncRequestSchema.safeParse({ ...request, full: { cursor: null, entries: [], complete: true, more: 1 } }).success).toBe(false)
  })

  it('takes a schema version as a positive safe integer only (protocol 6), refusing others without echoing them', () => {
    expect(syncRequestSchema.parse({ ...request, schemaVersion: 3 }).schemaVersion).toBe(3)
    for (const bad of [0, -1, 1.5, 2 ** 53, '2', null]) {
      const result = syncRequestSchema.safeParse({ ...request, schemaVersion: bad })
      expect(result.success).toBe(false)
      if (!result.success) expect(result.error.message).not.toContain(String(bad === null ? 'null,' : bad))
    }
    expect(tableDescriptorSchema.safeParse({ name: 't', columns: [], schemaVersion: 2, renames: [[2, 'a', 'b']] }).success).toBe(true)
    expect(tableDescriptorSchema.safeParse({ name: 't', columns: [], renames: [[1, 'a', 'b']] }).success).toBe(false)
    expect(tableDescriptorSchema.safeParse({ name: 't', columns: [], renames: [[2, 'a', 'b', 'c']] }).success).toBe(false)
    expect(tableDescriptorSchema.safeParse({ name: 't', columns: [], renames: Array.from({ length: 65 }, () => [2, 'a', 'b']) }).success).toBe(false)
  })

  it('refuses malformed stamps and uids', () => {
    expect(syncRequestSchema.safeParse({ ...request, push: [{ ...record, updated_at: '2024-01-01' }] }).success).toBe(false)
    expect(syncRequestSchema.safeParse({ ...request, push: [{ ...record, uid: 'a b' }] }).success).toBe(false)
    expect(clientEntrySchema.safeParse(['abc', STAMP.toUpperCase(), false, true, null]).success).toBe(false)
  })

  it('accepts uids such as __proto__ and constructor', () => {
    expect(wireRecordSchema.safeParse({ ...record, uid: '__proto__' }).success).toBe(true)
    expect(wireRecordSchema.safeParse({ ...record, uid: 'constructor' }).success).toBe(true)
  })

  it('bounds the push', () => {
    const push = Array.from({ length: WIRE_BOUNDS.maxPushRecords + 1 }, () => record)
    expect(syncRequestSchema.safeParse({ ...request, push }).success).toBe(false)
  })
})

describe('parseWire', () => {
  it('returns the parsed data', () => {
    expect(parseWire(syncRequestSchema, request, 'sync request')).toEqual(request)
  })

  it('gives BAD_REQUEST with the path of the first problem', () => {
    const error = caught(() => parseWire(syncRequestSchema, { ...request, push: [record, { ...record, created_at: 'nope' }] }, 'sync request'))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.details).toEqual({ path: 'push.1.created_at' })
    expect(error.message).toContain('Invalid sync request at push.1.created_at')
  })

  it('reports unknown keys by their count, never by name (a refusal must not echo the input)', () => {
    const error = caught(() => parseWire(syncRequestSchema, { ...request, extra: 1 }, 'sync request'))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toBe('Invalid sync request: 1 unexpected key')
    const many: Record<string, unknown> = { ...request }
    for (let i = 0; i < 10_000; i++) many[`leaked_${i}`] = i
    const flood = caught(() => parseWire(syncRequestSchema, many, 'sync request'))
    expect(flood.message).toBe('Invalid sync request: 10000 unexpected keys')
  })

  it('names a problem by its kind and the schema bound, never the value received', () => {
    const long = caught(() => parseWire(syncRequestSchema, { ...request, table: 'x'.repeat(5_000) }, 'sync request'))
    expect(long.message).toBe('Invalid sync request at table: too big (at most 64)')
    const type = caught(() => parseWire(syncRequestSchema, { ...request, checkpoint: 42 }, 'sync request'))
    expect(type.message).toBe('Invalid sync request at checkpoint: expected string')
  })

  it('never echoes the input', () => {
    const secret = 'sk_live_0123456789'
    const error = caught(() => parseWire(handshakeSchema, { protocolVersion: 1, clientId: secret }, 'handshake'))
    expect(error.message).not.toContain(secret)
    expect(JSON.stringify(error.details)).not.toContain(secret)
  })

  it('gives an empty path for a wrong top-level type', () => {
    const error = caught(() => parseWire(syncRequestSchema, 'hello', 'sync request'))
    expect(error.details).toEqual({ path: '' })
  })
})

describe('the other messages', () => {
  it('pushOutcome is a union on status', () => {
    expect(pushOutcomeSchema.safeParse({ uid: 'a', status: 'applied' }).success).toBe(true)
    expect(pushOutcomeSchema.safeParse({ uid: 'a', status: 'superseded', rule: 'R9 older write never resurrects', winner: null }).success).toBe(true)
    expect(pushOutcomeSchema.safeParse({ uid: 'a', status: 'rejected', error: { code: 'FORBIDDEN', message: 'no' } }).success).toBe(true)
    expect(pushOutcomeSchema.safeParse({ uid: 'a', status: 'lost' }).success).toBe(false)
  })

  it('a sync page carries rows as arrays and tombstones as 4-tuples', () => {
    const page = {
      mode: 'incremental',
      receivedAt: 1,
      answeredAt: 1,
      outcomes: [],
      columns: ['title'],
      rows: [['abc', STAMP, STAMP, 'milk']],
      tombstones: [['def', STAMP, STAMP, STAMP]],
      evict: [],
      purged: [],
      push: [],
      checkpoint: 'lw1.1.0123456789abcd',
      hasMore: false,
      cursor: null,
      progress: { received: 1, total: null },
    }
    expect(syncPageSchema.safeParse(page).success).toBe(true)
    // Both server timestamps are required: without them the client could not take the page's offset sample.
    const { answeredAt: _t2, ...noAnswer } = page
    expect(syncPageSchema.safeParse(noAnswer).success).toBe(false)
    expect(syncPageSchema.safeParse({ ...page, rows: [['abc', STAMP]] }).success).toBe(false)
    expect(syncPageSchema.safeParse({ ...page, tombstones: [['def', STAMP, STAMP]] }).success).toBe(false)
    // Evictions carry the version found outside the scope.
    expect(syncPageSchema.safeParse({ ...page, evict: [['ghi', STAMP]] }).success).toBe(true)
    expect(syncPageSchema.safeParse({ ...page, evict: ['ghi'] }).success).toBe(false)
    expect(syncPageSchema.safeParse({ ...page, evict: [['ghi', 'not-a-stamp']] }).success).toBe(false)
  })

  it('compactPage leaves out what is at its default, and parsing fills it back', () => {
    const full = syncPageSchema.parse({
      mode: 'incremental',
      receivedAt: 1_699_999_999_900,
      answeredAt: 1_700_000_000_000,
      outcomes: [],
      columns: ['title', 'done'],
      rows: [],
      tombstones: [],
      evict: [],
      purged: [],
      push: [],
      checkpoint: 'lw1.123.0123456789abcd',
      hasMore: false,
      cursor: null,
      progress: { received: 0, total: null },
    })
    const wire = compactPage(full)
    // A resync with nothing to do: mode, time and checkpoint only (no column names without rows).
    expect(wire).toEqual({ mode: 'incremental', receivedAt: 1_699_999_999_900, answeredAt: 1_700_000_000_000, checkpoint: 'lw1.123.0123456789abcd' })
    expect(syncPageSchema.parse(wire)).toEqual({ ...full, columns: [] })
    const busy = syncPageSchema.parse({
      ...full,
      outcomes: [{ uid: 'abc', status: 'applied' }],
      rows: [['abc', STAMP, STAMP, 'milk', false]],
      tombstones: [['def', STAMP, STAMP, STAMP]],
      evict: [['ghi', STAMP]],
      purged: ['jkl'],
      push: ['mno'],
      checkpoint: null,
      hasMore: true,
      cursor: { startRev: 3, after: 'abc' },
      reason: 'retention',
      progress: { received: 4, total: null },
    })
    expect(syncPageSchema.parse(compactPage(busy))).toEqual(busy)
  })

  it('hello, handshake and realtime events are strict', () => {
    expect(helloSchema.safeParse({ protocolVersion: 1, serverTime: 0, tables: [] }).success).toBe(true)
    expect(handshakeSchema.safeParse({ protocolVersion: 1, clientId: '0123456789abcdef' }).success).toBe(true)
    expect(handshakeSchema.safeParse({ protocolVersion: 1, clientId: '0123456789abcdef', admin: true }).success).toBe(false)
    const event = { subscription: 's', table: 't', serverTime: 0, firstRev: 1, rev: 1, columns: [], rows: [], tombstones: [], evict: [['abc', STAMP]] }
    expect(realtimeEventSchema.safeParse(event).success).toBe(true)
    expect(realtimeEventSchema.safeParse({ ...event, rev: -1 }).success).toBe(false)
    expect(realtimeEventSchema.safeParse({ ...event, evict: ['abc'] }).success).toBe(false)
    const { firstRev: _firstRev, ...withoutFirstRev } = event
    expect(realtimeEventSchema.safeParse(withoutFirstRev).success).toBe(false)
  })
})

describe('parseWire refuses pollution keys that a validator would drop silently', () => {
  it.each([
    ['in a filter', '{"table":"t","where":{"__proto__":{"polluted":1}},"checkpoint":null,"push":[]}'],
    ['in a row', '{"table":"t","where":{},"checkpoint":null,"push":[{"uid":"a","created_at":"000000000001-0000-0000000000000001","updated_at":"000000000001-0000-0000000000000001","deleted_at":null,"row":{"constructor":{"prototype":{"x":1}}}}]}'],
  ])('%s', (_where, json) => {
    expect(() => parseWire(syncRequestSchema, JSON.parse(json), 'sync request')).toThrow(expect.objectContaining({ code: 'FORBIDDEN_KEY' }))
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })
})
