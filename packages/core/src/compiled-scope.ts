/**
 * A scope compiled once, for code that matches many rows against it (realtime fan-out, pulls): its
 * matcher, its canonical key and its hash. Matching costs O(conditions) per row whatever the size of
 * the scope's `in` lists (a set lookup, not a scan), so work per event never grows with the size of
 * a filter the client chose (attack V6, docs/guarantees.md).
 */
import { hashString } from './checkpoint.js'
import { matchesCondition, scopeKey, type Condition, type Scope } from './where.js'

/** A validated scope with what matching and identifying it needs, computed once. */
export interface CompiledScope {
  readonly table: string
  readonly scope: Scope
  /** {@link scopeKey} of the table and scope: equal filters, however written, have equal keys. */
  readonly key: string
  /** `hashString(key)`, the checkpoint token's scope hash. */
  readonly hash: string
  /** Whether a row (normalised values) matches every condition: exactly {@link matches}, faster. */
  matches(row: Readonly<Record<string, unknown>>): boolean
}

type Test = (value: unknown) => boolean

/** One condition as a test of a value; `in` becomes a set lookup that agrees with {@link matchesCondition}. */
function compileCondition(condition: Condition): Test {
  if (condition.op !== 'in') return (value) => matchesCondition(value, condition)
  if (condition.values.length === 0) return () => false
  // Equal scalars of one type are the same JavaScript value (strings identical, -0 and 0 one key), so
  // a lookup is compareValues(v, w) === 0 for some w, except NaN, which compares as equal to any
  // number there; rows never hold NaN, but the matcher keeps matching's answer even then.
  const set = new Set<unknown>(condition.values)
  return (value) => (typeof value === 'number' && Number.isNaN(value) ? matchesCondition(value, condition) : set.has(value))
}

/**
 * Compiles a validated scope of a table (from `validateWhere`, or an intersection of such). Costs one
 * pass over the scope; keep the result for as long as the scope lives.
 */
export function compileScope(table: string, scope: Scope): CompiledScope {
  const tests = scope.map((c) => ({ column: c.column, test: compileCondition(c) }))
  let key: string | undefined
  let hash: string | undefined
  return {
    table,
    scope,
    get key() {
      return (key ??= scopeKey(table, scope))
    },
    get hash() {
      return (hash ??= hashString(this.key))
    },
    matches(row) {
      for (const { column, test } of tests) {
        const value = Object.prototype.hasOwnProperty.call(row, column) ? row[column] : undefined
        if (!test(value)) return false
      }
      return true
    },
  }
}
