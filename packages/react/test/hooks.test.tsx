/** The React hooks against a real client on a memory store: loading → rows, live updates, errors, cleanup. */
import type { ReadRow, SyncClient, TableHandle, Where } from '@lastword/client'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { LastwordProvider, STATUS_EVENTS, useLiveQuery, useSyncStatus, useTable, type LiveQueryResult, type LiveSource, type SyncStatus } from '../src/index.js'
import { inAct, manualTransport, mount, newClient, settle, until, type Todo } from './setup.js'

const clients: SyncClient[] = []
const client = (transport?: Parameters<typeof newClient>[0]): SyncClient => {
  const c = newClient(transport)
  clients.push(c)
  return c
}
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
})

/** A table handle that counts its open subscriptions and the `where` of each subscribe call. */
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

function Probe<R>({ table, where, seen }: { table: LiveSource<R, any, any> | null; where: Where; seen: LiveQueryResult<R>[] }) {
  const result = useLiveQuery(table, where, { orderBy: 'title' })
  if (seen.at(-1) !== result) seen.push(result)
  return null
}

describe('useLiveQuery', () => {
  it('types the rows, the filter and the options from a typed table handle (compile-time)', () => {
    const todos = client().table<Todo>('todos')
    // Never called: a hook needs a component; the compiler checks the calls.
    const calls = () => {
      expectTypeOf(useLiveQuery(todos, { done: false }, { orderBy: 'title' }).rows).toEqualTypeOf<ReadRow<Todo>[]>()
      // @ts-expect-error a misspelt column
      useLiveQuery(todos, { titel: 'x' })
      // @ts-expect-error a value of the wrong type
      useLiveQuery(todos, { done: 'yes' })
      // @ts-expect-error an unknown column to sort on
      useLiveQuery(todos, {}, { orderBy: 'nope' })
    }
    expect(typeof calls).toBe('function')
  })

  it('is loading, then has the rows, then follows a local write', async () => {
    const c = client()
    const todos = c.table<Todo>('todos')
    await todos.create({ title: 'b', done: false })
    const seen: LiveQueryResult<Todo & { uid: string }>[] = []
    const view = mount()
    await view.render(<Probe table={todos} where={{ done: false }} seen={seen} />)
    expect(seen[0]).toMatchObject({ loading: true, rows: [], error: null })
    await until(() => seen.at(-1)!.loading === false, 'the first rows')
    expect(seen.at(-1)!.rows.map((r) => r.title)).toEqual(['b'])

    await inAct(async () => {
      await todos.create({ title: 'a', done: false })
      await todos.create({ title: 'c', done: true })
    })
    await until(() => seen.at(-1)!.rows.length === 2, 'the live update')
    expect(seen.at(-1)!.rows.map((r) => r.title)).toEqual(['a', 'b'])
    await view.unmount()
  })

  it('reports a filter the client refuses as its error state, with no rows', async () => {
    const c = client()
    const seen: LiveQueryResult<Todo>[] = []
    const view = mount()
    await view.render(<Probe table={c.table<Todo>('todos')} where={{ titel: 'x' }} seen={seen} />)
    await settle()
    const last = seen.at(-1)!
    expect(last.loading).toBe(false)
    expect(last.rows).toEqual([])
    expect(last.error?.code).toBe('UNKNOWN_COLUMN')
    // The client still holds no scope for it.
    expect((await c.store.transaction('readonly', (tx) => tx.listScopes())).length).toBe(0)
    await view.unmount()
  })

  it('unsubscribes on unmount', async () => {
    const c = client()
    const todos = counting(c.table<Todo>('todos'))
    const view = mount()
    await view.render(<Probe table={todos} where={{}} seen={[]} />)
    await settle()
    expect(todos.open).toBe(1)
    await view.unmount()
    expect(todos.open).toBe(0)
  })

  it('re-subscribes when the arguments change by value, not when a render rebuilds equal ones', async () => {
    const c = client()
    const todos = counting(c.table<Todo>('todos'))
    await c.table<Todo>('todos').create({ title: 'x', done: true })
    const seen: LiveQueryResult<Todo>[] = []
    const view = mount()
    await view.render(<Probe table={todos} where={{ done: false }} seen={seen} />)
    await settle()
    await view.render(<Probe table={todos} where={{ done: false }} seen={seen} />) // a new, equal literal
    await settle()
    expect(todos.calls).toEqual([{ done: false }])
    expect(seen.at(-1)!.rows).toEqual([])

    await view.render(<Probe table={todos} where={{ done: true }} seen={seen} />)
    await until(() => seen.at(-1)!.rows.length === 1, 'the new scope’s rows')
    expect(todos.calls).toEqual([{ done: false }, { done: true }])
    expect(todos.open).toBe(1) // the old subscription was stopped
    await view.unmount()
    expect(todos.open).toBe(0)
  })

  it('subscribes to nothing for a null table', async () => {
    const seen: LiveQueryResult<Todo>[] = []
    const view = mount()
    await view.render(<Probe table={null} where={{}} seen={seen} />)
    expect(seen).toEqual([{ rows: [], loading: false, error: null }])
    await view.unmount()
  })
})

describe('useTable', () => {
  it('gives the provider client’s handle, the same one on every render', async () => {
    const c = client()
    const handles: TableHandle<Todo>[] = []
    function Uses() {
      handles.push(useTable<Todo>('todos'))
      return null
    }
    const view = mount()
    await view.render(<LastwordProvider client={c}><Uses /></LastwordProvider>)
    await view.render(<LastwordProvider client={c}><Uses /></LastwordProvider>)
    expect(handles.length).toBe(2)
    expect(handles[0]).toBe(handles[1])
    expect(handles[0]).toBe(c.table('todos'))
    await view.unmount()
  })

  it('throws BAD_REQUEST outside a provider', async () => {
    function Uses() {
      useTable('todos')
      return null
    }
    const errors: unknown[] = []
    const view = mount()
    const original = console.error
    console.error = () => undefined // React logs the thrown render error
    try {
      await view.render(<Uses />).catch((error: unknown) => errors.push(error))
    } finally {
      console.error = original
    }
    expect(errors).toMatchObject([{ code: 'BAD_REQUEST' }])
  })
})

describe('useSyncStatus', () => {
  it('follows the client’s status and pending events', async () => {
    const transport = manualTransport()
    const c = client(transport)
    const seen: SyncStatus[] = []
    function Status() {
      const status = useSyncStatus()
      if (seen.at(-1) !== status) seen.push(status)
      return null
    }
    const view = mount()
    await view.render(<LastwordProvider client={c}><Status /></LastwordProvider>)
    await c.ready()
    await until(() => seen.at(-1)!.pending === 0, 'the first count')
    expect(seen.at(-1)).toMatchObject({ status: 'offline', connected: false, pending: 0, lastSync: null, error: null, isOwner: true })

    await inAct(() => c.connect())
    await until(() => seen.at(-1)!.status === 'connecting', 'connecting')
    await inAct(() => {
      transport.handlers!.onConnect()
      c.disconnect()
    })
    await until(() => seen.at(-1)!.status === 'offline', 'offline again')

    await inAct(() => c.table<Todo>('todos').create({ title: 'queued', done: false }))
    await until(() => seen.at(-1)!.pending === 1, 'the pending count')
    const renders = seen.length
    await settle()
    expect(seen.length).toBe(renders) // nothing changed: the same snapshot, no render
    await view.unmount()
  })

  it('stops listening to the client once no component shows the status', async () => {
    const c = client(manualTransport())
    let listeners = 0
    const on = c.on.bind(c)
    ;(c as { on: SyncClient['on'] }).on = (event, listener) => {
      listeners++
      const off = on(event, listener)
      return () => {
        listeners--
        off()
      }
    }
    function Status() {
      useSyncStatus(c)
      return null
    }
    const view = mount()
    await view.render(<Status />)
    expect(listeners).toBe(STATUS_EVENTS.length)
    await view.unmount()
    expect(listeners).toBe(0)
  })
})
