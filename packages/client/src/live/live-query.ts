/** One live query (a `subscribe` call) and the state its refresh keeps. */
import type { Where } from '@lastword/core'
import type { CompiledQuery, LiveResult, QueryOptions, ReadRow } from '../query.js'

/** A subscriber's query, from `subscribe` to its unsubscribe. */
export interface LiveQuery {
  /** Its holder id towards the sync driver. */
  id: string
  table: string
  where: Where
  options: QueryOptions
  callback: (rows: ReadRow<never>[]) => void
  /** `null` until the table's descriptor is known. */
  compiled: CompiledQuery | null
  /** Its rows, kept between changes; `null` until the first full read. */
  result: LiveResult | null
  /** Changed in ways not known record by record: waits for a full read of its table (throttled). */
  needsFullRead: boolean
  /** Its last refresh failed: the next change of its table, whatever it is, re-reads it in full. */
  lastRefreshFailed: boolean
  /** Whether the sync driver keeps its scope synced for it. */
  scopeHeld: boolean
  closed: boolean
}
