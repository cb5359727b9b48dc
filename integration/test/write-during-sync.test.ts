/**
 * T08 (trap 5): a local write that lands between a push and its response, for the same uid, survives the
 * response and stays dirty until the server has it (I6). The interleavings are controlled: the test holds
 * the server's answer and writes before the client sees it — before the push is sent, after the server
 * applied it but before the client applied the answer, and after.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { versionOf } from '@lastword/core'
import type { SyncClient } from '@lastword/client'
import { newClient, readAll, serverRows, settle, startServer, whenOnline, type SpyTransport, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

type Moment = 'before the request' | 'after the server applied, before the answer' | 'after the answer'

describe.each<[Moment, 'update' | 'delete']>([
  ['before the request', 'update'],
  ['after the server applied, before the answer', 'update'],
  ['after the server applied, before the answer', 'delete'],
  ['after the answer', 'update'],
])('a write %s (%s)', (moment, op) => {
  it('survives the response and reaches the server', async () => {
    const { client, spy } = newClient(server)
    clients.push(client)
    const todos = client.table<Todo>('todos')
    todos.subscribe({}, () => undefined)
    await whenOnline(client)
    await client.sync()
    const uid = await todos.create({ title: 'first', done: false })
    const write = async (): Promise<void> => {
      if (op === 'update') await todos.update(uid, { title: 'during' })
      else await todos.delete(uid)
    }
    let interleaved = false
    const hook = (at: Moment) => async (request: { push: { uid: string }[] }) => {
      if (interleaved || at !== moment || !request.push.some((r) => r.uid === uid)) return
      interleaved = true
      await write()
    }
    ;(spy as SpyTransport).before = hook('before the request')
    ;(spy as SpyTransport).after = (_page, request) => hook('after the server applied, before the answer')(request)
    // Pushes go through lw:push (SPEC.md section 12), at once after the write: the same moments there.
    ;(spy as SpyTransport).beforePush = (records) => hook('before the request')({ push: records })
    ;(spy as SpyTransport).afterPush = (records) => hook('after the server applied, before the answer')({ push: records })
    await client.sync()
    if (moment === 'after the answer') {
      interleaved = true
      await write()
    }
    expect(interleaved).toBe(true)
    // The write made during the sync is still there, and still dirty unless a later push took it.
    const local = (await todos.record(uid))!
    if (op === 'update') expect(local.row).toMatchObject({ title: 'during' })
    else expect(local.deleted_at).not.toBeNull()
    await settle(client)
    expect(await client.pendingCount()).toBe(0)
    const meta = server.meta().find((m) => m.uid === uid)!
    expect(versionOf({ updated_at: meta.updated_at as never, deleted_at: meta.deleted_at as never })).toBe(versionOf((await todos.record(uid))!))
    expect(serverRows(server)).toEqual(op === 'update' ? [{ uid, title: 'during', done: false, priority: null }] : [])
    expect(await readAll(client)).toEqual(serverRows(server))
  })
})
