/**
 * S18 across nodes, on PostgreSQL: two server nodes on one database share the clientId bindings
 * (`lastword_clients`). Before the fix each node kept its own bindings, in memory, only while a socket
 * used the id. Checks, through the real wire: an id bound on one node is refused to another principal on
 * the other; two principals racing for one fresh id on the two nodes at once get it exactly once.
 */
import { describe, expect, it } from 'vitest'
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { connected, newClientId, refusal } from '../transport/harness.js'
import { startAttackServer } from './fixture.js'

const available = await requirePostgres()

describe.skipIf(!available)('S18 clientId impersonation across nodes (postgres)', () => {
  it('binds a clientId once for both nodes', async () => {
    const db = await pgHarness(8).open()
    const a = await startAttackServer(pgHarness(8), { db })
    const b = await startAttackServer(pgHarness(8), { db })
    try {
      const clientId = newClientId()
      await a.open('alice', clientId)
      expect((await refusal(b.socket('mallory', clientId)))?.code).toBe('FORBIDDEN')
      await b.open('alice', clientId)

      const raced = newClientId()
      const outcomes = await Promise.allSettled([connected(a.socket('alice', raced)), connected(b.socket('mallory', raced))])
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
    } finally {
      await a.close()
      await b.close()
      await db.close()
    }
  })
})
