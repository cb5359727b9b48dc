/**
 * A minimal typed event emitter: listeners are isolated (one throwing does not stop the others, nor the
 * client that emitted). Kept hand-written rather than `mitt` or `nanoevents`: neither isolates listeners,
 * and the wrapper that would add it is as long as this file.
 */
export interface Emitter<Events extends object> {
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void
  emit<E extends keyof Events>(event: E, payload: Events[E]): void
  clear(): void
}

/** Creates an emitter with no listeners. */
export function createEmitter<Events extends object>(): Emitter<Events> {
  const listeners = new Map<keyof Events, Set<(payload: never) => void>>()
  return {
    on(event, listener) {
      let set = listeners.get(event)
      if (set === undefined) listeners.set(event, (set = new Set()))
      set.add(listener as (payload: never) => void)
      return () => {
        set.delete(listener as (payload: never) => void)
      }
    },
    emit(event, payload) {
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          ;(listener as (payload: Events[typeof event]) => void)(payload)
        } catch {
          // An app listener's failure is the app's; it must not break the client.
        }
      }
    },
    clear() {
      listeners.clear()
    },
  }
}
