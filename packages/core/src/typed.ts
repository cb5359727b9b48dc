/**
 * Types only (no run-time code): the app's Drizzle schema seen through lastword's rules, so that the
 * client's table handles and the server's services are checked by the compiler. The tables are read
 * structurally (a Drizzle table carries its select model as `$inferSelect`), so no Drizzle import is
 * needed here or in the client: the app imports its schema with `import type`.
 *
 * The rules they encode are core's: the table's key — its primary key column, `uid` unless the app's is
 * another (`KeyOf`, SPEC.md section 4 "The key") — is the record's uid (optional on create, never
 * written by an update, filtered or sorted on); server-owned columns (`serverColumns`, `writable: false`) are read, never written by a client
 * (`assertWritableColumns`, attack V3); a create needs every non-nullable writable column
 * (`normalizeClientWrite`: Drizzle defaults are not applied by lastword); timestamps are read as ISO
 * strings and written as ISO strings or `Date`s (SPEC.md section 4); filters follow the `where`
 * language (SPEC.md section 5): JSON columns are neither filtered nor sorted on, `null` alone matches
 * nulls.
 */
import type { RowValues } from './metadata.js'
import type { Where } from './where.js'
import type { TableDescriptor } from './descriptor.js'

/** What lastword reads of a Drizzle table's type: its select model. */
export interface DrizzleTableLike {
  readonly $inferSelect: object
}

/**
 * One synced table of a schema: a Drizzle table, or the server's declaration of it
 * (`{ table, serverColumns }`, the entries of `createSyncServer`'s `tables`).
 */
export type SchemaEntry = DrizzleTableLike | { readonly table: DrizzleTableLike; readonly serverColumns?: object }

/**
 * An app's schema as lastword types it: the object passed as `tables` to `createSyncServer`
 * (`{ todos, notes: { table: notes, serverColumns: {…} } }`), or any object of Drizzle tables by the
 * name clients use. Entries that are neither are left out of its table names.
 */
export type SyncSchema = object

/** The names of a schema's tables. */
export type TableName<S> = { [K in keyof S]: S[K] extends SchemaEntry ? K : never }[keyof S] & string

/** The select model of a schema entry (a Drizzle table or `{ table }`). */
export type SelectModelOf<E> = E extends { readonly table: infer T } ? SelectModelOf<T> : E extends { readonly $inferSelect: infer R extends object } ? R : never

/** The columns (Drizzle column objects, by key) of a schema entry's table, when its type has them. */
type DrizzleColumnsOf<E> = E extends { readonly table: infer T } ? DrizzleColumnsOf<T> : E extends { readonly _: { readonly columns: infer C extends object } } ? C : never

type PrimaryKeyOf<C> = { [K in keyof C]: C[K] extends { readonly _: { readonly isPrimaryKey: true } } ? K : never }[keyof C] & string

/**
 * The key of a schema entry: the Drizzle key of its table's primary key column (`id` for
 * `id: uuid('id').primaryKey()`), which rows carry the record's uid under; `uid` when the type does not
 * say (a row type the app wrote itself).
 */
export type KeyOf<E> = [DrizzleColumnsOf<E>] extends [never] ? 'uid' : [PrimaryKeyOf<DrizzleColumnsOf<E>>] extends [never] ? 'uid' : PrimaryKeyOf<DrizzleColumnsOf<E>>

/** The server-owned columns of a schema entry: the keys of its `serverColumns`. */
export type ServerColumnsOf<E> = E extends { readonly serverColumns?: infer C } ? ([C] extends [object] ? keyof C & string : never) : never

/** Whether `Row` is the untyped row (`Record<string, unknown>`): any column name goes. */
type IsUntyped<Row> = string extends keyof Row ? true : false

type Expand<T> = { [K in keyof T]: T[K] } & {}

/** A value as lastword reads it: timestamps as ISO strings. */
export type ReadValue<V> = V extends Date ? string : V

/** A value as a write may give it: timestamps as ISO strings or `Date`s. */
export type WriteValue<V> = V extends Date ? Date | string : V

/** A row as the app reads it: its columns (timestamps as ISO strings) and its uid, under the table's key. */
export type ReadRow<Row, Key extends string = 'uid'> = Expand<{ [K in keyof Row]: ReadValue<Row[K]> } & { [K in Key]: string }>

/** The app columns of a row type: every key but the table's key (lastword's `uid`, or the app's primary key). */
export type ColumnOf<Row, Key extends string = 'uid'> = Exclude<keyof Row & string, Key>

/** The columns a client may write: the app columns less the server-owned ones. */
export type WritableColumnOf<Row, ServerOwned extends string = never, Key extends string = 'uid'> = Exclude<ColumnOf<Row, Key>, ServerOwned>

type RequiredColumnOf<Row, ServerOwned extends string, Key extends string> = {
  [K in WritableColumnOf<Row, ServerOwned, Key>]: null extends Row[K] ? never : undefined extends Row[K] ? never : K
}[WritableColumnOf<Row, ServerOwned, Key>]

/**
 * What a client's `create` takes: every non-nullable writable column, the nullable (or, in a row type
 * the app wrote itself, optional) ones optionally, the key optionally (a UUIDv7 otherwise), and no
 * server-owned column.
 */
export type CreateInput<Row, ServerOwned extends string = never, Key extends string = 'uid'> =
  IsUntyped<Row> extends true
    ? Partial<Row> & { [K in Key]?: string }
    : Expand<
        { [K in RequiredColumnOf<Row, ServerOwned, Key>]: WriteValue<Row[K]> } & {
          [K in Exclude<WritableColumnOf<Row, ServerOwned, Key>, RequiredColumnOf<Row, ServerOwned, Key>>]?: WriteValue<Row[K]>
        } & { [K in Key]?: string }
      >

/** What a client's `update` takes: any writable columns, no server-owned column, not the key. */
export type UpdatePatch<Row, ServerOwned extends string = never, Key extends string = 'uid'> =
  IsUntyped<Row> extends true ? Partial<Row> : { [K in WritableColumnOf<Row, ServerOwned, Key>]?: WriteValue<Row[K]> }

/** The insert model of a schema entry (Drizzle's `$inferInsert`: columns with a default are optional). */
export type InsertModelOf<E> = E extends { readonly table: infer T }
  ? InsertModelOf<T>
  : E extends { readonly $inferInsert: infer R extends object }
    ? R
    : SelectModelOf<E>

/**
 * What the server's services `create` (the app's own code, as the system) takes: Drizzle's insert
 * model (the services fill Drizzle defaults), server-owned columns included, the key optional.
 */
export type ServiceCreateInput<Insert, Key extends string = 'uid'> =
  IsUntyped<Insert> extends true
    ? Partial<Insert> & { [K in Key]?: string }
    : Expand<{ [K in keyof Insert as K extends Key ? never : K]: WriteValue<Insert[K]> } & { [K in Key]?: string }>

/** A value a filter compares with (`Date`s or ISO strings for timestamps). */
export type FilterValue<V> = WriteValue<NonNullable<V>>

/** The columns a filter or a sort may name: not the key, not JSON (values that are not scalars). */
export type FilterableColumnOf<Row, Key extends string = 'uid'> = {
  [K in ColumnOf<Row, Key>]: NonNullable<Row[K]> extends string | number | boolean | Date ? K : never
}[ColumnOf<Row, Key>]

/** The operators of the `where` language on one column (AND-ed). */
export interface TypedWhereOps<V> {
  eq?: FilterValue<V>
  in?: readonly FilterValue<V>[]
  gt?: FilterValue<V>
  gte?: FilterValue<V>
  lt?: FilterValue<V>
  lte?: FilterValue<V>
}

/**
 * A filter on `Row` (SPEC.md section 5): `{ done: false, owner: null, priority: { gte: 2, lt: 5 } }`,
 * column names and value types checked; `null` only on nullable columns. The untyped row takes core's
 * {@link Where}.
 */
export type TypedWhere<Row, Key extends string = 'uid'> =
  IsUntyped<Row> extends true
    ? Where
    : { readonly [K in FilterableColumnOf<Row, Key>]?: FilterValue<Row[K]> | TypedWhereOps<Row[K]> | (null extends Row[K] ? null : never) }

/** A sort key: a column, ascending unless `direction: 'desc'`. */
export type TypedOrderBy<Row, Key extends string = 'uid'> =
  | (IsUntyped<Row> extends true ? string : FilterableColumnOf<Row, Key>)
  | { column: IsUntyped<Row> extends true ? string : FilterableColumnOf<Row, Key>; direction?: 'asc' | 'desc' }

/** The row type of table `N` of schema `S`. */
export type SchemaRow<S, N extends keyof S> = SelectModelOf<S[N]>

/** The untyped row: what a table handle is without a schema. */
export type UntypedRow = RowValues

/**
 * A table descriptor as JSON gives it back (`import tables from './lastword-tables.json'`): the shape
 * of {@link TableDescriptor} with its enumerations widened to what a JSON import's type says. Whoever
 * takes one checks it with `assertTableDescriptor`.
 */
export interface TableDescriptorJson {
  readonly name: string
  readonly columns: readonly {
    readonly name: string
    readonly type: string
    readonly nullable: boolean
    readonly writable: boolean
    readonly bits?: number
    readonly maxLength?: number
  }[]
  readonly key?: string
  readonly keyType?: string
  /** Foreign keys to other synced tables' uid (SPEC.md section 4a); actions checked by `assertTableDescriptor`. */
  readonly foreignKeys?: readonly { readonly column: string; readonly references: string; readonly onDelete: string; readonly onUpdate: string }[]
}
