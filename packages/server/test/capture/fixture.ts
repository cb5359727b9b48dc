/**
 * The capture suites' fixture (ARCHITECTURE.md, "Capture"): a fresh database of one dialect, an engine
 * over it whose `todos` are captured (row or field merge) and whose `notes` are not (`capture: false`),
 * plain Drizzle writes on the app's own connection, and reads of lastword's tables on another.
 */
import { formatStamp, type Stamp, type WireRecord } from '@lastword/core'
import { eq } from 'drizzle-orm'
import { afterEach, beforeEach } from 'vitest'
import { createEngine, type Engine, type EngineHooks } from '../../src/engine/index.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import { Replica, principal } from '../engine/helpers.js'

export const ALICE = principal('alice', 'A')
/** The node of the pushes the tests make as a device. */
export const DEVICE = 'dddddddddddddddd'

/** A device's stamp at `ms` (wall time). */
export function deviceStamp(ms: number, counter = 0): Stamp {
  return formatStamp({ ms, counter, node: DEVICE })
}

/** One record of `lastword_meta`, as stored. */
export interface StoredMeta {
  created_at: string
  updated_at: string
  deleted_at: string | null
  rev: number
  image: Record<string, unknown> | null
  fields: Record<string, string> | null
}

/** Dialect SQL the suites need and core cannot give (the app's DDL and bulk fills are the app's business). */
export interface CaptureDialectKit {
  /** Fills `todos` with `n` rows `b00001…` of tenant A, in one statement, on a connection of its own. */
  fill(t: TestDb, n: number): Promise<void>
  /** The DDL of `lists` and `items` (items.list_uid references lists ON DELETE CASCADE), with foreign keys on for every connection the test uses. */
  cascadeDdl(t: TestDb): Promise<void>
}

export interface CaptureFixture {
  t: TestDb
  engine: Engine
  /** Opens the engine (`todos` in `merge` mode, `notes` not captured) and migrates it. */
  open(options?: { merge?: 'row' | 'field'; hooks?: EngineHooks; migrate?: boolean; extra?: Record<string, unknown> }): Promise<Engine>
  /** The app's own writes through Drizzle on the engine's connection (never through lastword). */
  drizzle: {
    insert(table: 'todos' | 'notes', row: Record<string, unknown>): Promise<void>
    update(table: 'todos' | 'notes', uid: string, patch: Record<string, unknown>): Promise<void>
    delete(table: 'todos' | 'notes', uid: string): Promise<void>
  }
  meta(table: string, uid: string): Promise<StoredMeta | undefined>
  /** Entries of the change log for a table (rev order). */
  changes(table: string): Promise<Array<{ rev: number; uid: string; before: Record<string, unknown> | null }>>
  replica(table?: string): Replica
  push(table: string, records: WireRecord[]): ReturnType<Engine['sync']>
}

/** The fixture over `harness`, fresh for each test. */
export function captureFixture(harness: DbHarness): CaptureFixture {
  const fx = {} as CaptureFixture
  const engines: Engine[] = []
  beforeEach(async () => {
    fx.t = await harness.open()
  })
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close()
    await fx.t.close()
  })
  fx.open = async (options = {}) => {
    const { t } = fx
    const engine = createEngine({
      db: t.db,
      tables: { todos: { table: t.todos, merge: options.merge ?? 'row' }, notes: { table: t.notes, capture: false }, ...(options.extra ?? {}) } as never,
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    })
    engines.push(engine)
    fx.engine = engine
    if (options.migrate !== false) await engine.migrate()
    return engine
  }
  const tableOf = (name: 'todos' | 'notes') => (name === 'todos' ? fx.t.todos : fx.t.notes) as never
  const db = () => fx.t.db as unknown as {
    insert(t: never): { values(v: unknown): Promise<unknown> }
    update(t: never): { set(v: unknown): { where(w: unknown): Promise<unknown> } }
    delete(t: never): { where(w: unknown): Promise<unknown> }
  }
  fx.drizzle = {
    insert: async (table, row) => void (await db().insert(tableOf(table)).values(row)),
    update: async (table, uid, patch) => void (await db().update(tableOf(table)).set(patch).where(eq((tableOf(table) as { uid: never }).uid, uid))),
    delete: async (table, uid) => void (await db().delete(tableOf(table)).where(eq((tableOf(table) as { uid: never }).uid, uid))),
  }
  fx.meta = async (table, uid) => {
    const rows = await fx.t.raw(`SELECT created_at, updated_at, deleted_at, rev, image, fields FROM lastword_meta WHERE tbl = '${table}' AND uid = '${uid}' AND rev > 0`)
    const row = rows[0]
    if (row === undefined) return undefined
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : null)
    return {
      created_at: String(row['created_at']),
      updated_at: String(row['updated_at']),
      deleted_at: row['deleted_at'] === null ? null : String(row['deleted_at']),
      rev: Number(row['rev']),
      image: parse(row['image']),
      fields: parse(row['fields']),
    }
  }
  fx.changes = async (table) => {
    const rows = await fx.t.raw(`SELECT rev, uid, before FROM lastword_changes WHERE tbl = '${table}' ORDER BY rev`)
    return rows.map((r) => ({ rev: Number(r['rev']), uid: String(r['uid']), before: typeof r['before'] === 'string' ? JSON.parse(r['before']) : null }))
  }
  fx.replica = (table = 'todos') => new Replica(fx.engine, ALICE, table)
  fx.push = (table, records) => fx.engine.sync(ALICE, { table, where: {}, checkpoint: null, push: records })
  return fx
}

/** A todo as the app writes it through Drizzle (every column kind lastword maps). */
export function appTodo(uid: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { uid, tenant: 'A', title: `todo ${uid}`, done: false, priority: null, score: null, due: null, tags: null, ...fields }
}
