/**
 * S16, tombstone tampering (docs/test-matrix.md): with the README's "own rows" authorize, another
 * tenant's deleted record must stay as protected as its live one. Before the fix `authorize` saw
 * `before: null` for a tombstone, so an attacker who knew the uid re-stamped the victim's tombstone and
 * re-created a live row of its own on the victim's deleted uid (after which the victim's own edit of
 * its uid was FORBIDDEN). Checks, through the real wire: re-create, re-delete (re-stamp) and a stale
 * re-delete by the attacker are each refused FORBIDDEN and write nothing; the victim can still re-create
 * its record.
 */
import type { WireRecord } from '@lastword/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DbHarness } from '../fixtures/db.js'
import { newUid, syncOk, type ClientSocket } from '../transport/harness.js'
import { deleted, startAttackServer, todo, type AttackServer } from './fixture.js'

/** `available: false` skips the suite (its harness's database is missing; the caller printed why). */
export function describeTombstoneTampering(name: string, harness: DbHarness, available = true): void {
  describe.skipIf(!available)(`S16 tombstone tampering (${name})`, () => {
    let server: AttackServer
    let victim: ClientSocket
    let attacker: ClientSocket

    beforeEach(async () => {
      server = await startAttackServer(harness)
      victim = await server.open('alice')
      attacker = await server.open('mallory')
    })
    afterEach(async () => {
      await server.close()
    })

    const push = async (socket: ClientSocket, ...records: WireRecord[]) =>
      (await syncOk(socket, { table: 'todos', push: records })).outcomes

    it("refuses every write to another tenant's tombstone, and writes nothing", async () => {
      const uid = newUid()
      const created = todo(uid, 'secret plan')
      const gone = deleted(created)
      expect(await push(victim, created, gone)).toEqual([
        { uid, status: 'applied' },
        { uid, status: 'applied' },
      ])
      const before = await server.db.snapshot()

      // Re-create on the victim's deleted uid (a newer live write: R5 would bring it back as the attacker's).
      const recreate = todo(uid, 'mine now', '00000000000000bb')
      // Re-stamp the tombstone (a newer delete: R4).
      const restamp = deleted(todo(uid, 'x', '00000000000000bb'), '00000000000000bb')
      for (const record of [recreate, restamp]) {
        const [outcome] = await push(attacker, record)
        expect(outcome).toMatchObject({ uid, status: 'rejected', error: { code: 'FORBIDDEN' } })
      }
      expect(await server.db.snapshot()).toBe(before)

      // The victim's own re-create still applies, and stays the victim's.
      const back = todo(uid, 'restored')
      expect(await push(victim, back)).toEqual([{ uid, status: 'applied' }])
      const param = server.db.dialect === 'sqlite' ? '?' : '$1'
      const rows = await server.db.raw(`SELECT tenant, title FROM todos WHERE uid = ${param}`, [uid])
      expect(rows).toEqual([{ tenant: 'alice', title: 'restored' }])
    })
  })
}
