/**
 * The metrics hook (`metrics` option of `createSyncServer`): lastword reports what it does to a sink the
 * app gives — three optional functions, so it plugs into prom-client, OpenTelemetry or a log without
 * lastword depending on any of them (README, "Metrics and readiness"). Counts are counters; rates come
 * from the backend. Labels are drawn from closed sets (synced table names, modes, outcome statuses, error
 * codes), never from client input, so a client cannot grow a backend's label space.
 *
 * | name | kind | labels | what |
 * |---|---|---|---|
 * | `lastword_sockets_connected` | gauge | | sockets with a session now (set on every connect and disconnect) |
 * | `lastword_syncs_total` | counter | `table`, `mode` | `lw:sync` requests answered with a page: `incremental`, `full`, `resync`, `push` (push only); refusals count in `lastword_errors_total` |
 * | `lastword_sync_duration_ms` | histogram | `table`, `mode` | from a request's arrival to its answer (with a page) |
 * | `lastword_pushed_records_total` | counter | `table`, `status` | pushed records by outcome: `applied`, `superseded`, `rejected` |
 * | `lastword_fanout_duration_ms` | histogram | `source` | from a commit to the end of its realtime delivery (`local`; `cluster`: another node's publication; `log`: read from the change log by the change feed) |
 * | `lastword_feed_lag_revs` | gauge | | revs the change feed has seen committed but not delivered yet (after each of its passes) |
 * | `lastword_hook_lag_revs` | gauge | `hook` | revs a change hook is behind the version row (after each of its reads) |
 * | `lastword_hook_failures_total` | counter | `hook` | calls of a change hook's handler that threw (each is retried) |
 * | `lastword_hook_lost_revs_total` | counter | `hook` | revs a change hook was moved past because the retention horizon had passed them |
 * | `lastword_queued_bytes` | histogram | | bytes queued for a socket when an answer was handed to it (the backpressure bound's measure) |
 * | `lastword_sockets_dropped_total` | counter | | sockets closed for not reading past `maxQueuedBytesPerSocket` |
 * | `lastword_errors_total` | counter | `code`, `event` | refusals and failures by error code: `event` is `lw:sync`, `lw:unsubscribe` or `handshake` |
 */
import { isErrorCode } from '@lastword/core'

/** Labels of one observation. */
export type MetricLabels = Readonly<Record<string, string>>

/** Where lastword reports; every function is optional, and one that throws is ignored. */
export interface MetricsSink {
  counter?(name: string, value: number, labels: MetricLabels): void
  histogram?(name: string, value: number, labels: MetricLabels): void
  gauge?(name: string, value: number, labels: MetricLabels): void
}

/** What the server reports, typed (the transport and `createSyncServer` call it). */
export interface Meter {
  socketsConnected(count: number): void
  sync(table: string, mode: string, durationMs: number, outcomes: ReadonlyArray<{ status: string }>): void
  fanout(source: 'local' | 'cluster' | 'log', durationMs: number): void
  feedLag(revs: number): void
  /** `hook` is the name of one of the app's `onChange` hooks (a closed set). */
  hookLag(hook: string, revs: number): void
  hookFailure(hook: string): void
  hookLost(hook: string, revs: number): void
  queuedBytes(bytes: number): void
  socketDropped(): void
  error(code: string, event: 'lw:sync' | 'lw:push' | 'lw:unsubscribe' | 'handshake'): void
}

/** A meter over the app's sink (none: every call does nothing). `tables`: the synced names, the only `table` labels. */
export function createMeter(sink: MetricsSink | undefined, tables: Iterable<string>): Meter {
  const known = new Set(tables)
  const safe =
    (kind: keyof MetricsSink) =>
    (name: string, value: number, labels: MetricLabels = {}): void => {
      const fn = sink?.[kind]
      if (typeof fn !== 'function') return
      try {
        fn.call(sink, name, value, labels)
      } catch {
        // A failing sink must not fail a request.
      }
    }
  const counter = safe('counter')
  const histogram = safe('histogram')
  const gauge = safe('gauge')
  const tableLabel = (table: string): string => (known.has(table) ? table : 'unknown')
  return {
    socketsConnected: (count) => gauge('lastword_sockets_connected', count),
    sync(table, mode, durationMs, outcomes) {
      const labels = { table: tableLabel(table), mode }
      counter('lastword_syncs_total', 1, labels)
      histogram('lastword_sync_duration_ms', durationMs, labels)
      const byStatus = new Map<string, number>()
      for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1)
      for (const [status, n] of byStatus) counter('lastword_pushed_records_total', n, { table: labels.table, status })
    },
    fanout: (source, durationMs) => histogram('lastword_fanout_duration_ms', durationMs, { source }),
    feedLag: (revs) => gauge('lastword_feed_lag_revs', revs),
    hookLag: (hook, revs) => gauge('lastword_hook_lag_revs', revs, { hook }),
    hookFailure: (hook) => counter('lastword_hook_failures_total', 1, { hook }),
    hookLost: (hook, revs) => counter('lastword_hook_lost_revs_total', revs, { hook }),
    queuedBytes: (bytes) => histogram('lastword_queued_bytes', bytes),
    socketDropped: () => counter('lastword_sockets_dropped_total', 1),
    error: (code, event) => counter('lastword_errors_total', 1, { code: isErrorCode(code) ? code : 'INTERNAL', event }),
  }
}

/** Reports one answered `lw:sync`: its mode and outcomes when it succeeded, its error code when not. */
export function observeSync(meter: Meter, raw: unknown, reply: { ok: boolean; data?: unknown; error?: { code: string } }, durationMs: number): void {
  const request = typeof raw === 'object' && raw !== null ? (raw as { table?: unknown; pull?: unknown }) : {}
  if (!reply.ok) {
    meter.error(reply.error?.code ?? 'INTERNAL', 'lw:sync')
    return
  }
  const page = (reply.data ?? {}) as { mode?: unknown; outcomes?: ReadonlyArray<{ status: string }> }
  const mode = page.mode === 'resync' ? 'resync' : request.pull === false ? 'push' : page.mode === 'full' ? 'full' : 'incremental'
  meter.sync(typeof request.table === 'string' ? request.table : '', mode, durationMs, page.outcomes ?? [])
}
