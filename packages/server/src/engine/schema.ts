/**
 * The schema versions of the synced tables (SPEC.md section 11; README, "Schema changes").
 *
 * `lastword_schema (tbl, version, descriptor)` holds every distinct schema of each table, in order:
 * `migrate()` compares a table's columns with its latest recorded version (core's `diffSchema`, with the
 * app's `renamed` option and the columns that have a default), records a new version when they changed,
 * and refuses a change lastword does not serve with `SCHEMA_CHANGE_UNSUPPORTED` before anything is written.
 * The versions are kept in memory for the push path: a push written under an older version is mapped
 * to the current one with core's `schemaMapping` / `mapRow`.
 */
import {
  LastwordError,
  diffSchema,
  mapRow,
  schemaOutdated,
  nextRenames,
  schemaMapping,
  schemaVersionOf,
  type ColumnRename,
  type SchemaMapping,
  type TableDescriptor,
  type WireRecord,
} from '@lastword/core'
import { sql } from 'drizzle-orm'
import type { SyncedTable } from './tables.js'
import { all, run, type Tx } from './tx.js'

/** Every recorded version of every synced table, index `version - 1`. */
export type SchemaVersions = ReadonlyMap<string, readonly TableDescriptor[]>

function parseStored(table: string, version: number, text: unknown): TableDescriptor {
  try {
    const parsed = JSON.parse(String(text)) as { columns: TableDescriptor['columns']; renames?: ColumnRename[] }
    return { name: table, columns: parsed.columns, schemaVersion: version, ...(parsed.renames === undefined ? {} : { renames: parsed.renames }) }
  } catch {
    throw new LastwordError('INTERNAL', `lastword_schema holds an unreadable descriptor of "${table}" version ${version}`)
  }
}

/**
 * Records the schema of every table whose columns changed since its latest recorded version. Decides
 * every table before writing one (an unsupported change of any table writes nothing). Returns all versions.
 */
export function* recordSchemas(tables: readonly SyncedTable[]): Tx<Map<string, TableDescriptor[]>> {
  const rows = yield* all(sql`SELECT tbl, version, descriptor FROM lastword_schema ORDER BY tbl, version`)
  const versions = new Map<string, TableDescriptor[]>()
  for (const row of rows) {
    const tbl = String(row['tbl'])
    const list = versions.get(tbl) ?? []
    list.push(parseStored(tbl, Number(row['version']), row['descriptor']))
    versions.set(tbl, list)
  }
  const inserts: TableDescriptor[] = []
  for (const table of tables) {
    const list = versions.get(table.name) ?? []
    const latest = list[list.length - 1]
    const current: TableDescriptor = { name: table.name, columns: table.descriptor.columns }
    if (latest === undefined) {
      inserts.push({ ...current, schemaVersion: 1 })
    } else {
      const changes = diffSchema(latest, current, { renamed: table.renamed, defaulted: new Set(table.defaults.keys()) })
      if (changes.length === 0) continue
      const version = schemaVersionOf(latest) + 1
      const renames = nextRenames(latest.renames ?? [], changes, version)
      inserts.push({ ...current, schemaVersion: version, ...(renames.length === 0 ? {} : { renames }) })
    }
  }
  for (const descriptor of inserts) {
    const stored = JSON.stringify({ columns: descriptor.columns, ...(descriptor.renames === undefined ? {} : { renames: descriptor.renames }) })
    yield* run(sql`INSERT INTO lastword_schema (tbl, version, descriptor) VALUES (${descriptor.name}, ${descriptor.schemaVersion}, ${stored})`)
    const list = versions.get(descriptor.name) ?? []
    list.push(descriptor)
    versions.set(descriptor.name, list)
  }
  return versions
}

/** Gives each synced table's descriptor (the one `lw:hello` sends) its current version and renames. */
export function applyVersions(tables: readonly SyncedTable[], versions: SchemaVersions): void {
  for (const table of tables) {
    const list = versions.get(table.name) ?? []
    const latest = list[list.length - 1]
    if (latest === undefined) continue
    table.descriptor.schemaVersion = schemaVersionOf(latest)
    if (latest.renames !== undefined && latest.renames.length > 0) table.descriptor.renames = latest.renames
    else delete table.descriptor.renames
  }
}

/**
 * How a push written under `version` of `table` maps to the current version: `null` when it is the
 * current one (or unstated), `BAD_REQUEST` for a version the server never recorded (never echoing it).
 */
export function pushMapping(table: SyncedTable, versions: SchemaVersions, version: number | undefined): { from: number; mapping: SchemaMapping } | null {
  const current = schemaVersionOf(table.descriptor)
  if (version === undefined || version === current) return null
  const recorded = versions.get(table.name)?.[version - 1]
  if (recorded === undefined || version > current) {
    throw new LastwordError('BAD_REQUEST', `The request names a schema version of "${table.name}" this server never recorded (it is at ${current})`)
  }
  return { from: version, mapping: schemaMapping(recorded, table.descriptor) }
}

/**
 * A pushed live row as the write path takes it (SV2, SV3): with a stated schema version, mapped from an
 * older one to the current names (a value for a column dropped or retyped since: `SCHEMA_OUTDATED`), and
 * the descriptor of the columns it writes (those it carries, and the server-owned ones the write fills);
 * without, the row and the whole descriptor, as before.
 */
export function pushedRow(
  table: SyncedTable,
  schema: { from: number; mapping: SchemaMapping | undefined } | undefined,
  input: Record<string, unknown>,
): { row: Record<string, unknown>; descriptor: TableDescriptor } {
  if (schema === undefined) return { row: input, descriptor: table.descriptor }
  let row = input
  if (schema.mapping !== undefined) {
    const mapped = mapRow(schema.mapping, input, true)
    if (!mapped.ok) throw schemaOutdated(table.descriptor, schema.from)
    row = mapped.row
  }
  const columns = table.descriptor.columns.filter((c) => Object.prototype.hasOwnProperty.call(row, c.name) || !c.writable)
  return { row, descriptor: { name: table.descriptor.name, columns } }
}

/**
 * A field-merge push (its columns and their stamps, SPEC.md section 3a) written under an older version:
 * both named as the current version names them (SV2, SV4), or `SCHEMA_OUTDATED` when it wrote a column
 * dropped or retyped since (SV3). Anything else is returned as it is.
 */
export function mappedFieldPush(table: SyncedTable, schema: { from: number; mapping: SchemaMapping | undefined } | undefined, record: WireRecord): WireRecord {
  if (schema?.mapping === undefined || record.fields === undefined) return record
  const row = record.row
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return record
  const values = mapRow(schema.mapping, row as Record<string, unknown>, true)
  const stamps = mapRow(schema.mapping, record.fields as Record<string, unknown>, true)
  if (!values.ok || !stamps.ok) throw schemaOutdated(table.descriptor, schema.from)
  return { ...record, row: values.row, fields: stamps.row as WireRecord['fields'] }
}
