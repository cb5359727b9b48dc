/**
 * Foreign keys between synced tables and the parent-deleted rule (SPEC.md section 4a, PD1–PD5).
 *
 * A descriptor lists the foreign keys of its table that point at another synced table's `uid` (the
 * server reads them from the Drizzle schema; others are left out: lastword cannot know the rows of a
 * table it does not sync, nor keep a reference to a column other than the uid stable). The rule: a
 * parent's deletion wins. A child written after its parent was deleted is refused (`PARENT_DELETED`),
 * by the server whatever the stamps, and by the client when it knows the parent is deleted; a local
 * delete of a parent carries its `onDelete` to the children the replica holds in the same transaction.
 */
import { LastwordError } from './errors.js'
import type { TableDescriptor } from './descriptor.js'

/** What a database does to the children of a deleted (or re-keyed) parent, as Drizzle and SQL name it. */
export type ForeignKeyAction = 'cascade' | 'set null' | 'restrict' | 'no action' | 'set default'

export const FOREIGN_KEY_ACTIONS: readonly ForeignKeyAction[] = ['cascade', 'set null', 'restrict', 'no action', 'set default']

/** One foreign key of a synced table: `column` holds the `uid` of a record of the synced table `references`. */
export interface ForeignKeyDescriptor {
  /** The child column (a text column of this table). */
  column: string
  /** The parent table: a synced table's name (the name clients use). */
  references: string
  /** What deleting the parent does to this table's rows that point at it (absent in SQL: `'no action'`). */
  onDelete: ForeignKeyAction
  /** What changing the parent's key does; a uid never changes, so lastword never acts on it (carried for the app). */
  onUpdate: ForeignKeyAction
}

/** A parent as one side knows it: `undefined` not held, else whether it is a tombstone. */
export type ParentState = { deleted_at: unknown } | undefined

/** Who judges a child write: the server knows every record; a client only those in its scopes. */
export type ParentJudge = 'server' | 'client'

/**
 * PD1 (server) / PD3 (client): whether a parent state refuses a child written against it. The server
 * refuses a tombstoned parent and an absent one (it never was, or was deleted and purged); a client
 * refuses only a parent it holds as a tombstone (a pending local delete included): one it does not hold
 * may exist outside its scopes, and the server decides.
 */
export function isParentDeleted(parent: ParentState, judge: ParentJudge): boolean {
  if (parent === undefined) return judge === 'server'
  return parent.deleted_at !== null
}

/** The references a live row makes: `[foreign key, parent uid]` for each non-null foreign-key column. */
export function parentRefs(table: TableDescriptor, row: Readonly<Record<string, unknown>> | null): Array<[ForeignKeyDescriptor, string]> {
  if (row === null) return []
  const out: Array<[ForeignKeyDescriptor, string]> = []
  for (const fk of table.foreignKeys ?? []) {
    const value = row[fk.column]
    if (typeof value === 'string') out.push([fk, value])
  }
  return out
}

/**
 * Refuses a child row whose parent is deleted (PD1/PD3): throws `PARENT_DELETED` naming the column and
 * the parent table (never the uids' values: the message may be shown to a user, and comes from wire input).
 * `parentOf(table, uid)` is the judge's knowledge of one parent.
 */
export function assertParentsLive(table: TableDescriptor, row: Readonly<Record<string, unknown>> | null, parentOf: (table: string, uid: string) => ParentState, judge: ParentJudge): void {
  for (const [fk, uid] of parentRefs(table, row)) {
    if (isParentDeleted(parentOf(fk.references, uid), judge)) throw parentDeleted(table.name, fk)
  }
}

/** The typed refusal of PD1/PD3. Permanent: sending the write again changes nothing. */
export function parentDeleted(table: string, fk: ForeignKeyDescriptor): LastwordError {
  return new LastwordError('PARENT_DELETED', `This record of "${table}" points through "${fk.column}" at a record of "${fk.references}" that was deleted`, {
    table,
    column: fk.column,
    references: fk.references,
  })
}

/** What a local delete of a parent does to one child table's rows that point at it (PD4). */
export interface ChildEffect {
  table: string
  column: string
  /** `'delete'` (cascade): the child is deleted too; `'clear'` (set null): its reference becomes null. */
  effect: 'delete' | 'clear'
}

/**
 * PD4: what deleting a record of `parent` does to the children the replica holds, per `onDelete`:
 * `cascade` deletes them, `set null` clears their reference (when the column is nullable; otherwise
 * nothing, as `no action`), `restrict`, `no action` and `set default` do nothing locally (the database
 * decides on the server; `set default`'s value is the database's and unknown here).
 */
export function childEffects(tables: readonly TableDescriptor[], parent: string): ChildEffect[] {
  const out: ChildEffect[] = []
  for (const table of tables) {
    for (const fk of table.foreignKeys ?? []) {
      if (fk.references !== parent) continue
      if (fk.onDelete === 'cascade') out.push({ table: table.name, column: fk.column, effect: 'delete' })
      else if (fk.onDelete === 'set null' && table.columns.some((c) => c.name === fk.column && c.nullable && c.writable)) {
        out.push({ table: table.name, column: fk.column, effect: 'clear' })
      }
    }
  }
  return out
}

/**
 * Checks a descriptor's foreign keys (called by `assertTableDescriptor`): each on one of the table's text
 * columns, at most one per column, to an identifier, with known actions; else `BAD_REQUEST`.
 */
export function assertForeignKeys(table: TableDescriptor, isIdentifier: (name: string) => boolean): void {
  const keys = table.foreignKeys
  if (keys === undefined) return
  const seen = new Set<string>()
  const ok =
    Array.isArray(keys) &&
    keys.every((fk) => {
      const fresh = !seen.has(fk.column)
      seen.add(fk.column)
      return (
        fresh &&
        table.columns.some((c) => c.name === fk.column && c.type === 'text') &&
        isIdentifier(fk.references) &&
        FOREIGN_KEY_ACTIONS.includes(fk.onDelete) &&
        FOREIGN_KEY_ACTIONS.includes(fk.onUpdate)
      )
    })
  if (!ok) throw new LastwordError('BAD_REQUEST', `Table "${table.name}" declares a malformed foreign key`)
}
