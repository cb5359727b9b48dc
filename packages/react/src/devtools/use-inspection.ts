/**
 * `useInspection`: the client's `inspect()` snapshot, read again after every client event that can
 * change it (coalesced: one read in flight, one more queued at most).
 */
import type { ClientInspection, SyncClient } from '@lastword/client'
import { useEffect, useState } from 'react'
import { useLastword } from '../context.js'

/** The client events after which the snapshot is read again. */
export const INSPECTION_EVENTS = ['status', 'pending', 'sync', 'clock', 'error', 'progress'] as const

/** The state of {@link useInspection}. */
export interface InspectionState {
  snapshot: ClientInspection | null
  /** Why the last read failed (a closed client), or `null`. */
  error: Error | null
  /** Reads the snapshot again now. */
  refresh(): void
}

/** The `inspect()` snapshot of the provider's client (or of `client`), kept current. */
export function useInspection(client?: SyncClient): InspectionState {
  const chosen = useLastword(client)
  const [state, setState] = useState<{ snapshot: ClientInspection | null; error: Error | null }>({ snapshot: null, error: null })
  const [refresh, setRefresh] = useState<() => void>(() => () => undefined)

  useEffect(() => {
    let active = true
    let reading = false
    let again = false
    const read = (): void => {
      if (reading) {
        again = true
        return
      }
      reading = true
      chosen.inspect().then(
        (snapshot) => active && setState({ snapshot, error: null }),
        (error: unknown) => active && setState((s) => ({ snapshot: s.snapshot, error: error instanceof Error ? error : new Error(String(error)) })),
      ).finally(() => {
        reading = false
        if (again && active) {
          again = false
          read()
        }
      })
    }
    const offs = INSPECTION_EVENTS.map((event) => chosen.on(event, read))
    setRefresh(() => read)
    read()
    return () => {
      active = false
      for (const off of offs) off()
    }
  }, [chosen])

  return { ...state, refresh }
}
