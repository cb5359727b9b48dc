/** The Vue composables against a real client on a memory store: loading → rows, live updates, errors, cleanup. */
import { createSyncClient, type SyncClient, type SyncClientOptions, type Transport, type TransportHandlers, type Where } from '@lastword/client'
import { createManualRuntime, type ManualRuntime } from '@lastword/client/testing'
import { createApp, defineComponent, effectScope, h, nextTick, ref, type EffectScope } from 'vue'
import { afterEach, describe, expect, it } from 'vitest'
import { provideLastword, STATUS_EVENTS, useLiveQuery, useSyncStatus, useTable, type LiveSource } from '../src/index.js'

const todosTable: NonNullable<SyncClientOptions['tables']>[number] = {
  name: 'todos',
  columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'done', type: 'boolean', nullable: false, writable: true },
  ],
}
interface Todo {
  title: string
  done: boolean
}

const clients: SyncClient[] = []
const runtimes: ManualRuntime[] = []
const scopes: EffectScope[] = []
afterEach(async () => {
  for (const s of scopes.splice(0)) s.stop()
  for (const c of clients.splice(0)) await c.close()
})

function newClient(transport?: Transport): SyncClient {
  const runtime = createManualRuntime()
  runtimes.push(runtime)
  const client = createSyncClient({ name: 'vue-test', store: 'memory', tables: [todosTable], runtime, transport, autoConnect: false })
  clients.push(client)
  return client
}

/** Runs `fn` in a fresh effect scope (stopped after the test unless the test stops it). */
function inScope<T>(fn: () => T): { value: T; scope: EffectScope } {
  const scope = effectScope()
  scopes.push(scope)
  return { value: scope.run(fn)!, scope }
}

/** Waits, letting the store and Vue's scheduler run, until `check` holds (time does not move). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return
    for (const runtime of runtimes) await runtime.advance(0)
    await new Promise<void>((resolve) => setTimeout(resolve, 0))
    await nextTick()
  }
  throw new Error(`timed out waiting for ${what}`)
}

function counting<R>(table: LiveSource<R, any, any>): LiveSource<R, any, any> & { open: number; calls: Where[] } {
  const spy = {
    name: table.name,
    open: 0,
    calls: [] as Where[],
    subscribe(where: Where, callback: (rows: R[]) => void, options?: Parameters<LiveSource<R, any, any>['subscribe']>[2]) {
      spy.calls.push(where)
      const stop = table.subscribe(where, callback, options)
      spy.open++
      let stopped = false
      return () => {
        if (!stopped) spy.open--
        stopped = true
        stop()
      }
    },
  }
  return spy
}

describe('useLiveQuery (vue)', () => {
  it('is loading, then has the rows, then follows a local write', async () => {
    const client = newClient()
    const todos = client.table<Todo>('todos')
    await todos.create({ title: 'b', done: false })
    const { value: q } = inScope(() => useLiveQuery(todos, { done: false }, { orderBy: 'title' }))
    expect(q.loading.value).toBe(true)
    expect(q.rows.value).toEqual([])
    await until(() => !q.loading.value, 'the first rows')
    expect(q.rows.value.map((r) => r.title)).toEqual(['b'])
    await todos.create({ title: 'a', done: false })
    await todos.create({ title: 'c', done: true })
    await until(() => q.rows.value.length === 2, 'the live update')
    expect(q.rows.value.map((r) => r.title)).toEqual(['a', 'b'])
  })

  it('reports a filter the client refuses as its error ref', () => {
    const client = newClient()
    // @ts-expect-error a misspelt column: the compiler refuses it for a typed table, the client at run time
    const { value: q } = inScope(() => useLiveQuery(client.table<Todo>('todos'), { titel: 'x' }))
    expect(q.loading.value).toBe(false)
    expect(q.rows.value).toEqual([])
    expect(q.error.value?.code).toBe('UNKNOWN_COLUMN')
  })

  it('unsubscribes when its scope is disposed', async () => {
    const client = newClient()
    const todos = counting(client.table<Todo>('todos'))
    const { scope } = inScope(() => useLiveQuery(todos))
    expect(todos.open).toBe(1)
    scope.stop()
    expect(todos.open).toBe(0)
  })

  it('re-subscribes when reactive arguments change by value, not when they are rebuilt equal', async () => {
    const client = newClient()
    await client.table<Todo>('todos').create({ title: 'x', done: true })
    const todos = counting(client.table<Todo>('todos'))
    const done = ref(false)
    const tick = ref(0)
    const { value: q } = inScope(() => useLiveQuery(todos, () => (tick.value, { done: done.value })))
    await until(() => !q.loading.value, 'the first rows')
    tick.value++ // a new, equal object
    await nextTick()
    expect(todos.calls).toEqual([{ done: false }])
    done.value = true
    await until(() => q.rows.value.length === 1, 'the new scope’s rows')
    expect(todos.calls).toEqual([{ done: false }, { done: true }])
    expect(todos.open).toBe(1)
  })
})

describe('provideLastword, useTable, useSyncStatus (vue)', () => {
  it('gives descendants the client, its table handles and its status, and cleans up on unmount', async () => {
    let handlers: TransportHandlers | null = null
    const transport: Transport = {
      open: (h) => void (handlers = h),
      close: () => void (handlers = null),
      request: () => Promise.reject(new Error('no server in this test')),
    }
    const client = newClient(transport)
    let listeners = 0
    const on = client.on.bind(client)
    ;(client as { on: SyncClient['on'] }).on = (event, listener) => {
      listeners++
      const off = on(event, listener)
      return () => {
        listeners--
        off()
      }
    }
    const seen: { status?: ReturnType<typeof useSyncStatus>; rows?: ReturnType<typeof useLiveQuery<Todo & { uid: string }>> } = {}
    const Child = defineComponent({
      setup() {
        seen.status = useSyncStatus()
        seen.rows = useLiveQuery(useTable<Todo>('todos'))
        return () => h('p', String(seen.rows!.rows.value.length))
      },
    })
    const Parent = defineComponent({
      setup() {
        provideLastword(client)
        return () => h(Child)
      },
    })
    const app = createApp(Parent)
    const root = document.createElement('div')
    app.mount(root)
    await client.ready()
    const status = seen.status!
    await until(() => status.pending.value === 0, 'the first count')
    expect(status.status.value).toBe('offline')
    expect(status.isOwner.value).toBe(true)
    expect(listeners).toBe(STATUS_EVENTS.length)

    client.connect()
    await until(() => status.status.value === 'connecting', 'connecting')
    handlers!.onConnect()
    client.disconnect()
    await until(() => status.status.value === 'offline', 'offline again')
    await client.table<Todo>('todos').create({ title: 'queued', done: false })
    await until(() => status.pending.value === 1 && root.textContent === '1', 'the pending count and the row')

    app.unmount()
    expect(listeners).toBe(0)
  })

  it('throws BAD_REQUEST with no provided client', () => {
    expect(() => inScope(() => useTable('todos'))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
  })
})
