/** A FIFO async mutex: one holder at a time, in arrival order. */
export interface Mutex {
  run<T>(fn: () => Promise<T>): Promise<T>
}

/** Creates a {@link Mutex}. */
export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve()
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const result = tail.then(fn, fn)
      // The next holder waits for this one whatever its outcome.
      tail = result.then(
        () => undefined,
        () => undefined,
      )
      return result
    },
  }
}
