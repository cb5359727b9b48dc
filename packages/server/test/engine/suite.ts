/**
 * The engine's behaviour suite, run on every dialect (CONTRIBUTING.md: one suite, every implementation):
 * `engine.test.ts` runs it on better-sqlite3, `engine.pg.test.ts` on PostgreSQL. Its tests live by theme in
 * suite-conflicts.ts, suite-pushes.ts, suite-pulls.ts, suite-bad-input.ts and suite-sql.ts, on the fixture
 * of suite-fixture.ts; setup, the server clock and services are here.
 *
 * Laws the suite holds, end to end through `sync` and the services:
 * - every conflict rule of core's table decides a push exactly as `ruleFor` says (R1–R9);
 * - a push is one transaction; a poison record is rejected and the rest apply (S10, I10);
 * - a push delivered 1–3 times, in any order, or resent after a lost ack, changes nothing more (T03, T04, I5);
 * - no older write resurrects a tombstone (T09, I4); concurrent pushers converge on the greatest stamp (T13, I2, I3);
 * - a client learns nothing outside its effective scope, not even uids (I8); move-outs evict; retention resyncs;
 * - SQL filtering agrees with core's `matches`;
 * - every bad input is a typed error and leaves the database unchanged (S02–S05).
 */
import { LastwordError, formatStamp } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import { NODE_A, Replica, T0, expectCode, live, request, stamp, todo } from './helpers.js'
import type { DbHarness } from '../fixtures/db.js'
import { A, useEngineFixture, type SuiteOptions } from './suite-fixture.js'
import { badInputSuite } from './suite-bad-input.js'
import { conflictSuite } from './suite-conflicts.js'
import { pullSuite } from './suite-pulls.js'
import { pushSuite } from './suite-pushes.js'
import { sqlSuite } from './suite-sql.js'

export { tenantAuthorize, type SuiteOptions } from './suite-fixture.js'

/** Runs the engine behaviour suite against one database harness. */
export function runEngineSuite(name: string, harness: DbHarness, options: SuiteOptions = { runScale: 1 }): void {
  describe(`engine on ${name}`, () => {
    const fx = useEngineFixture(harness, options)
    const { q, metaOf, push, todos } = fx

    describe('setup', () => {
      it('migrate() is idempotent and starts at rev 0', async () => {
        await fx.engine.migrate()
        await fx.engine.migrate()
        const state = await q('SELECT rev, horizon_rev FROM lastword_state')
        expect(state.map((r) => [Number(r['rev']), Number(r['horizon_rev'])])).toEqual([[0, 0]])
        expect(fx.engine.dialect).toBe(harness.dialect)
      })

      it('derives descriptors from the Drizzle tables, server columns read-only, with their widths (S17)', () => {
        expect(fx.engine.tables).toEqual([
          {
            name: 'todos',
            columns: [
              { name: 'tenant', type: 'text', nullable: false, writable: false },
              { name: 'title', type: 'text', nullable: false, writable: true },
              { name: 'done', type: 'boolean', nullable: false, writable: true },
              // PostgreSQL's integer is int4; SQLite's INTEGER holds any safe integer.
              { name: 'priority', type: 'integer', nullable: true, writable: true, ...(fx.t.dialect === 'postgres' ? { bits: 32 } : {}) },
              { name: 'score', type: 'real', nullable: true, writable: true },
              { name: 'due', type: 'timestamp', nullable: true, writable: true },
              { name: 'tags', type: 'json', nullable: true, writable: true },
            ],
            schemaVersion: 1,
          },
          {
            name: 'notes',
            columns: [
              { name: 'tenant', type: 'text', nullable: false, writable: true },
              { name: 'body', type: 'text', nullable: false, writable: true },
            ],
            schemaVersion: 1,
          },
        ])
      })

      it('round-trips every column kind through a push and a pull', async () => {
        const row = todo({ title: 'é😀\tx', done: true, priority: -7, score: 0.1, due: '2024-02-29T23:59:59.999Z', tags: { a: [1, 'b', null], n: { x: true } } })
        expect(await push(A, [live('all', stamp(1), row)])).toEqual([{ uid: 'all', status: 'applied' }])
        const replica = new Replica(fx.engine, A, 'todos')
        await replica.full()
        expect(replica.rows().get('all')).toEqual({ ...row, tenant: 'A' })
        expect(await todos().findUnique('all')).toEqual({ uid: 'all', ...row, tenant: 'A' })
      })
    })

    conflictSuite(fx)
    pushSuite(fx)
    pullSuite(fx)

    describe('the server clock', () => {
      it('accepted stamps advance it; services stamp after them', async () => {
        const ahead = formatStamp({ ms: fx.clock.ms + 30_000, counter: 7, node: NODE_A })
        await push(A, [live('hlc', ahead, todo())])
        expect(String(fx.engine.clock.last()) > ahead).toBe(true)
        await todos().update('hlc', { title: 'by the app' })
        const meta = await metaOf('hlc')
        expect(String(meta?.['updated_at']) > ahead).toBe(true)
      })
    })

    describe('services', () => {
      it('create, find, update and delete as system, tombstone-aware', async () => {
        const uid = await todos().create({ title: 'svc' })
        expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(await todos().findUnique(uid)).toMatchObject({ uid, title: 'svc', done: false, tenant: 'system' })
        const mine = await todos().create({ uid: 'mine', title: 'tenant given', tenant: 'A' })
        expect(await todos().findUnique(mine)).toMatchObject({ tenant: 'A' })
        await todos().update(uid, { done: true })
        expect(await todos().findMany({ done: true })).toMatchObject([{ uid, done: true }])
        await todos().delete(uid)
        await todos().delete(uid)
        expect(await todos().findUnique(uid)).toBeNull()
        expect((await metaOf(uid))?.['deleted_at']).not.toBeNull()
        await expectCode(todos().update(uid, { title: 'x' }), 'NOT_FOUND')
        await expectCode(todos().delete('nope'), 'NOT_FOUND')
        await expectCode(todos().create({ title: 7 }), 'INVALID_VALUE')
        await expectCode(todos().update(mine, JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>), 'FORBIDDEN_KEY')
        expect(fx.changes.flat().map((c) => c.uid)).toEqual([uid, mine, uid, uid])
        expect(() => fx.engine.service('nope')).toThrow(LastwordError)
      })
    })

    badInputSuite(fx)
    sqlSuite(fx)

    it('is closed by close()', async () => {
      await fx.engine.close()
      await expectCode(fx.engine.sync(A, request('todos')), 'CLOSED')
      expect(T0).toBeLessThan(fx.clock.ms)
    })
  })
}
