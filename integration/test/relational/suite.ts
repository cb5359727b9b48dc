/**
 * Client transactions across tables end to end, on a real foreign key (SPEC.md section 12): a parent and
 * its children written offline — in one transaction, in either order, and as separate writes — land
 * whatever scopes the client holds (one of them on the child table only) and however the pushes and the
 * scopes' pulls interleave (seeded: `SEED=<n>` replays a run, `RUNS=<n>` runs more); an atomic unit with a
 * refused record writes nothing, and the app sees every record of it refused.
 */
import type { EditEvent } from '@lastword/client'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, online, relationalClient, seeded, startRelationalServer, type List, type RelationalServer, type Todo } from './fixture.js'

export function relationalSuite(dialect: 'sqlite' | 'postgres', runs: number, enabled = true): void {
  describe.skipIf(!enabled)(`client transactions across tables on ${dialect}, real foreign key`, () => {
    let server: RelationalServer | undefined
    const closers: Array<() => Promise<void>> = []
    afterEach(async () => {
      for (const close of closers.splice(0)) await close()
      await server?.close()
      server = undefined
    })

    const fixed = process.env['SEED']
    const seeds = fixed !== undefined ? [Number(fixed)] : Array.from({ length: Number(process.env['RUNS'] ?? runs) }, () => Math.floor(Math.random() * 2 ** 31))
    for (const seed of seeds) {
      it(`offline parent and children (one transaction, either order, and separate writes) all land; seed ${seed}`, async () => {
        console.log(`[relational ${dialect}] seed ${seed} (SEED=${seed} replays it)`)
        const random = seeded(seed)
        server = await startRelationalServer(dialect)
        // Two records per push on some runs: the transaction in one, the separate writes in order after it.
        const { client } = relationalClient(server, `writer-${seed}`, random, random() < 0.5 ? 2 : undefined)
        closers.push(() => client.close())
        await online(client)
        // Scopes: always one on the child table only; the others by the seed.
        const stops = [client.table<Todo>('todos').subscribe({ title: 'milk' }, () => undefined)]
        if (random() < 0.5) stops.push(client.table<List>('lists').subscribe({}, () => undefined))
        if (random() < 0.5) stops.push(client.table<Todo>('todos').subscribe({}, () => undefined))
        client.disconnect()
        const childFirst = random() < 0.5
        const list = await client.transaction(async (tx) => {
          const uid = '01900000-0000-7000-8000-0000000000a1'
          if (childFirst) await tx.table<Todo>('todos').create({ list_id: uid, title: 'milk' })
          await tx.table<List>('lists').create({ uid, name: 'groceries' })
          if (!childFirst) await tx.table<Todo>('todos').create({ list_id: uid, title: 'milk' })
          return uid
        })
        const second = await client.table<List>('lists').create({ name: 'hardware' })
        await client.table<Todo>('todos').create({ list_id: second, title: 'nails' })
        await client.table<Todo>('todos').create({ list_id: list, title: 'eggs' })
        expect(await client.pendingCount()).toBe(5)
        client.connect()
        const srv = server
        await eventually(async () => {
          expect(await client.pendingCount()).toBe(0)
          expect((await srv.rows('lists')).map((r) => r['uid']).sort()).toEqual([list, second].sort())
          expect((await srv.rows('todos')).map((r) => r['title']).sort()).toEqual(['eggs', 'milk', 'nails'])
        })
        expect([...(await client.rejected('lists')), ...(await client.rejected('todos'))]).toEqual([])
        for (const stop of stops) stop()
        // Another device gets them all.
        const { client: reader } = relationalClient(srv, `reader-${seed}`)
        closers.push(() => reader.close())
        const seen: string[][] = []
        reader.table<Todo>('todos').subscribe({}, (rows) => seen.push(rows.map((r) => r.title).sort()))
        await eventually(() => expect(seen.at(-1)).toEqual(['eggs', 'milk', 'nails']))
      })
    }

    it('U1: a transaction with a refused record writes nothing; the app sees each of its records refused, and retrying one retries the unit', async () => {
      server = await startRelationalServer(dialect, (r) => r.op === 'read' || r.after === null || r.after['title'] !== 'forbidden')
      const { client } = relationalClient(server, 'refused')
      closers.push(() => client.close())
      const edits: EditEvent[] = []
      client.on('edit', (event) => edits.push(event))
      await online(client)
      const { list, todo } = await client.transaction(async (tx) => {
        const l = await tx.table<List>('lists').create({ name: 'groceries' })
        const t = await tx.table<Todo>('todos').create({ list_id: l, title: 'forbidden' })
        return { list: l, todo: t }
      })
      await eventually(() => expect(edits).toHaveLength(2))
      const byUid = new Map(edits.map((e) => [e.uid, e]))
      expect(byUid.get(todo)).toMatchObject({ kind: 'rejected', table: 'todos', error: { code: 'FORBIDDEN' } })
      expect(byUid.get(list)).toMatchObject({ kind: 'rejected', table: 'lists', error: { code: 'UNIT_REFUSED', details: { table: 'todos', uid: todo } } })
      expect(await server.rows('lists')).toEqual([])
      expect(await client.pendingCount()).toBe(0)
      expect((await client.rejected()).map((r) => r.uid).sort()).toEqual([list, todo].sort())
      // Retrying the list retries its unit: both pushed again, both refused again.
      await client.retry('lists', list)
      await eventually(() => expect(edits).toHaveLength(4))
      expect(new Set(edits.slice(2).map((e) => e.uid))).toEqual(new Set([list, todo]))
      expect(await server.rows('todos')).toEqual([])
    })
  })
}
