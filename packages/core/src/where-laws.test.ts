/**
 * Laws of the `where` language, checked with fast-check:
 *
 *  W1 overlap is sound — for any two scopes A, B and any row r: matches(r, A) && matches(r, B) implies
 *     scopesOverlap(A, B). (A false "disjoint" would let two syncs of overlapping scopes run at once.)
 *  W2 satisfiability is sound — for the conditions on one column: if some value (null included)
 *     satisfies all of them, isSatisfiable says so.
 *  W3 intersection is AND — matches(r, intersectScopes(A, B)) = matches(r, A) && matches(r, B).
 *  W4 canonical keys — a filter written with its columns and operators in another order, `in` lists
 *     shuffled and duplicated, has the same scopeKey; and equal keys match the same rows.
 *  W5 code-point order — compareCodePoints(a, b) has the sign of comparing the strings' code points
 *     (Array.from(s, c => c.codePointAt(0))) lexicographically, lone surrogates included.
 *  W6 overlap is the old definition, made near-linear — scopesOverlap and isSatisfiable answer what the
 *     quadratic definition below (`modelSatisfiable`, candidate lists filtered pairwise) answers, on
 *     generated scopes and on raw condition lists (unsorted `in` lists with repeats, mixed types).
 *  W7 a compiled scope matches as the scope does — compileScope(t, S).matches(r) = matches(r, S), on
 *     rows drawn near S's values, with -0, NaN, Dates and missing columns among them.
 *
 * Values come from small domains so that rows hit both scopes often.
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { compileScope } from './compiled-scope.js'
import { describe, expect, it } from 'vitest'
import type { TableDescriptor } from './descriptor.js'
import { fcParams } from './fc-config.test-util.js'
import {
  compareCodePoints,
  compareValues,
  intersectScopes,
  isSatisfiable,
  matches,
  matchesCondition,
  scopeKey,
  scopesOverlap,
  validateWhere,
  type Condition,
  type Scope,
  type ScalarValue,
} from './where.js'

const TABLE: TableDescriptor = {
  name: 'things',
  columns: [
    { name: 't', type: 'text', nullable: true, writable: true },
    { name: 'i', type: 'integer', nullable: true, writable: true },
    { name: 'r', type: 'real', nullable: true, writable: true },
    { name: 'b', type: 'boolean', nullable: true, writable: true },
    { name: 'ts', type: 'timestamp', nullable: true, writable: true },
    { name: 'req', type: 'integer', nullable: false, writable: true },
  ],
}

/** Small value domains per column (timestamps already normalised, as rows hold them). */
const DOMAINS: Record<string, readonly (string | number | boolean)[]> = {
  t: ['', 'a', 'ab', 'b', 'B', '\uFFFF', '\u{1F600}'],
  i: [-1, 0, 1, 2, 3],
  r: [-1, 0, 0.5, 1, 1.5, 2],
  b: [false, true],
  ts: ['2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2024-06-01T12:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  req: [0, 1, 2],
}
const COLUMNS = Object.keys(DOMAINS)

const valueOf = (column: string) => fc.constantFrom(...(DOMAINS[column] as (string | number | boolean)[]))

const OPS = ['eq', 'in', 'gt', 'gte', 'lt', 'lte'] as const

/** A condition spec for one column, as apps write it: a value, null, or one or two operators. */
function specFor(column: string): fc.Arbitrary<unknown> {
  const value = valueOf(column)
  const ops = fc.subarray([...OPS], { minLength: 1, maxLength: 2 }).chain((names) =>
    fc.tuple(...names.map((op) => (op === 'in' ? fc.array(value, { maxLength: 3 }) : value))).map((values) =>
      Object.fromEntries(names.map((op, i) => [op, values[i]])),
    ),
  )
  return fc.oneof({ arbitrary: fc.constant(null), weight: 1 }, { arbitrary: value, weight: 2 }, { arbitrary: ops, weight: 4 })
}

/** A filter on some of `columns`. */
const whereOn = (columns: readonly string[], minLength: number, maxLength: number): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .subarray([...columns], { minLength, maxLength: Math.min(maxLength, columns.length) })
    .chain((chosen) => fc.tuple(...chosen.map(specFor)).map((specs) => Object.fromEntries(chosen.map((c, i) => [c, specs[i]]))))

/** A filter on zero to three columns (more would rarely leave two scopes a row in common). */
const whereArb = whereOn(COLUMNS, 0, 3)

const scopeArb: fc.Arbitrary<Scope> = whereArb.map((where) => validateWhere(where, TABLE))

/** A row: every column a domain value or, less often, null (the non-nullable column too: core must not assume). */
const rowArb = fc.record(
  Object.fromEntries(COLUMNS.map((c) => [c, fc.oneof({ arbitrary: valueOf(c), weight: 5 }, { arbitrary: fc.constant(null), weight: 1 })])),
)

const rowsArb = fc.array(rowArb, { minLength: 1, maxLength: 40 })

/** Rows drawn towards the values two scopes mention: boundary values are where overlaps hide. */
function rowsNear(a: Scope, b: Scope): fc.Arbitrary<Record<string, unknown>[]> {
  const mentioned = (column: string) =>
    [...a, ...b].filter((c) => c.column === column).flatMap((c) => (c.op === 'null' ? [] : c.op === 'in' ? c.values : [c.value]))
  const row = fc.record(
    Object.fromEntries(
      COLUMNS.map((c) => {
        const near = mentioned(c)
        const options = [{ arbitrary: valueOf(c) as fc.Arbitrary<unknown>, weight: 3 }, { arbitrary: fc.constant(null) as fc.Arbitrary<unknown>, weight: 1 }]
        if (near.length > 0) options.push({ arbitrary: fc.constantFrom(...near), weight: 4 })
        return [c, fc.oneof(...options)]
      }),
    ),
  )
  return fc.array(row, { minLength: 1, maxLength: 40 })
}

/** Two scopes mostly on the same one or two columns, so that they often compete for the same values. */
const scopePairArb: fc.Arbitrary<[Scope, Scope]> = fc
  .subarray(COLUMNS, { minLength: 1, maxLength: 2 })
  .chain((shared) => fc.tuple(whereOn(shared, 1, 2), whereOn(shared, 1, 2), fc.boolean(), whereArb))
  .map(([a, b, widen, other]) => [validateWhere(a, TABLE), validateWhere(widen ? { ...other, ...b } : b, TABLE)])

describe('where laws', () => {
  it('W1: scopesOverlap is sound against matches', () => {
    fc.assert(
      fc.property(
        scopePairArb.chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b), rowsNear(a, b))),
        ([a, b, rows]) => {
        const shared = rows.find((row) => matches(row, a) && matches(row, b))
        if (shared !== undefined) {
          expect(scopesOverlap(a, b), `row ${JSON.stringify(shared)} matches both ${JSON.stringify(a)} and ${JSON.stringify(b)}`).toBe(true)
          expect(scopesOverlap(b, a)).toBe(true)
        }
      },
      ),
      fcParams(1000),
    )
  })

  it('W1 (exhaustive rows): scopesOverlap is sound when checked per column over the whole domain', () => {
    // Columns are independent in an AND of per-column conditions, so a shared row exists iff each
    // column has a shared value; search each column's whole domain (plus null) to find one.
    fc.assert(
      fc.property(fc.oneof(scopePairArb, fc.tuple(scopeArb, scopeArb)), ([a, b]) => {
        const both = [...a, ...b]
        const exists = COLUMNS.every((column) => {
          const conditions = both.filter((c) => c.column === column)
          return [...(DOMAINS[column] as unknown[]), null].some((value) => conditions.every((c) => matchesCondition(value, c)))
        })
        if (exists) expect(scopesOverlap(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(true)
      }),
      fcParams(1000),
    )
  })

  it('W2: isSatisfiable is sound', () => {
    fc.assert(
      fc.property(scopePairArb, ([a, b]) => {
        const column = a[0]?.column ?? 't' // a column both scopes are likely to constrain
        const conditions = [...a, ...b].filter((c) => c.column === column)
        const witness = [...(DOMAINS[column] as unknown[]), null].find((value) => conditions.every((c) => matchesCondition(value, c)))
        if (witness !== undefined) expect(isSatisfiable(conditions), `${JSON.stringify(witness)} satisfies ${JSON.stringify(conditions)}`).toBe(true)
      }),
      fcParams(1000),
    )
  })

  it('W3: intersectScopes is AND', () => {
    fc.assert(
      fc.property(scopePairArb, rowsArb, ([a, b], rows) => {
        const both = intersectScopes(a, b)
        for (const row of rows) expect(matches(row, both)).toBe(matches(row, a) && matches(row, b))
        expect(scopeKey('t', both)).toBe(scopeKey('t', intersectScopes(b, a)))
      }),
      fcParams(1000),
    )
  })

  it('W4: equal filters written differently have equal keys and match the same rows', () => {
    const rewritten = whereArb.chain((where) =>
      fc.tuple(
        fc.constant(where),
        // another way to write it: keys in another order, `in` lists shuffled with repeats
        fc
          .tuple(
            fc.shuffledSubarray(Object.keys(where), { minLength: Object.keys(where).length, maxLength: Object.keys(where).length }),
            fc.integer({ min: 0, max: 2 ** 30 }),
          )
          .map(([keys, salt]) => {
            const out: Record<string, unknown> = {}
            for (const key of keys) {
              const spec = where[key]
              if (typeof spec === 'object' && spec !== null) {
                const ops = spec as Record<string, unknown>
                const opKeys = Object.keys(ops).reverse()
                const copy: Record<string, unknown> = {}
                for (const op of opKeys) {
                  const value = ops[op]
                  copy[op] = Array.isArray(value) ? [...value].reverse().concat(salt % 2 === 0 ? value : []) : value
                }
                out[key] = copy
              } else if (spec !== null && salt % 3 === 0) {
                out[key] = { eq: spec } // `{ c: v }` is `{ c: { eq: v } }`
              } else {
                out[key] = spec
              }
            }
            return out
          }),
      ),
    )
    fc.assert(
      fc.property(rewritten, rowsArb, ([where, other], rows) => {
        const a = validateWhere(where, TABLE)
        const b = validateWhere(other, TABLE)
        expect(scopeKey('things', b)).toBe(scopeKey('things', a))
        for (const row of rows) expect(matches(row, b)).toBe(matches(row, a))
      }),
      fcParams(1000),
    )
  })

  it('W5: compareCodePoints is code-point order', () => {
    const codePoints = (s: string) => Array.from(s, (c) => c.codePointAt(0) as number)
    const lex = (x: number[], y: number[]) => {
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number)
      return x.length - y.length
    }
    const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0)
    // the tricky neighbourhood: BMP top, private use, astral, and lone high/low surrogates
    const tricky = fc.string({
      unit: fc.constantFrom('a', 'B', '\u00e9', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}', '\uD800', '\uDBFF', '\uDC00', '\uDFFF'),
      maxLength: 6,
    })
    const anyString = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 4 }))
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        expect(sign(compareCodePoints(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(sign(lex(codePoints(a), codePoints(b))))
        expect(sign(compareCodePoints(b, a)) + sign(compareCodePoints(a, b))).toBe(0)
      }),
      fcParams(1000),
    )
  }, 30_000) // a liveness bound: 1,000 grapheme-heavy cases took over vitest's 5 s default on a loaded 2-core machine

  it('W6: scopesOverlap and isSatisfiable agree with the quadratic model', () => {
    fc.assert(
      fc.property(fc.oneof(scopePairArb, fc.tuple(scopeArb, scopeArb)), ([a, b]) => {
        expect(scopesOverlap(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(modelOverlap(a, b))
      }),
      fcParams(1000),
    )
    fc.assert(
      fc.property(rawConditionsArb, (conditions) => {
        expect(isSatisfiable(conditions), JSON.stringify(conditions)).toBe(modelSatisfiable(conditions))
      }),
      fcParams(2000),
    )
  })

  it('W7: a compiled scope matches exactly as its scope does', () => {
    const odd = fc.constantFrom<unknown>(-0, Number.NaN, new Date('2024-01-01T00:00:00.000Z'), undefined, '0', true)
    fc.assert(
      fc.property(
        scopePairArb.chain(([a, b]) => {
          // Odd values go mostly where the scope looks, so that they meet its conditions.
          const looked = fc.constantFrom(...(a.length > 0 ? a.map((c) => c.column) : COLUMNS))
          const column = fc.oneof({ arbitrary: looked, weight: 3 }, { arbitrary: fc.constantFrom(...COLUMNS), weight: 1 })
          return fc.tuple(fc.constant(a), rowsNear(a, b), fc.array(fc.tuple(column, odd), { maxLength: 3 }))
        }),
        ([scope, rows, oddities]) => {
          const compiled = compileScope('things', scope)
          expect(compiled.key).toBe(scopeKey('things', scope))
          for (const base of rows) {
            const row: Record<string, unknown> = { ...base }
            for (const [column, value] of oddities) if (value === undefined) delete row[column]
            else row[column] = value
            expect(compiled.matches(row), `${JSON.stringify(row)} against ${JSON.stringify(scope)}`).toBe(matches(row, scope))
          }
        },
      ),
      fcParams(1000),
    )
  })
})

// ---------------------------------------------------------------------------------------------------
// W6's model: the definition of overlap before it was made near-linear, kept as it was.

function modelOverlap(a: Scope, b: Scope): boolean {
  const byColumn = new Map<string, Condition[]>()
  for (const c of [...a, ...b]) {
    const list = byColumn.get(c.column)
    if (list === undefined) byColumn.set(c.column, [c])
    else list.push(c)
  }
  for (const conditions of byColumn.values()) if (!modelSatisfiable(conditions)) return false
  return true
}

function modelSatisfiable(conditions: readonly Condition[]): boolean {
  const needsNull = conditions.some((c) => c.op === 'null')
  const others = conditions.filter((c) => c.op !== 'null')
  if (needsNull) return others.length === 0
  let candidates: ScalarValue[] | undefined
  for (const c of others) {
    const values = c.op === 'eq' ? [c.value] : c.op === 'in' ? c.values : undefined
    if (values === undefined) continue
    candidates = candidates === undefined ? [...values] : candidates.filter((v) => values.some((w) => compareValues(v, w) === 0))
  }
  if (candidates === undefined) {
    const bound = others.find((c): c is Extract<Condition, { value: ScalarValue }> => c.op !== 'in')
    if (bound !== undefined && typeof bound.value === 'boolean') candidates = [false, true]
  }
  if (candidates !== undefined) return candidates.some((v) => others.every((c) => matchesCondition(v, c)))
  let lower: { value: ScalarValue; open: boolean } | undefined
  let upper: { value: ScalarValue; open: boolean } | undefined
  for (const c of others) {
    if (c.op === 'gt' || c.op === 'gte') {
      const open = c.op === 'gt'
      const cmp = lower === undefined ? 1 : compareValues(c.value, lower.value)
      if (cmp === undefined) return false
      if (cmp > 0 || (cmp === 0 && open)) lower = { value: c.value, open }
    } else if (c.op === 'lt' || c.op === 'lte') {
      const open = c.op === 'lt'
      const cmp = upper === undefined ? -1 : compareValues(c.value, upper.value)
      if (cmp === undefined) return false
      if (cmp < 0 || (cmp === 0 && open)) upper = { value: c.value, open }
    }
  }
  if (lower === undefined || upper === undefined) return true
  const cmp = compareValues(lower.value, upper.value)
  if (cmp === undefined) return false
  return cmp < 0 || (cmp === 0 && !lower.open && !upper.open)
}

/** Conditions on one column as no validation would leave them: values of every type, `in` lists unsorted with repeats. */
const rawConditionsArb: fc.Arbitrary<Condition[]> = (() => {
  const anyValue = fc.constantFrom<ScalarValue>(...(Object.values(DOMAINS).flat() as ScalarValue[]))
  const sameType = fc.constantFrom(...Object.values(DOMAINS)).chain((domain) => fc.constantFrom(...(domain as ScalarValue[])))
  const value = fc.oneof({ arbitrary: sameType, weight: 4 }, { arbitrary: anyValue, weight: 1 })
  const condition: fc.Arbitrary<Condition> = fc.oneof(
    { arbitrary: fc.constant<Condition>({ column: 'c', op: 'null' }), weight: 1 },
    { arbitrary: fc.tuple(fc.constantFrom('eq', 'gt', 'gte', 'lt', 'lte') as fc.Arbitrary<'eq' | 'gt' | 'gte' | 'lt' | 'lte'>, value).map(([op, v]) => ({ column: 'c', op, value: v }) as Condition), weight: 5 },
    { arbitrary: fc.array(value, { maxLength: 6 }).map((values) => ({ column: 'c', op: 'in', values }) as Condition), weight: 4 },
  )
  return fc.array(condition, { maxLength: 5 })
})()
