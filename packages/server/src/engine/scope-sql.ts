/**
 * Core's validated scopes as SQL on the app table. The meaning is core's `matches` (a test holds the
 * two against each other on generated rows): SQL null semantics, strings by code point (SQLite
 * BINARY, PostgreSQL `COLLATE "C"`), booleans as booleans, numbers compared exactly whatever the
 * column's integer width, timestamps as instants.
 */
import { LastwordError, type Condition, type ScalarValue, type Scope } from '@lastword/core'
import { sql, type SQL } from 'drizzle-orm'
import type { Dialect } from './driver.js'
import type { SyncedColumn, SyncedTable } from './tables.js'

const OPERATORS = { eq: sql.raw('='), gt: sql.raw('>'), gte: sql.raw('>='), lt: sql.raw('<'), lte: sql.raw('<=') } as const

function columnOf(table: SyncedTable, name: string): SyncedColumn {
  // Validated scopes only name known columns; this lookup is what keeps wire names out of SQL.
  const column = table.byName.get(name)
  if (column === undefined) throw new LastwordError('UNKNOWN_COLUMN', `Column ${JSON.stringify(name.slice(0, 80))} is not in table "${table.name}"`)
  return column
}

/** A filter value as a parameter of the column's comparison. */
function valueSql(dialect: Dialect, column: SyncedColumn, value: ScalarValue): SQL {
  const type = column.descriptor.type
  if (dialect === 'postgres' && (type === 'integer' || type === 'real')) {
    const n = value as number
    // An untyped parameter would take the column's type: 1.5 fails as int4, 3e9 overflows it, and
    // float4 would round the bound. bigint and double precision compare exactly with every width.
    return type === 'integer' && Number.isInteger(n) ? sql`CAST(${n} AS bigint)` : sql`CAST(${n} AS double precision)`
  }
  if (type === 'timestamp' && dialect === 'sqlite') return sql`${Date.parse(value as string)}`
  if (type === 'boolean' && dialect === 'sqlite') return sql`${value === true ? 1 : 0}`
  return sql`${value}`
}

function leftSql(dialect: Dialect, column: SyncedColumn, ranged: boolean): SQL {
  const ref = column.codec.compareExpr(sql`${column.column}`)
  if (column.descriptor.type !== 'text') return ref
  if (dialect === 'sqlite') return sql`${ref} COLLATE BINARY`
  // Equality is the same in every deterministic collation; only order needs "C" (and equality keeps
  // the column's index usable).
  return ranged ? sql`${ref} COLLATE "C"` : ref
}

/** One condition as a SQL predicate on the app table's columns. */
export function conditionSql(dialect: Dialect, table: SyncedTable, condition: Condition): SQL {
  const column = columnOf(table, condition.column)
  switch (condition.op) {
    case 'null':
      return sql`${column.column} IS NULL`
    case 'in': {
      if (condition.values.length === 0) return sql`1 = 0`
      const values = condition.values.map((v) => valueSql(dialect, column, v))
      return sql`${leftSql(dialect, column, false)} IN (${sql.join(values, sql`, `)})`
    }
    default:
      return sql`${leftSql(dialect, column, condition.op !== 'eq')} ${OPERATORS[condition.op]} ${valueSql(dialect, column, condition.value)}`
  }
}

/** A scope as one SQL predicate (`1 = 1` for the empty scope). */
export function scopeSql(dialect: Dialect, table: SyncedTable, scope: Scope): SQL {
  if (scope.length === 0) return sql`1 = 1`
  return sql.join(
    scope.map((c) => sql`(${conditionSql(dialect, table, c)})`),
    sql` AND `,
  )
}
