/**
 * The table descriptors the client knows, and where they come from: the app's (`tables` option, fixed),
 * or else the server's (its `lw:hello`, stored so that a client can start offline) — which a tab that
 * does not own the connection reloads from the store when the owner says they changed.
 */
import { LastwordError, assertTableDescriptor, toLastwordError, type TableDescriptor } from '@lastword/core'
import type { ClientClock } from '../clock.js'
import type { LocalStore } from '../store/types.js'
import { migrateStoredRecords, type SchemaMigration } from './schema-migration.js'

/** Options of {@link createDescriptorRegistry}. */
export interface DescriptorRegistryOptions {
  /** The app's descriptors, validated; `undefined`: take the server's. */
  appTables: TableDescriptor[] | undefined
  store: LocalStore
  /** Reports a descriptor refused or a store failure (the registry keeps what it had). */
  report(error: LastwordError): void
  /** Stored records were migrated to new schema versions with the server's descriptors (schema-migration.ts). */
  onMigrated?(migrations: SchemaMigration[]): void
}

/** The descriptors of one client. */
export interface DescriptorRegistry {
  /** Whether the app gave the descriptors (the server's and the stored ones are then ignored). */
  readonly fromApp: boolean
  /** How many tables are known. */
  readonly size: number
  get(table: string): TableDescriptor | undefined
  /** Every known descriptor (a parent's delete looks for the tables that point at it, PD4). */
  all(): TableDescriptor[]
  /** The names of the known tables. */
  names(): string[]
  /** The descriptor, or `UNKNOWN_TABLE` with what is known. */
  require(table: string): TableDescriptor
  /** At start: takes the stored descriptors (unless the app gave its own). */
  restore(stored: TableDescriptor[] | undefined): void
  /**
   * Takes the server's descriptors (unless the app gave its own): those that fail validation are
   * reported and left out, the rest replace the known ones and are stored with the clock. Returns
   * whether they were taken.
   */
  takeFromServer(tables: readonly TableDescriptor[], clock: ClientClock): Promise<boolean>
  /** Reads the descriptors another tab stored; returns whether any were found (unless the app gave its own). */
  reload(): Promise<boolean>
}

/**
 * The message of `UNKNOWN_TABLE`: what is known, and how to pass descriptors (`describeTables` of
 * `@lastword/server` writes them; the client README, "Typed tables"). The name is the app's own
 * (`client.table(name)`, a safe key), shown at most 64 characters long.
 */
function unknownTableMessage(table: string, known: readonly string[], fromApp: boolean): string {
  const name = `Table ${JSON.stringify(table.slice(0, 64))}`
  const how = 'describeTables of @lastword/server writes them from the Drizzle tables'
  if (known.length === 0) return `${name} is not known yet: pass its descriptors as \`tables\` to createSyncClient (${how}), or connect once and wait for status 'online'`
  return fromApp ? `${name} is not in \`tables\` (known: ${known.join(', ')}); write them again (${how})` : `${name} is not synced by the server; known: ${known.join(', ')}`
}

/** Creates the registry. */
export function createDescriptorRegistry(options: DescriptorRegistryOptions): DescriptorRegistry {
  const { appTables, store, report } = options
  const tables = new Map<string, TableDescriptor>(appTables?.map((t) => [t.name, t]))
  const fromApp = appTables !== undefined

  const replace = (list: readonly TableDescriptor[]): void => {
    tables.clear()
    for (const table of list) tables.set(table.name, table)
  }

  return {
    fromApp,
    get size() {
      return tables.size
    },
    get: (table) => tables.get(table),
    all: () => [...tables.values()],
    names: () => [...tables.keys()],
    require(table) {
      const descriptor = tables.get(table)
      if (descriptor !== undefined) return descriptor
      throw new LastwordError('UNKNOWN_TABLE', unknownTableMessage(table, [...tables.keys()], fromApp), { table })
    },
    restore(stored) {
      if (!fromApp && stored !== undefined) replace(stored)
    },
    async takeFromServer(received, clock) {
      if (fromApp) {
        // How a table merges is the server's to say (it resolves every conflict): descriptors the app
        // passed that disagree would push whole rows to a field-merge table and lose concurrent edits.
        for (const server of received) {
          const app = tables.get(server.name)
          if (app === undefined) continue
          // So are the foreign keys between its tables (core's SPEC.md section 4a): the server judges by its own.
          const keys = server.foreignKeys ?? []
          if (JSON.stringify(app.foreignKeys ?? []) !== JSON.stringify(keys)) {
            const { foreignKeys: _stale, ...rest } = app
            tables.set(app.name, keys.length === 0 ? rest : { ...rest, foreignKeys: keys })
            report(new LastwordError('BAD_REQUEST', `Table ${JSON.stringify(app.name.slice(0, 64))}: the server's foreign keys differ from \`tables\`; using the server's`, { table: app.name }))
          }
          if ((app.merge ?? 'row') === (server.merge ?? 'row')) continue
          const merge = server.merge === 'field' ? 'field' : 'row'
          tables.set(app.name, { ...(tables.get(app.name) ?? app), merge })
          report(
            new LastwordError(
              'BAD_REQUEST',
              `Table ${JSON.stringify(app.name.slice(0, 64))}: the descriptors passed as \`tables\` merge by ${app.merge ?? 'row'}, the server by ${merge}; using the server's (write them again with describeTables)`,
              { table: app.name },
            ),
          )
        }
        return false
      }
      const valid: TableDescriptor[] = []
      for (const table of received) {
        try {
          valid.push(assertTableDescriptor(table))
        } catch (error) {
          report(toLastwordError(error))
        }
      }
      let migrations: SchemaMigration[] = []
      try {
        // The records migrate in the transaction that stores the descriptors: interrupted, neither happened.
        migrations = await store.transaction('readwrite', async (tx) => {
          const done = await migrateStoredRecords(tx, await tx.getMeta('tables'), valid)
          await tx.putMeta('tables', valid)
          await clock.persist(tx)
          return done
        })
        replace(valid)
      } catch (error) {
        // Not stored: the old descriptors stay with the records they describe (the next hello tries again).
        report(toLastwordError(error))
        return true
      }
      if (migrations.length > 0) options.onMigrated?.(migrations)
      return true
    },
    async reload() {
      if (fromApp) return false
      try {
        const stored = await store.transaction('readonly', (tx) => tx.getMeta('tables'))
        if (stored === undefined) return false
        replace(stored)
        return true
      } catch (error) {
        report(toLastwordError(error))
        return false
      }
    },
  }
}
