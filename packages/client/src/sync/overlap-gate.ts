/**
 * The client's overlap gate (trap 6, scope overlap, in docs/guarantees.md): runs of scopes of one table
 * that can overlap (core's `scopesOverlap`) take turns; disjoint ones run side by side.
 *
 * Why: a scope's pull is planned from the replica as its request found it — a full reconciliation from
 * the entries it listed, an incremental pull from its checkpoint. A page of an overlapping scope applied
 * meanwhile (read at another rev) changes that replica behind the plan's back: a record it stores in a
 * range the reconciliation already listed is never reconciled, and the reconciliation's checkpoint then
 * covers whatever happened to the record on the server since (B13). Taking turns, each run reads the
 * server after the previous overlapping run's pages are stored, so pages land in the order they were read.
 */
import { scopesOverlap, type Scope } from '@lastword/core'

/** Lets go of the gate; calling it twice does nothing. */
export type LeaveGate = () => void

/** The gate of one driver. */
export interface OverlapGate {
  /**
   * Waits for the turn of a run of `scope` of `table`: until no earlier run of that table whose scope
   * can overlap it holds or awaits the gate (first come, first served, so no run is starved).
   */
  enter(table: string, scope: Scope): Promise<LeaveGate>
  /** Runs holding or awaiting the gate, by table (for tests and diagnostics). */
  size(table: string): number
}

interface Turn {
  scope: Scope
  started: boolean
  start: () => void
}

/** Creates an empty gate. */
export function createOverlapGate(): OverlapGate {
  const queues = new Map<string, Turn[]>()

  // A turn waits for every earlier one that overlaps it, started or not: a later run that overlaps a
  // waiting one never jumps it, yet a disjoint one goes at once.
  const mustWait = (queue: readonly Turn[], turn: Turn): boolean => {
    for (const other of queue) {
      if (other === turn) return false
      if (scopesOverlap(other.scope, turn.scope)) return true
    }
    return false
  }

  const startReady = (queue: readonly Turn[]): void => {
    for (const turn of queue) {
      if (turn.started || mustWait(queue, turn)) continue
      turn.started = true
      turn.start()
    }
  }

  return {
    async enter(table, scope) {
      let queue = queues.get(table)
      if (queue === undefined) queues.set(table, (queue = []))
      const q = queue
      const turn: Turn = { scope, started: false, start: () => undefined }
      const started = new Promise<void>((resolve) => (turn.start = resolve))
      q.push(turn)
      startReady(q)
      await started
      let left = false
      return () => {
        if (left) return
        left = true
        q.splice(q.indexOf(turn), 1)
        if (q.length === 0 && queues.get(table) === q) queues.delete(table)
        startReady(q)
      }
    },
    size: (table) => queues.get(table)?.length ?? 0,
  }
}
