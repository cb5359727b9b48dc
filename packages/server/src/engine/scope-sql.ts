/**
 * Core's validated scopes as SQL on the app table. The meaning is core's `matches` (a test holds the
 * two against each other on generated rows): SQL null semantics, strings by code point, booleans as
 * booleans, numbers compared exactly whatever the column's integer width, timestamps as instants. How
 * each dialect says so (collations, value encodings) is the dialect's `scopeColumn` and `scopeValue`.
 */
import { LastwordError, type Condition, type Scope } from '@lastword/core'
import { sql, type SQL } from 'drizzle-orm'
import type { Dialect } from './dialect/types.js'
import type { SyncedColumn, SyncedTable } from './tables.js'

const OPERATORS = { eq: sql.raw('='), gt: sql.raw('>'), gte: sql.raw('>='), lt: sql.raw('<'), lte: sql.raw('<=') } as const

function columnOf(table: SyncedTable, name: string): SyncedColumn {
  // Validated scopes only name known columns; this lookup is what keeps wire names out of SQL.
  const column = table.byName.get(name)
  if (column === undefined) throw new LastwordError('UNKNOWN_COLUMN', `Column ${JSON.stringify(name.slice(0, 80))} is not in table "${table.name}"`)
  return column
}

/** One condition as a SQL predicate on the app table's columns. */
export function conditionSql(dialect: Dialect, table: SyncedTable, condition: Condition): SQL {
  const column = columnOf(table, condition.column)
  switch (condition.op) {
    case 'null':
      return sql`${column.column} IS NULL`
    case 'in': {
      if (condition.values.length === 0) return sql`1 = 0`
      const values = condition.values.map((v) => dialect.scopeValue(column, v))
      return sql`${dialect.scopeColumn(column, false)} IN (${sql.join(values, sql`, `)})`
    }
    default:
      return sql`${dialect.scopeColumn(column, condition.op !== 'eq')} ${OPERATORS[condition.op]} ${dialect.scopeValue(column, condition.value)}`
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
