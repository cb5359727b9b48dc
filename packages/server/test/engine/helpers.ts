/**
 * Helpers for the engine suite: stamps from readable parts, records, a test clock, and a minimal
 * client replica that applies sync pages the way the protocol says a client must.
 */
import {
  arrayToRow,
  formatStamp,
  isLastwordError,
  type Stamp,
  type SyncPage,
  type SyncRequest,
  type TableDescriptor,
  type WireRecord,
  type Where,
} from '@lastword/core'
import { expect } from 'vitest'
import type { Principal, RequestContext } from '../../src/types.js'
import type { Engine } from '../../src/engine/index.js'

/** 2024-01-01T00:00:00Z: the suite's wall clock starts here. */
export const T0 = Date.UTC(2024, 0, 1)

export const NODE_A = 'aaaaaaaaaaaaaaaa'
export const NODE_B = 'bbbbbbbbbbbbbbbb'

/** A stamp `ms` after {@link T0}. */
export function stamp(ms: number, counter = 0, node = NODE_A): Stamp {
  return formatStamp({ ms: T0 + ms, counter, node })
}

/** A controllable wall clock. */
export interface TestClock {
  ms: number
  now: () => number
}

export function createTestClock(start = T0 + 60_000): TestClock {
  const clock: TestClock = { ms: start, now: () => clock.ms }
  return clock
}

/** A todo row with defaults for what the test does not care about. */
export function todo(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: 'a todo', done: false, priority: null, score: null, due: null, tags: null, ...fields }
}

/** A live record: created and updated at `at`. */
export function live(uid: string, at: Stamp, row: Record<string, unknown>, created: Stamp = at): WireRecord {
  return { uid, created_at: created, updated_at: at, deleted_at: null, row }
}

/** A tombstone deleted at `at` (after its last update, as core requires). */
export function tomb(uid: string, at: Stamp, created: Stamp, updated: Stamp = created): WireRecord {
  return { uid, created_at: created, updated_at: updated, deleted_at: at, row: null }
}

export function principal(id: string, tenant: string, extra: Record<string, unknown> = {}): RequestContext {
  return { principal: { id, tenant, ...extra } as Principal }
}


/** A sync request with defaults. */
export function request(table: string, fields: Partial<SyncRequest> = {}): SyncRequest {
  return { table, where: {}, checkpoint: null, push: [], ...fields }
}

/** Expects `promise` to reject with a `LastwordError` of `code`; returns it. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<{ code: string; details: Record<string, unknown> | undefined }> {
  try {
    await promise
  } catch (error) {
    if (!isLastwordError(error)) throw error
    expect(error.code).toBe(code)
    return error
  }
  throw new Error(`expected ${code}, but it resolved`)
}

interface Held {
  created_at: Stamp
  updated_at: Stamp
  deleted_at: Stamp | null
  row: Record<string, unknown> | null
  acknowledged: boolean
  /** The point of the server's history the page that brought it was read at (R12). */
  knownAt: string | null
}

/**
 * A client replica of one scope: applies pages (rows, tombstones, evictions, purges), keeps the
 * checkpoint, and runs full reconciliation and incremental pulls to the end.
 */
export class Replica {
  readonly records = new Map<string, Held>()
  checkpoint: string | null = null
  pages: SyncPage[] = []

  constructor(
    readonly engine: Engine,
    readonly ctx: RequestContext,
    readonly table: string,
    readonly where: Where = {},
    readonly pageSize?: number,
  ) {}

  get descriptor(): TableDescriptor {
    const d = this.engine.tables.find((t) => t.name === this.table)
    if (d === undefined) throw new Error(`no table ${this.table}`)
    return d
  }

  /** Live rows held, by uid. */
  rows(): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>()
    for (const [uid, held] of [...this.records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (held.deleted_at === null && held.row !== null) out.set(uid, held.row)
    }
    return out
  }

  apply(page: SyncPage): void {
    this.pages.push(page)
    for (const array of page.rows) {
      const [uid, created_at, updated_at, ...values] = array as [string, Stamp, Stamp, ...unknown[]]
      this.records.set(uid, { created_at, updated_at, deleted_at: null, row: arrayToRow(this.descriptor, values), acknowledged: true, knownAt: page.knownAt })
    }
    for (const [uid, created_at, updated_at, deleted_at] of page.tombstones) {
      this.records.set(uid, { created_at: created_at as Stamp, updated_at: updated_at as Stamp, deleted_at: deleted_at as Stamp, row: null, acknowledged: true, knownAt: page.knownAt })
    }
    for (const uid of [...page.evict.map(([u]) => u), ...page.purged, ...page.erased]) this.records.delete(uid)
  }

  /** Full reconciliation from the start, every page; the entries are sent in pages of `entryPage`. */
  async full(entryPage = 1_000_000): Promise<SyncPage[]> {
    const pages: SyncPage[] = []
    const entries = [...this.records]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([uid, h]) => [uid, h.deleted_at ?? h.updated_at, h.deleted_at !== null, h.acknowledged, h.knownAt] as [string, Stamp, boolean, boolean, string | null])
    let cursor: SyncPage['cursor'] = null
    for (let guard = 0; guard < 10_000; guard++) {
      const after = cursor?.after ?? null
      const remaining = entries.filter(([uid]) => after === null || uid > after)
      const sent = remaining.slice(0, entryPage)
      const page: SyncPage = await this.engine.sync(this.ctx, {
        ...request(this.table, { where: this.where, full: { cursor, entries: sent, complete: sent.length === remaining.length } }),
        ...(this.pageSize === undefined ? {} : { pageSize: this.pageSize }),
      })
      pages.push(page)
      if (page.mode === 'resync') throw new Error(`full sync answered resync: ${page.reason}`)
      this.apply(page)
      if (!page.hasMore) {
        this.checkpoint = page.checkpoint
        return pages
      }
      cursor = page.cursor
    }
    throw new Error('full sync did not end')
  }

  /** Incremental pulls until `hasMore` is false; returns the pages (stops at a resync). */
  async pull(push: WireRecord[] = []): Promise<SyncPage[]> {
    const pages: SyncPage[] = []
    let toPush = push
    for (let guard = 0; guard < 10_000; guard++) {
      const page: SyncPage = await this.engine.sync(this.ctx, {
        ...request(this.table, { where: this.where, checkpoint: this.checkpoint, push: toPush }),
        ...(this.pageSize === undefined ? {} : { pageSize: this.pageSize }),
      })
      toPush = []
      pages.push(page)
      if (page.mode === 'resync') return pages
      this.apply(page)
      this.checkpoint = page.checkpoint
      if (!page.hasMore) return pages
    }
    throw new Error('incremental sync did not end')
  }
}

/** Everything a page mentions, as text: to prove a uid or value never reached a client. */
export function pageText(pages: readonly SyncPage[]): string {
  return JSON.stringify(pages)
}

/**
 * fast-check parameters that always print the seed; `FC_SEED=<seed> [FC_PATH=<path>]` replays a run.
 * `RUNS` multiplies the number of runs for a heavier campaign.
 */
export function fcParams(name: string, numRuns: number): { seed: number; numRuns: number; path?: string } {
  const env = process.env
  const seed = env['FC_SEED'] !== undefined && env['FC_SEED'] !== '' ? Number(env['FC_SEED']) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
  const scale = env['RUNS'] !== undefined && env['RUNS'] !== '' ? Math.max(1, Number(env['RUNS'])) : 1
  console.log(`[${name}] fast-check seed=${seed} (replay with FC_SEED=${seed})`)
  const params: { seed: number; numRuns: number; path?: string } = { seed, numRuns: Math.round(numRuns * scale) }
  if (env['FC_PATH'] !== undefined && env['FC_PATH'] !== '') params.path = env['FC_PATH']
  return params
}

/** A promise and its resolver. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
