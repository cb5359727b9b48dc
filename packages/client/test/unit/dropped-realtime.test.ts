/** withDroppedRealtime: the realtime events the predicate picks never reach the client; the rest pass. */
import { describe, expect, it } from 'vitest'
import { withDroppedRealtime } from '../../src/testing/index.js'
import type { Transport, TransportHandlers } from '../../src/transport.js'
import { TODO_COLUMNS } from '../helpers.js'

describe('withDroppedRealtime', () => {
  it('drops picked events and passes the others and malformed ones through', () => {
    let inner: TransportHandlers | null = null
    const transport: Transport = { open: (h) => void (inner = h), close() {}, request: () => Promise.reject(new Error('unused')) }
    const received: unknown[] = []
    const handlers = { onChanges: (e: unknown) => received.push(e) } as unknown as TransportHandlers
    withDroppedRealtime(transport, (event) => event.rev === 2).open(handlers)
    const event = (rev: number) => ({ subscription: 's', table: 'todos', columns: TODO_COLUMNS, serverTime: 1, firstRev: rev, rev, rows: [], tombstones: [], evict: [] })
    const h = inner as unknown as TransportHandlers
    h.onChanges(event(1))
    h.onChanges(event(2))
    h.onChanges('garbage')
    expect(received).toEqual([event(1), 'garbage'])
  })
})
