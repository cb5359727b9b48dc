/**
 * The metrics hook and the readiness check (metrics.ts, engine/readiness.ts) on a real socket.io server,
 * with a recording sink, on every dialect.
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSyncServer, type MetricsSink, type SyncServer } from '../../src/index.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import { live, stamp, todo } from '../engine/helpers.js'
import { collectChanges, connected, handshake, refusal, syncError, syncOk, waitFor, type ClientSocket } from '../transport/harness.js'
import { io as ioClient } from 'socket.io-client'

interface Observation {
  kind: 'counter' | 'histogram' | 'gauge'
  name: string
  value: number
  labels: Record<string, string>
}

/** A sink that keeps everything it is told. */
function recordingSink(): MetricsSink & { seen: Observation[]; sum(name: string, labels?: Record<string, string>): number; last(name: string): number | undefined } {
  const seen: Observation[] = []
  const keep = (kind: Observation['kind']) => (name: string, value: number, labels: Readonly<Record<string, string>>) => void seen.push({ kind, name, value, labels: { ...labels } })
  const matching = (name: string, labels: Record<string, string> = {}) => seen.filter((o) => o.name === name && Object.entries(labels).every(([k, v]) => o.labels[k] === v))
  return {
    seen,
    counter: keep('counter'),
    histogram: keep('histogram'),
    gauge: keep('gauge'),
    sum: (name, labels) => matching(name, labels).reduce((n, o) => n + o.value, 0),
    last: (name) => matching(name).at(-1)?.value,
  }
}

const UID = (i: number) => `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`

export function runMetricsSuite(name: string, harness: DbHarness): void {
  describe(`metrics and readiness on ${name}`, () => {
    let t: TestDb
    let sync: SyncServer
    let http: HttpServer
    let url: string
    let sink: ReturnType<typeof recordingSink>
    const sockets: ClientSocket[] = []

    const start = async (migrate = true) => {
      sink = recordingSink()
      sync = createSyncServer({
        db: t.db,
        tables: { todos: { table: t.todos, serverColumns: { tenant: () => 'A' } } },
        metrics: sink,
      })
      if (migrate) await sync.migrate()
      http = createServer()
      sync.attach(http)
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    }
    const connect = (auth: Record<string, unknown>): ClientSocket => {
      const socket: ClientSocket = ioClient(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true })
      sockets.push(socket)
      return socket
    }

    beforeEach(async () => {
      t = await harness.open()
    })
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.disconnect()
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await t.close()
    })

    it('reports sockets, syncs by mode, pushed records by outcome, latencies, queued bytes and errors by code', async () => {
      await start()
      const a = connect(handshake())
      await connected(a)
      expect(sink.last('lastword_sockets_connected')).toBe(1)
      const b = connect(handshake())
      await connected(b)
      expect(sink.last('lastword_sockets_connected')).toBe(2)
      const changes = collectChanges(b)
      const first = await syncOk(b, { table: 'todos', full: { cursor: null, entries: [], complete: true }, subscription: 's1' })

      const records = [live(UID(1), stamp(1_000), todo()), live(UID(2), stamp(1_000), todo())]
      const page = await syncOk(a, { table: 'todos', full: { cursor: null, entries: [], complete: true }, push: records })
      expect(sink.sum('lastword_syncs_total', { table: 'todos', mode: 'full' })).toBe(2)
      expect(sink.sum('lastword_pushed_records_total', { table: 'todos', status: 'applied' })).toBe(2)
      // An older write of UID(1): superseded.
      await syncOk(a, { table: 'todos', checkpoint: page.checkpoint, pull: false, push: [live(UID(1), stamp(500), todo(), stamp(500))] })
      expect(sink.sum('lastword_syncs_total', { mode: 'push' })).toBe(1)
      expect(sink.sum('lastword_pushed_records_total', { status: 'superseded' })).toBe(1)
      await syncOk(b, { table: 'todos', checkpoint: first.checkpoint })
      expect(sink.sum('lastword_syncs_total', { mode: 'incremental' })).toBe(1)
      const durations = sink.seen.filter((o) => o.name === 'lastword_sync_duration_ms')
      expect(durations).toHaveLength(4)
      expect(durations.every((o) => o.kind === 'histogram' && o.value >= 0)).toBe(true)
      expect(sink.seen.filter((o) => o.name === 'lastword_queued_bytes').length).toBe(4)

      // Fan-out: the commit reached the subscribed socket and its delivery was timed.
      await waitFor(() => changes.length > 0, 5_000, 'realtime event')
      await waitFor(() => sink.seen.some((o) => o.name === 'lastword_fanout_duration_ms'), 5_000, 'fan-out metric')
      expect(sink.seen.find((o) => o.name === 'lastword_fanout_duration_ms')?.labels).toEqual({ source: 'local' })

      // Errors by code; a client-chosen table name never becomes a label.
      expect((await syncError(a, { table: 'todos', where: 'nope', checkpoint: null, push: [] })).code).toBe('BAD_REQUEST')
      expect((await syncError(a, { table: 'secret_table_name', where: {}, checkpoint: null, push: [] })).code).toBe('UNKNOWN_TABLE')
      expect(sink.sum('lastword_errors_total', { code: 'BAD_REQUEST', event: 'lw:sync' })).toBe(1)
      expect(sink.sum('lastword_errors_total', { code: 'UNKNOWN_TABLE', event: 'lw:sync' })).toBe(1)
      expect(JSON.stringify(sink.seen)).not.toContain('secret_table_name')
      expect((await refusal(connect(handshake({ protocolVersion: 1 }))))?.code).toBe('PROTOCOL_MISMATCH')
      expect(sink.sum('lastword_errors_total', { code: 'PROTOCOL_MISMATCH', event: 'handshake' })).toBe(1)

      a.disconnect()
      await waitFor(() => sink.last('lastword_sockets_connected') === 1, 5_000, 'disconnect gauge')
    })

    it('a sink that throws changes no answer', async () => {
      await start()
      sink.counter = () => {
        throw new Error('sink down')
      }
      const a = connect(handshake())
      await connected(a)
      const page = await syncOk(a, { table: 'todos', full: { cursor: null, entries: [], complete: true }, push: [live(UID(3), stamp(1_000), todo())] })
      expect(page.outcomes).toEqual([{ uid: UID(3), status: 'applied' }])
    })

    it('ready(): ready once migrated, migrations pending before, closed after close', async () => {
      await start(false)
      const before = await sync.ready()
      expect(before).toMatchObject({ ready: false, reason: 'migrations-pending' })
      await sync.migrate()
      const after = await sync.ready()
      expect(after).toMatchObject({ ready: true, dialect: t.dialect, rev: 0 })
      await sync.close()
      expect(await sync.ready()).toMatchObject({ ready: false, reason: 'closed' })
    })

    it('ready(): migrations pending when a lastword table lost a column', async () => {
      await start()
      await t.raw('ALTER TABLE lastword_erasures DROP COLUMN uid')
      expect(await sync.ready()).toMatchObject({ ready: false, reason: 'migrations-pending', message: expect.stringContaining('lastword_erasures') })
    })
  })
}
