/**
 * The fixture of the scope-cost attacks (row S13, docs/test-matrix.md): a real sync server on loopback
 * over either dialect, with tenant authentication (`token: 't:<tenant>'`) and "own rows only"
 * authorization, and the costliest filter the default limits accept (`in` lists of 1,000 values of
 * 1 KB, all sharing a long prefix, so that every comparison of two of them reads the whole prefix).
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PROTOCOL_VERSION } from '@lastword/core'
import { io as ioClient } from 'socket.io-client'
import type { EngineHooks } from '../../src/engine/index.js'
import { createSyncServer, type Authorize, type Principal, type SyncServer } from '../../src/index.js'
import type { TestDb } from '../fixtures/db.js'
import { expect } from 'vitest'
import { connected, newClientId, syncRequest, type ClientSocket } from '../transport/harness.js'

/** `in` values the default limits accept: `maxInValues` (1,000) strings of `maxValueLength` (1,024). */
export function costlyValues(count = 1_000, tag = 'v'): string[] {
  const prefix = 'x'.repeat(1_000)
  return Array.from({ length: count }, (_, i) => `${prefix}${tag}${String(i).padStart(23 - tag.length, '0')}`)
}

export interface ScopeCostServer {
  sync: SyncServer
  url: string
  /** A connected raw socket.io client of a tenant. */
  connect(tenant: string): Promise<ClientSocket>
  close(): Promise<void>
}

export interface ScopeCostOptions {
  /** Makes `authorize` answer after a macrotask, as an app reading its database would. */
  asyncAuthorize?: boolean
  hooks?: EngineHooks
}

export async function startScopeCostServer(t: TestDb, options: ScopeCostOptions = {}): Promise<ScopeCostServer> {
  const tenantOf = (p: Principal | null) => (p?.['tenant'] as string | undefined) ?? 'system'
  const decide: Authorize = (request) => {
    if (request.op === 'read') return { tenant: tenantOf(request.principal) }
    return [request.before, request.after].every((row) => row === null || row['tenant'] === tenantOf(request.principal))
  }
  const authorize: Authorize = options.asyncAuthorize === true ? (request) => new Promise((resolve) => setImmediate(() => resolve(decide(request)))) : decide
  const sync = createSyncServer({
    db: t.db,
    tables: {
      todos: { table: t.todos, serverColumns: { tenant: tenantOf } },
      notes: { table: t.notes, serverColumns: { tenant: tenantOf } },
    },
    authenticate: (hs) => (typeof hs.token === 'string' && hs.token.startsWith('t:') ? { id: hs.token.slice(2), tenant: hs.token.slice(2) } : null),
    authorize,
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
  })
  await sync.migrate()
  const http: HttpServer = createServer()
  sync.attach(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const sockets: ClientSocket[] = []
  return {
    sync,
    url,
    async connect(tenant) {
      const socket: ClientSocket = ioClient(url, {
        auth: { protocolVersion: PROTOCOL_VERSION, clientId: newClientId(), token: `t:${tenant}` },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      })
      sockets.push(socket)
      await connected(socket)
      return socket
    },
    async close() {
      for (const socket of sockets) socket.disconnect()
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

/**
 * Attack 3 of row S13, the same on both dialects: an attacker sends several syncs of one table whose
 * effective scopes overlap (its own tenant, plus a costly `in` list), so each must be checked against
 * the lock's holder on acquire and again on every grant. The first is held inside the lock (through
 * the lock's observer seam) so the others queue behind it for certain. Meanwhile another tenant's
 * trivial sync must be answered within `livenessMs`; afterwards every attacker sync is answered too.
 */
export async function costlyOverlapAttack(t: TestDb, options: { attackers?: number; livenessMs?: number } = {}): Promise<void> {
  const attackers = options.attackers ?? 4
  const livenessMs = options.livenessMs ?? 5_000
  let releaseHold: () => void = () => undefined
  const hold = new Promise<void>((resolve) => {
    releaseHold = resolve
  })
  let holding: () => void = () => undefined
  const firstHeld = new Promise<void>((resolve) => {
    holding = resolve
  })
  let held = false
  const waits: number[] = []
  const server = await startScopeCostServer(t, {
    asyncAuthorize: true,
    hooks: {
      onScopeLock: (event) => {
        const costly = event.scope.some((c) => c.op === 'in')
        if (costly && event.type === 'wait') waits.push(event.id)
        if (costly && event.type === 'acquire' && !held) {
          held = true
          holding()
          return hold
        }
        return undefined
      },
    },
  })
  try {
    const attacker = await server.connect('mallory')
    const bystander = await server.connect('bob')
    const where = { title: { in: costlyValues() } }
    // Settled, so that a failing run closes the sockets without unhandled rejections.
    const attacks = Array.from({ length: attackers }, () =>
      syncRequest(attacker, { table: 'todos', where, checkpoint: null, push: [] }, 120_000).catch((error: unknown) => ({ ok: false as const, error })),
    )
    await firstHeld
    const answer = await syncRequest(bystander, { table: 'todos', where: {}, checkpoint: null, push: [] }, livenessMs).catch((error: unknown) => {
      throw new Error(`the bystander's trivial sync was not answered within ${livenessMs} ms while the attack ran (${String(error)})`)
    })
    expect(answer.ok).toBe(true)
    releaseHold()
    const replies = await Promise.all(attacks)
    expect(replies.map((r) => r.ok)).toEqual(replies.map(() => true))
    // The attack did what it meant to: the other attacker syncs queued behind the held one.
    expect(waits.length).toBeGreaterThan(0)
  } finally {
    releaseHold()
    await server.close()
  }
}
