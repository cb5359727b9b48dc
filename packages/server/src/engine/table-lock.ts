/**
 * The cross-node half of the overlap lock (trap 6, docs/guarantees.md): across server nodes a lock per
 * table (a PostgreSQL advisory lock, taken by `dialect/postgres-driver.ts`) is enough; overlap-aware
 * parallelism is a single-node refinement.
 *
 * On PostgreSQL a sync's critical section — its write transaction and the snapshot it reads its page
 * from — runs on ONE pooled connection that holds a session-level advisory lock on the table:
 * exclusive for a sync that pushes, shared for a pull. Two syncs of one table on any two nodes
 * therefore never interleave their critical sections unless both only read. The in-process scope lock
 * still runs first, so on one node overlapping syncs queue without spending connections, and reading,
 * validation and planning of disjoint syncs (the stored metadata a push is authorized against) stay
 * parallel.
 *
 * Why a session lock and not `pg_advisory_xact_lock`: the critical section spans two transactions (a
 * READ COMMITTED write, then a REPEATABLE READ snapshot), and a transaction-level lock would be released
 * in the gap between them. A session lock on the connection that runs both covers the gap; PostgreSQL
 * drops it when that connection ends (a node killed with SIGKILL releases its locks when the kernel
 * closes its sockets), and lastword destroys the connection rather than return it to the pool whenever
 * the unlock did not certainly succeed — a pooled connection never carries a stale lock.
 *
 * SQLite has one writer per database file and no cross-process fan-out: its path keeps the in-process
 * lock alone.
 */

import type { TableLockMode } from './dialect/types.js'

export type { TableLockMode }

/**
 * An in-process readers–writer gate per table, FIFO: a writer waits for the readers and writers before
 * it, readers behind a waiting writer wait for it (no writer starves). It keeps one node from spending
 * a pooled connection per queued sync on waiting for a lock that another sync of the same node holds.
 */
export interface TableGates {
  acquire(table: string, mode: TableLockMode): Promise<() => void>
}

interface Waiter {
  mode: TableLockMode
  wake: () => void
}

interface Gate {
  readers: number
  writer: boolean
  queue: Waiter[]
}

/** Creates the in-process gates of one driver. */
export function createTableGates(): TableGates {
  const gates = new Map<string, Gate>()

  const admit = (gate: Gate): void => {
    while (gate.queue.length > 0) {
      const next = gate.queue[0] as Waiter
      if (gate.writer) return
      if (next.mode === 'exclusive') {
        if (gate.readers > 0) return
        gate.writer = true
      } else {
        gate.readers++
      }
      gate.queue.shift()
      next.wake()
    }
  }

  return {
    async acquire(table, mode) {
      let gate = gates.get(table)
      if (gate === undefined) gates.set(table, (gate = { readers: 0, writer: false, queue: [] }))
      const g = gate
      await new Promise<void>((resolve) => {
        g.queue.push({ mode, wake: resolve })
        admit(g)
      })
      let released = false
      return () => {
        if (released) return
        released = true
        if (mode === 'exclusive') g.writer = false
        else g.readers--
        admit(g)
        if (!g.writer && g.readers === 0 && g.queue.length === 0 && gates.get(table) === g) gates.delete(table)
      }
    },
  }
}
