/**
 * `client.transaction` (SPEC.md section 12): the app's writes to several records, of any tables, as one
 * unit. Each write is planned when the callback calls it (its input checked, its uid chosen: a create
 * resolves with it at once); once the callback returns, every write commits in ONE store transaction in
 * call order, stamped together, each with its write sequence number and the unit's id (local-writes.ts).
 * An IndexedDB transaction cannot stay open across the app's own awaits, hence the plan first.
 *
 * All or nothing: a throw in the callback, a write refused when planned (even if the callback caught it)
 * or when committed (a record absent, a uid taken) commits nothing and rejects with that error.
 */
import { LastwordError, assertSafeKey, toLastwordError } from '@lastword/core'
import type { TransactionTable } from '../client-api.js'
import { uuidv7 } from '../ids.js'
import { commitWrites, planCreate, planDelete, planUpdate, written, type PlannedWrite } from './local-writes.js'
import { localWriteDeps, type TableHandleDeps } from './table-handle.js'

/** What a transaction needs of the client: a table handle's dependencies, and its bound. */
export interface TransactionDeps extends TableHandleDeps {
  /** Writes per transaction: one push request carries a unit whole (the server's `maxPushRecords`). */
  maxWrites: number
}

/** Runs `fn` as one transaction; see the module comment. */
export async function runTransaction<T>(client: TransactionDeps, fn: (tx: { table(name: string): TransactionTable }) => Promise<T> | T): Promise<T> {
  client.assertOpen()
  const deps = localWriteDeps(client)
  if (typeof fn !== 'function') throw new LastwordError('BAD_REQUEST', 'transaction needs a callback')
  /** The writes in call order (a slot is taken when the write is called, filled once it is planned). */
  const slots: (PlannedWrite | null)[] = []
  const planning: Promise<unknown>[] = []
  let failure: LastwordError | null = null
  let active = true
  const finished = (): LastwordError => new LastwordError('BAD_REQUEST', 'This transaction is over: write through a new one')

  const plan = <R>(make: () => Promise<PlannedWrite>, result: (planned: PlannedWrite) => R): Promise<R> => {
    if (!active) return Promise.reject(finished())
    const slot = slots.length
    slots.push(null)
    const planned = make().then(
      (write) => {
        slots[slot] = write
        return result(write)
      },
      (error: unknown) => {
        const lw = toLastwordError(error)
        failure ??= lw
        throw lw
      },
    )
    planning.push(planned.catch(() => undefined))
    return planned
  }

  const tables = new Map<string, TransactionTable>()
  const tx = {
    table(name: string): TransactionTable {
      assertSafeKey(name, 'table name')
      let table = tables.get(name)
      if (table === undefined) {
        tables.set(
          name,
          (table = {
            name,
            create: (input: unknown) => plan(() => planCreate(deps, name, input), (w) => w.uid),
            update: (uid: string, patch: unknown) => plan(() => planUpdate(deps, name, uid, patch), () => undefined),
            delete: (uid: string) => plan(() => planDelete(deps, name, uid), () => undefined),
          } as TransactionTable),
        )
      }
      return table
    },
  }

  let result: T
  try {
    result = await fn(tx)
    // Writes the callback called without awaiting them are part of it too.
    await Promise.all(planning)
  } finally {
    active = false
  }
  if (failure !== null) throw failure
  const writes = slots as PlannedWrite[]
  if (writes.length === 0) return result
  if (writes.length > client.maxWrites) {
    throw new LastwordError('TOO_LARGE', `A transaction may write at most ${client.maxWrites} records (one push carries it whole)`, { limit: client.maxWrites, got: writes.length })
  }
  const clock = await deps.clock()
  const stored = await commitWrites(deps, writes, uuidv7(clock.now(), deps.runtime))
  const changed = written(stored)
  client.afterWrite(changed.tables, changed.uids)
  return result
}
