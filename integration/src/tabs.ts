/**
 * In-memory Web Locks and BroadcastChannel for two "tabs" in one process under virtual time: messages
 * are delivered with `setImmediate` (counted by the virtual time's settle), locks are granted in order.
 */
import type { BroadcastChannelFactory, LockManagerLike } from '@lastword/client'

/** A Web Locks stand-in: exclusive locks by name, granted first come first served; an aborted wait is dropped. */
export function createLockManager(): LockManagerLike {
  const queues = new Map<string, Array<{ grant: () => void; signal: AbortSignal | undefined }>>()
  const held = new Set<string>()
  const next = (name: string): void => {
    if (held.has(name)) return
    const queue = queues.get(name) ?? []
    while (queue.length > 0) {
      const waiter = queue.shift() as { grant: () => void; signal: AbortSignal | undefined }
      if (waiter.signal?.aborted === true) continue
      held.add(name)
      waiter.grant()
      return
    }
  }
  return {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const signal = options.signal
        let queue = queues.get(name)
        if (queue === undefined) queues.set(name, (queue = []))
        queue.push({
          signal,
          grant: () => {
            void Promise.resolve()
              .then(callback)
              .then(resolve, reject)
              .finally(() => {
                held.delete(name)
                setImmediate(() => next(name))
              })
          },
        })
        signal?.addEventListener('abort', () => {
          const q = queues.get(name) ?? []
          const i = q.findIndex((w) => w.signal === signal)
          if (i >= 0) {
            q.splice(i, 1)
            reject(signal.reason ?? new Error('aborted'))
          }
        })
        setImmediate(() => next(name))
      })
    },
  }
}

/** A BroadcastChannel stand-in shared by every instance created from the returned constructor. */
export function createBroadcastChannels(): BroadcastChannelFactory {
  const channels = new Map<string, Set<Channel>>()
  class Channel {
    onmessage: ((event: MessageEvent) => void) | null = null
    private closed = false
    constructor(readonly name: string) {
      let set = channels.get(name)
      if (set === undefined) channels.set(name, (set = new Set()))
      set.add(this)
    }
    postMessage(message: unknown): void {
      if (this.closed) return
      const data = structuredClone(message)
      for (const other of channels.get(this.name) ?? []) {
        if (other === this) continue
        setImmediate(() => {
          if (!other.closed) other.onmessage?.({ data } as MessageEvent)
        })
      }
    }
    close(): void {
      this.closed = true
      channels.get(this.name)?.delete(this)
    }
  }
  return Channel as unknown as BroadcastChannelFactory
}
