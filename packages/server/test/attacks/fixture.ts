/**
 * The attack suite's server: a real sync server on loopback over either dialect (the engine suite's
 * database fixtures), with a token → principal `authenticate` (the token is the principal's id) and the
 * README's "own rows" `authorize` (a principal reads and writes the todos whose server-owned `tenant` is
 * its id). Attacks drive it through raw socket.io clients (the transport harness's helpers).
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PROTOCOL_VERSION, type WireRecord } from '@lastword/core'
import { io as ioClient } from 'socket.io-client'
import { createSyncServer, type Authorize, type Limits, type SyncServer } from '../../src/index.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import { connected, newClientId, stamp, type ClientSocket } from '../transport/harness.js'

/** The README's "own rows" pattern: one filter for reading and writing, so a write must match it before and after. */
export const ownRows: Authorize = ({ principal }) => ({ tenant: principal.id })

export interface AttackServer {
  db: TestDb
  sync: SyncServer
  http: HttpServer
  /** Connects as `principal` (its token), with a fresh clientId unless one is given; resolves once `lw:hello` arrived. */
  open(principal: string, clientId?: string): Promise<ClientSocket>
  /** A raw socket as `principal`, not yet awaited (for refusals). */
  socket(principal: string, clientId?: string): ClientSocket
  close(): Promise<void>
}

export interface AttackOptions {
  authorize?: Authorize
  limits?: Partial<Limits>
  now?: () => number
  /** An already open database (a restart keeps it); closed by the caller then. */
  db?: TestDb
}

/** Starts a sync server on a fresh database of `harness`'s dialect. */
export async function startAttackServer(harness: DbHarness, options: AttackOptions = {}): Promise<AttackServer> {
  const db = options.db ?? (await harness.open())
  const sync = createSyncServer({
    db: db.db,
    tables: { todos: { table: db.todos, serverColumns: { tenant: (p) => p?.id } } },
    authenticate: ({ token }) => (typeof token === 'string' && token.length > 0 ? { id: token } : null),
    authorize: options.authorize ?? ownRows,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  await sync.migrate()
  const http = createServer()
  sync.attach(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const sockets: ClientSocket[] = []
  const socket = (principal: string, clientId = newClientId()): ClientSocket => {
    const s: ClientSocket = ioClient(url, {
      auth: { protocolVersion: PROTOCOL_VERSION, clientId, token: principal },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    })
    sockets.push(s)
    return s
  }
  return {
    db,
    sync,
    http,
    socket,
    async open(principal, clientId) {
      const s = socket(principal, clientId)
      await connected(s)
      return s
    },
    async close() {
      for (const s of sockets) s.disconnect()
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      if (options.db === undefined) await db.close()
    },
  }
}

/** A live todo as a client pushes it (`tenant` is the server's). */
export function todo(uid: string, title: string, node = '00000000000000aa'): WireRecord {
  const s = stamp(node)
  return { uid, created_at: s, updated_at: s, deleted_at: null, row: { title, done: false } }
}

/** The same record deleted with a newer stamp. */
export function deleted(previous: WireRecord, node = '00000000000000aa'): WireRecord {
  return { ...previous, deleted_at: stamp(node), row: null }
}
