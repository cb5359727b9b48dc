/** Shared helpers of the React binding's tests: a memory-store client and a root rendered under `act`. */
import { createSyncClient, type SyncClient, type SyncClientOptions, type Transport, type TransportHandlers } from '@lastword/client'
import { createManualRuntime, type ManualRuntime } from '@lastword/client/testing'
import { act, type ReactNode } from 'react'
import { createRoot, type Root } from 'react-dom/client'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

export const todosTable: NonNullable<SyncClientOptions['tables']>[number] = {
  name: 'todos',
  columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'done', type: 'boolean', nullable: false, writable: true },
  ],
}

export interface Todo {
  title: string
  done: boolean
}

/** A transport the test connects by hand: `open` only remembers the client's handlers. */
export function manualTransport(): Transport & { handlers: TransportHandlers | null } {
  const transport = {
    handlers: null as TransportHandlers | null,
    open(h: TransportHandlers) {
      transport.handlers = h
    },
    close() {
      transport.handlers = null
    },
    request: () => Promise.reject(new Error('no server in this test')),
  }
  return transport
}

/** A client on a memory store with the todos descriptor, offline unless given a transport. */
const runtimes: ManualRuntime[] = []

export function newClient(transport?: Transport): SyncClient {
  const runtime = createManualRuntime()
  runtimes.push(runtime)
  return createSyncClient({
    name: 'react-test',
    store: 'memory',
    tables: [todosTable],
    runtime,
    transport,
    autoConnect: false,
  })
}

/** Renders into a detached container; `render` again to re-render with new props. */
export function mount(): { render(node: ReactNode): Promise<void>; unmount(): Promise<void>; container: HTMLElement } {
  const container = document.createElement('div')
  let root: Root | null = createRoot(container)
  return {
    container,
    async render(node) {
      await act(async () => root!.render(node))
    },
    async unmount() {
      await act(async () => root!.unmount())
      root = null
    },
  }
}

/** Lets the client's store reads and the renders they cause settle. */
export async function settle(rounds = 5): Promise<void> {
  // Time does not move: due timers (a live query's zero pause between full reads) fire, then I/O settles.
  for (let i = 0; i < rounds; i++) {
    await act(async () => {
      for (const runtime of runtimes) await runtime.advance(0)
      await new Promise<void>((resolve) => setTimeout(resolve, 0))
    })
  }
}

/** Waits (rendering under `act`) until `check` holds. */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return
    await settle(1)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Runs `fn` inside `act`, so the renders it causes are flushed with it. */
export async function inAct(fn: () => unknown): Promise<void> {
  await act(async () => {
    await fn()
  })
}
