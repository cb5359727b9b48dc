/**
 * Attack S19 (docs/test-matrix.md) on PostgreSQL: `close()` with syncs in flight, then the app ends its
 * pool, as a shutdown does. `close()` used to resolve at once, so the pool was ended under the running
 * syncs (INTERNAL errors). Checks on loopback that new requests get `CLOSED`, that the syncs in flight
 * are answered `applied` before `close()` resolves, and that ending the pool afterwards breaks nothing.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PROTOCOL_VERSION, type Reply, type SyncPageWire } from '@lastword/core'
import { io as ioClient, type Socket } from 'socket.io-client'
import { describe, expect, it } from 'vitest'
import { createSyncServer } from '../../src/index.js'
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { newClientId, record, waitFor } from '../transport/harness.js'

const available = await requirePostgres()

describe.skipIf(!available)('S19 on postgres: close() drains before the pool ends', () => {
  it('answers the syncs in flight, refuses new ones with CLOSED, and leaves the pool free to end', async () => {
    const t = await pgHarness(4).open()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let gating = false
    let waiting = 0
    const errors: string[] = []
    const sync = createSyncServer({
      db: t.db,
      tables: { todos: { table: t.todos, serverColumns: { tenant: () => 'T' } } },
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: (_, msg) => void errors.push(String(msg)) },
      authorize: async (request) => {
        // Every sync asks for its read scope first: hold them there until close() has started.
        if (gating && request.op === 'read') {
          waiting++
          await gate
        }
        return true
      },
    })
    await sync.migrate()
    const http = createServer()
    sync.attach(http)
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = ioClient(url, { auth: { protocolVersion: PROTOCOL_VERSION, clientId: newClientId() }, transports: ['websocket'], reconnection: false, forceNew: true })
        socket.once('lw:hello', () => resolve(socket))
        socket.once('connect_error', reject)
      })
    const send = (socket: Socket, push: unknown[]): Promise<Reply<SyncPageWire>> =>
      socket.timeout(5_000).emitWithAck('lw:sync', { table: 'todos', where: {}, checkpoint: null, push })
    const row = { title: 'a todo', done: false, priority: null, score: null, due: null, tags: null }
    try {
      const writers = await Promise.all(Array.from({ length: 3 }, open))
      const late = await open()
      gating = true
      const replies = writers.map((socket) => send(socket, [record(row)]))
      await waitFor(() => waiting === 3, 5_000, 'three syncs in flight')

      const closing = sync.close()
      const refused = await send(late, [])
      expect(refused.ok ? 'ok' : refused.error.code).toBe('CLOSED')
      release()
      await closing
      expect(await t.raw('SELECT uid FROM todos')).toHaveLength(3)
      // The app's shutdown: the pool ends once close() resolved.
      await t.close()
      for (const reply of await Promise.all(replies)) {
        expect(reply.ok ? reply.data.outcomes?.map((o) => o.status) : reply.error.code).toEqual(['applied'])
      }
      expect(errors).toEqual([])
      for (const socket of [...writers, late]) socket.disconnect()
    } finally {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })
})
