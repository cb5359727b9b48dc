/**
 * S18, clientId impersonation (docs/test-matrix.md, attack V7): a clientId is bound to the principal
 * that first presented it, in the database (so across nodes and restarts), until it has gone unused for
 * `limits.clientIdBindingMs`. Before the fix the binding lived in one process and only while a socket
 * used the id: an attacker who read a victim's clientId (then the node id of the victim's stamps) could
 * connect with it whenever the victim was offline, after which the victim's own client was refused
 * FORBIDDEN for as long as the attacker held the socket. Checks, through the real wire on better-sqlite3:
 * another principal presenting a bound clientId is refused FORBIDDEN while the owner is offline, and the
 * owner still connects; the binding survives a server restart on the same database; expiry frees it.
 * (That a stamp's node id reveals no clientId is the client's half: packages/client/test/client-id.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest'
import { sqliteHarness, type TestDb } from '../fixtures/db.js'
import { disconnected, newClientId, refusal } from '../transport/harness.js'
import { startAttackServer, type AttackServer } from './fixture.js'

const DAY = 24 * 3600_000

describe('S18 clientId impersonation', () => {
  const servers: AttackServer[] = []
  let db: TestDb | undefined
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close()
    await db?.close()
    db = undefined
  })
  const start = async (options: Parameters<typeof startAttackServer>[1] = {}) => {
    const server = await startAttackServer(sqliteHarness, options)
    servers.push(server)
    return server
  }

  it('refuses another principal a bound clientId while its owner is offline; the owner is never locked out', async () => {
    const server = await start()
    const clientId = newClientId()
    const victim = await server.open('alice', clientId)
    victim.disconnect()
    await disconnected(victim)
    expect((await refusal(server.socket('mallory', clientId)))?.code).toBe('FORBIDDEN')
    // The owner connects again with its id, as often as it likes.
    await server.open('alice', clientId)
    expect((await refusal(server.socket('mallory', clientId)))?.code).toBe('FORBIDDEN')
    await server.open('alice', clientId)
  })

  it('keeps the binding across a server restart on the same database', async () => {
    db = await sqliteHarness.open()
    const clientId = newClientId()
    const first = await start({ db })
    await first.open('alice', clientId)
    await first.close()
    servers.splice(servers.indexOf(first), 1)
    const second = await start({ db })
    expect((await refusal(second.socket('mallory', clientId)))?.code).toBe('FORBIDDEN')
    await second.open('alice', clientId)
  })

  it('frees a binding unused for clientIdBindingMs', async () => {
    let now = Date.now()
    const server = await start({ now: () => now, limits: { clientIdBindingMs: DAY } })
    const clientId = newClientId()
    const victim = await server.open('alice', clientId)
    victim.disconnect()
    await disconnected(victim)
    now += DAY - 1
    expect((await refusal(server.socket('mallory', clientId)))?.code).toBe('FORBIDDEN')
    now += 2
    const taken = await server.open('mallory', clientId)
    expect(taken.connected).toBe(true)
  })
})
