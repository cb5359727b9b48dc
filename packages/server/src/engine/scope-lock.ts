/**
 * The overlap lock (trap 6, docs/guarantees.md): syncs of one table whose effective scopes can overlap run one
 * after the other; disjoint ones run in parallel. In-process: across server nodes on PostgreSQL, a
 * sync then also holds its table's advisory lock (`table-lock.ts`).
 */
import { scopesOverlap, type Scope } from '@lastword/core'

/** What the lock reports to an observer (tests, metrics). */
export interface ScopeLockEvent {
  type: 'wait' | 'acquire' | 'release'
  table: string
  scope: Scope
  /** A process-unique id of the sync holding or waiting for the lock. */
  id: number
}

/** Observes the lock; may return a promise to hold an `acquire` (tests use this to keep a sync inside). */
export type ScopeLockObserver = (event: ScopeLockEvent) => void | Promise<void>

interface Entry {
  id: number
  scope: Scope
  active: boolean
  wake: () => void
}

/** Per-table sets of syncs; an entry proceeds once no active entry of its table overlaps it. */
export interface ScopeLocks {
  acquire(table: string, scope: Scope): Promise<() => void>
  /** The scopes currently holding the lock of a table. */
  active(table: string): Scope[]
}

/**
 * Creates the overlap lock. Waiters are granted in arrival order as soon as nothing active overlaps
 * them; a later sync disjoint from everything active does not queue behind an earlier waiter (that
 * is the parallelism trap 6 asks for; syncs are short, so a waiter is not starved in practice).
 */
export function createScopeLocks(observe?: ScopeLockObserver): ScopeLocks {
  const queues = new Map<string, Entry[]>()
  let nextId = 1

  const blocked = (queue: readonly Entry[], entry: Entry): boolean =>
    queue.some((other) => other !== entry && other.active && scopesOverlap(other.scope, entry.scope))

  // Marks entries active here, not when their promise resumes, so that two waiters released by the
  // same call can never both start while overlapping each other.
  const grant = (queue: readonly Entry[]): void => {
    for (const entry of queue) {
      if (entry.active || blocked(queue, entry)) continue
      entry.active = true
      entry.wake()
    }
  }

  return {
    async acquire(table, scope) {
      let queue = queues.get(table)
      if (queue === undefined) {
        queue = []
        queues.set(table, queue)
      }
      const q = queue
      const entry: Entry = { id: nextId++, scope, active: false, wake: () => undefined }
      const granted = new Promise<void>((resolve) => {
        entry.wake = resolve
      })
      q.push(entry)
      if (blocked(q, entry)) {
        await observe?.({ type: 'wait', table, scope, id: entry.id })
        grant(q)
        await granted
      } else {
        entry.active = true
      }
      let released = false
      const release = (): void => {
        if (released) return
        released = true
        const index = q.indexOf(entry)
        if (index >= 0) q.splice(index, 1)
        if (q.length === 0 && queues.get(table) === q) queues.delete(table)
        void observe?.({ type: 'release', table, scope, id: entry.id })
        grant(q)
      }
      try {
        await observe?.({ type: 'acquire', table, scope, id: entry.id })
      } catch (error) {
        release()
        throw error
      }
      return release
    },
    active(table) {
      return (queues.get(table) ?? []).filter((e) => e.active).map((e) => e.scope)
    },
  }
}
