/** The devtools panel renders the client's inspect() snapshot and follows the client's events. */
import type { SyncClient } from '@lastword/client'
import { afterEach, describe, expect, it } from 'vitest'
import { LastwordProvider } from '../src/index.js'
import { LastwordDevtools } from '../src/devtools/index.js'
import { inAct, mount, newClient, until, type Todo } from './setup.js'

const clients: SyncClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
})

describe('<LastwordDevtools>', () => {
  it('shows the status, the scopes and each pending record with why it waits, refreshed on events', async () => {
    const client = newClient()
    clients.push(client)
    const todos = client.table<Todo>('todos')
    const view = mount()
    await view.render(
      <LastwordProvider client={client}>
        <LastwordDevtools title="Laptop" />
      </LastwordProvider>,
    )
    const q = (selector: string) => view.container.querySelector(selector)
    await until(() => q('[data-testid="lastword-devtools-status"]') !== null, 'the first snapshot')
    expect(q('[data-testid="lastword-devtools-status"]')!.getAttribute('data-status')).toBe('offline')
    expect(view.container.textContent).toContain('Laptop')
    expect(view.container.textContent).toContain('Nothing to push.')

    const stop = todos.subscribe({ done: false }, () => undefined)
    await inAct(() => todos.create({ title: 'offline', done: false }))
    await until(() => q('[data-testid="lastword-devtools-pending"]')?.getAttribute('data-count') === '1', 'the pending record')
    const record = q('[data-testid="lastword-devtools-pending-record"]')!
    expect(record.getAttribute('data-state')).toBe('waiting-for-connection')
    expect(record.textContent).toContain('no connection')
    expect(record.textContent).toContain('new')
    const scope = q('[data-testid="lastword-devtools-scope"]')!
    expect(scope.textContent).toContain('{"done":false}')
    expect(scope.textContent).toContain('1 holder')
    stop()
    await view.unmount()
  })

  it('stops listening to the client on unmount', async () => {
    const client = newClient()
    clients.push(client)
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
    const view = mount()
    await view.render(<LastwordDevtools client={client} />)
    expect(listeners).toBeGreaterThan(0)
    await view.unmount()
    expect(listeners).toBe(0)
  })
})
