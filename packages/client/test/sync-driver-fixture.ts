/** The sync-driver tests' client on a scripted server (sync-driver*.test.ts): made, connected, and closed after each test. */
import { createSyncClient, type SyncClient, type SyncClientOptions, type SyncReport } from '../src/index.js'
import { newIndexedDB, todosTable, type ScriptedServer } from './helpers.js'

const clients: SyncClient[] = []

/** Closes `client` with the others after the test. */
export function track(client: SyncClient): void {
  clients.push(client)
}

/** Closes the clients a test made: call from each test file's `afterEach`. */
export function closeClients(): Promise<unknown> {
  return Promise.all(clients.splice(0).map((c) => c.close()))
}

let counter = 0
export function setup(server: ScriptedServer, options: Partial<SyncClientOptions> = {}): SyncClient {
  const client = createSyncClient({
    name: `driver-${counter++}`,
    tables: [todosTable],
    transport: server.transport,
    indexedDB: newIndexedDB(),
    retry: { baseMs: 5, maxMs: 20 },
    tabs: false,
    ...options,
  })
  clients.push(client)
  return client
}

/** Connects and resolves once the client has taken the server's hello (status leaves `connecting`). */
export async function online(client: SyncClient, server: ScriptedServer): Promise<void> {
  await client.ready()
  const reached = new Promise<void>((resolve) => {
    const off = client.on('status', (status) => {
      if (status === 'syncing' || status === 'online') {
        off()
        resolve()
      }
    })
  })
  server.connect()
  await reached
}

export function reports(client: SyncClient): SyncReport[] {
  const out: SyncReport[] = []
  client.on('sync', (r) => out.push(r))
  return out
}

export const T0 = Date.now()
