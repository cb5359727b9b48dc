/**
 * The physical limits: the same records written with nothing in between — one IndexedDB transaction
 * of puts (fake-indexeddb), one SQLite transaction of prepared inserts (better-sqlite3, WAL), one
 * PostgreSQL transaction of set-based inserts (unnest, 10,000 rows per statement). SQLite runs with
 * WAL and synchronous = FULL, as lastword requires of the server's database (so the two pay the same for durability).
 * And the latency of one durable single-row commit on each, the floor under a realtime write.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { IDBFactory } from 'fake-indexeddb'
import { makeItems, type Item } from '../lib/data.js'
import { createSchema, dropSchema, poolFor } from '../lib/pg.js'

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
}

async function idbPut(items: Item[]): Promise<number> {
  const factory = new IDBFactory()
  const open = factory.open('raw', 1)
  open.onupgradeneeded = () => {
    open.result.createObjectStore('items', { keyPath: 'uid' })
  }
  const db = await req(open)
  const t0 = performance.now()
  const tx = db.transaction('items', 'readwrite')
  const store = tx.objectStore('items')
  for (const it of items) store.put(it)
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
  })
  const ms = performance.now() - t0
  db.close()
  return ms
}

function sqliteInsert(items: Item[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'lw-raw-'))
  try {
    const db = new Database(join(dir, 'raw.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec('create table items (uid text primary key, title text not null, body text not null, priority integer not null, done integer not null, tag text not null)')
    const ins = db.prepare('insert into items (uid, title, body, priority, done, tag) values (?, ?, ?, ?, ?, ?)')
    const t0 = performance.now()
    db.transaction(() => {
      for (const it of items) ins.run(it.uid, it.title, it.body, it.priority, it.done ? 1 : 0, it.tag)
    })()
    const ms = performance.now() - t0
    db.close()
    return ms
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function pgInsert(items: Item[], schema: string): Promise<number> {
  await createSchema(schema)
  const pool = poolFor(schema, 1)
  try {
    const c = await pool.connect()
    try {
      await c.query('create table items (uid text primary key, title text not null, body text not null, priority integer not null, done boolean not null, tag text not null)')
      const t0 = performance.now()
      await c.query('begin')
      for (let i = 0; i < items.length; i += 10_000) {
        const part = items.slice(i, i + 10_000)
        await c.query(
          'insert into items (uid, title, body, priority, done, tag) select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bool[], $6::text[])',
          [part.map((x) => x.uid), part.map((x) => x.title), part.map((x) => x.body), part.map((x) => x.priority), part.map((x) => x.done), part.map((x) => x.tag)],
        )
      }
      await c.query('commit')
      return performance.now() - t0
    } finally {
      c.release()
    }
  } finally {
    await pool.end()
    await dropSchema(schema)
  }
}

/** Latency of one durable single-row commit (autocommit insert), `reps` times: the floor under a realtime write. */
function sqliteCommits(reps: number): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'lw-raw-'))
  try {
    const db = new Database(join(dir, 'raw.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec('create table items (uid text primary key, title text not null)')
    const ins = db.prepare('insert into items (uid, title) values (?, ?)')
    const out: number[] = []
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now()
      ins.run(`u${i}`, 'x')
      out.push(performance.now() - t0)
    }
    db.close()
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function pgCommits(reps: number, schema: string): Promise<number[]> {
  await createSchema(schema)
  const pool = poolFor(schema, 1)
  try {
    const c = await pool.connect()
    try {
      await c.query('create table items (uid text primary key, title text not null)')
      const out: number[] = []
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now()
        await c.query('insert into items (uid, title) values ($1, $2)', [`u${i}`, 'x'])
        out.push(performance.now() - t0)
      }
      return out
    } finally {
      c.release()
    }
  } finally {
    await pool.end()
    await dropSchema(schema)
  }
}

export function createActor() {
  return {
    async idbBulkPut(n: number, reps: number): Promise<number[]> {
      const items = makeItems(n)
      const out: number[] = []
      for (let r = 0; r < reps; r++) out.push(await idbPut(items))
      return out
    },
    sqliteInsert(n: number, reps: number): number[] {
      const items = makeItems(n)
      const out: number[] = []
      for (let r = 0; r < reps; r++) out.push(sqliteInsert(items))
      return out
    },
    sqliteCommits,
    pgCommits,
    async pgInsert(n: number, reps: number, schema: string): Promise<number[]> {
      const items = makeItems(n)
      const out: number[] = []
      for (let r = 0; r < reps; r++) out.push(await pgInsert(items, `${schema}_${r}`))
      return out
    },
  }
}
