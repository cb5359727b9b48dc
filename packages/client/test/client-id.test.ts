/**
 * S18 (docs/test-matrix.md), the client's half: a stamp's node id reveals no clientId. Stamps travel to
 * other tenants (pages, realtime, superseded winners); before the fix a client's node id was also its
 * handshake clientId, so anyone who saw one of its stamps could connect as it and, while holding that
 * socket, lock it out (the server binds a clientId to the principal that first used it). Checks: the
 * handshake's clientId is `client.clientId`, and neither equals the node id of the client's stamps.
 */
import { LastwordError, parseStamp, type Handshake } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createInstanceIds } from '../src/ids.js'
import { createSyncClient, type SyncClient, type Transport } from '../src/index.js'
import { eventually, todosTable, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
})

describe('clientId and node id (S18)', () => {
  it("a stamp's node id is not the handshake clientId", async () => {
    const handshakes: Handshake[] = []
    const transport: Transport = {
      open(handlers) {
        void handlers.handshake().then((h) => handshakes.push(h))
      },
      close() {},
      request: () => Promise.reject(new Error('offline')),
    }
    const client = createSyncClient({ name: `client-id-${Math.random()}`, tables: [todosTable], transport, store: 'memory' })
    clients.push(client)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'stamped', done: false })
    const record = await todos.record(uid)
    const node = parseStamp(record!.updated_at).node
    await eventually(() => expect(handshakes.length).toBeGreaterThan(0))
    expect(handshakes[0]?.clientId).toBe(client.clientId)
    expect(node).not.toBe(client.clientId)
    expect(parseStamp(record!.created_at).node).toBe(node)
  })
})

describe('a clientId refused as another principal’s', () => {
  it('is replaced by a fresh one for the next handshake; other refusals keep it', () => {
    const ids = createInstanceIds()
    const first = ids.handshakeId()
    expect(first).toBe(ids.clientId)
    ids.noteRefusal(new LastwordError('FORBIDDEN', 'origin', undefined))
    ids.noteRefusal(new LastwordError('UNAUTHENTICATED', 'expired', { clientId: first }))
    expect(ids.handshakeId()).toBe(first)
    ids.noteRefusal(new LastwordError('FORBIDDEN', 'bound', { clientId: first }))
    expect(ids.handshakeId()).not.toBe(first)
    expect(ids.handshakeId()).not.toBe(ids.node)
    expect(ids.clientId).toBe(first)
  })
})
