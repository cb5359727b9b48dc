/**
 * The client's handshake: `auth.token` (a string or an async function, asked on every connection) reaches
 * the server's `authenticate`; a refusal is reported as a typed error and the client keeps retrying with
 * backoff, so a token that becomes valid later gets through.
 */
import { afterEach, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { eventually, newClient, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer | undefined
const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
})

it('sends the token from an async function and recovers from a refusal', async () => {
  const seen: Array<string | undefined> = []
  server = await startServer({
    authenticate: async ({ token, clientId }) => {
      seen.push(token)
      expect(clientId).toMatch(/^[0-9a-f]{16}$/)
      return token === 'good' ? { id: 'user-1' } : null
    },
  })
  let token = 'bad'
  const { client } = newClient(server, { auth: { token: async () => token } })
  clients.push(client)
  const errors: string[] = []
  client.on('error', (e) => errors.push(e.code))
  await eventually(() => expect(errors).toContain('UNAUTHENTICATED'))
  // Refused, it is not online; between retries it is offline, during one it is connecting again.
  expect(['offline', 'connecting']).toContain(client.status)
  token = 'good'
  await whenOnline(client)
  expect(seen).toContain('good')
  const uid = await client.table<Todo>('todos').create({ title: 'signed in', done: false })
  client.table<Todo>('todos').subscribe({}, () => undefined)
  await eventually(async () => expect(await client.pendingCount()).toBe(0))
  expect(server.rows().map((r) => r.uid)).toEqual([uid])
  expect(client.clientId).toMatch(/^[0-9a-f]{16}$/)
})

it('presents a fresh clientId when the server says its id is bound to another principal (S18)', async () => {
  server = await startServer({ authenticate: async ({ token }) => (token === undefined ? null : { id: token }) })
  let token = 'alice'
  const { client } = newClient(server, { auth: { token: async () => token } })
  clients.push(client)
  await whenOnline(client)
  // The app switches accounts on the same client: its id is alice's for the binding period.
  const errors: string[] = []
  client.on('error', (e) => errors.push(e.code))
  token = 'bob'
  client.disconnect()
  client.connect()
  await eventually(() => expect(errors).toContain('FORBIDDEN'))
  await whenOnline(client)
})
