/**
 * Transaction bodies as generators that yield one operation at a time (`yield* all(query)`), so one
 * body serves both ways a dialect runs a transaction: synchronously between `BEGIN` and `COMMIT` on one
 * shared connection (SQLite: no other work of this process can slip in), or awaiting each operation on
 * the transaction's own connection (PostgreSQL).
 */
import { LastwordError } from '@lastword/core'
import type { SQL } from 'drizzle-orm'

/** One step of a transaction body. */
export type Op =
  | { kind: 'all'; query: SQL }
  | { kind: 'run'; query: SQL }
  | { kind: 'call'; fn: () => unknown }

/** A transaction body in progress; `T` is what it returns. */
export type Tx<T> = Generator<Op, T, unknown>

/** Runs a query and returns its rows (objects keyed by the selected names). */
export function* all<R = Record<string, unknown>>(query: SQL): Tx<R[]> {
  return (yield { kind: 'all', query }) as R[]
}

/** Runs a statement and returns how many rows it changed. */
export function* run(query: SQL): Tx<number> {
  return (yield { kind: 'run', query }) as number
}

/**
 * Calls a function inside the transaction. On a synchronous dialect (SQLite) it must not return a
 * promise; on an asynchronous one it is awaited.
 */
export function* call<T>(fn: () => T | Promise<T>): Tx<T> {
  return (yield { kind: 'call', fn }) as T
}

/**
 * Thrown by a body to abandon the transaction and have the caller start over. It never reaches a
 * caller of the engine (the write path catches it); its code says what it would mean if it did.
 */
export class RestartError extends LastwordError {
  constructor() {
    super('TRANSIENT', 'The transaction was abandoned to start over')
  }
}

/** Drives a body whose operations complete synchronously. */
export function runSync<T>(gen: Tx<T>, exec: (op: Op) => unknown): T {
  let step = gen.next()
  for (;;) {
    if (step.done === true) return step.value
    let result: unknown
    try {
      result = exec(step.value)
    } catch (error) {
      step = gen.throw(error)
      continue
    }
    step = gen.next(result)
  }
}

/** Drives a body whose operations are awaited. */
export async function runAsync<T>(gen: Tx<T>, exec: (op: Op) => Promise<unknown>): Promise<T> {
  let step = gen.next()
  for (;;) {
    if (step.done === true) return step.value
    let result: unknown
    try {
      result = await exec(step.value)
    } catch (error) {
      step = gen.throw(error)
      continue
    }
    step = gen.next(result)
  }
}
