/**
 * `<LastwordDevtools>`: the client's `inspect()` snapshot as a compact panel — status and clock, its
 * scopes, the records waiting to be pushed and why, refused records, recent errors — refreshed on
 * every client event. Styled by its own class names (`lwdt-`), so it drops into any page.
 */
import type { ClientInspection, SyncClient } from '@lastword/client'
import { useState, type ReactNode } from 'react'
import { ago, inTime, PENDING_STATES, shortUid, signedMs, whereText } from './format.js'
import { DEVTOOLS_CSS } from './styles.js'
import { useInspection } from './use-inspection.js'

/** Props of {@link LastwordDevtools}. */
export interface LastwordDevtoolsProps {
  /** The client to inspect (default: the provider's). */
  client?: SyncClient
  /** A heading (default: the client's name). */
  title?: string
  /** Rows listed per section before "and N more" (default 8). */
  maxRows?: number
  className?: string
}

/** The devtools panel of one client. */
export function LastwordDevtools({ client, title, maxRows = 8, className }: LastwordDevtoolsProps): ReactNode {
  const { snapshot, error, refresh } = useInspection(client)
  const [copied, setCopied] = useState(false)
  const copy = (): void => {
    if (snapshot === null) return
    void navigator.clipboard?.writeText(JSON.stringify(snapshot, null, 2)).then(() => {
      setCopied(true)
      setTimeout(() => setCopied(false), 1200)
    })
  }
  return (
    <section className={`lwdt ${className ?? ''}`} data-testid="lastword-devtools" aria-label="lastword devtools">
      <style>{DEVTOOLS_CSS}</style>
      <header className="lwdt-head">
        <strong className="lwdt-title">{title ?? snapshot?.name ?? 'lastword'}</strong>
        {snapshot && <StatusPill snapshot={snapshot} />}
        <span className="lwdt-spacer" />
        <button type="button" className="lwdt-btn" onClick={refresh} title="Read the snapshot again">
          Refresh
        </button>
        <button type="button" className="lwdt-btn" onClick={copy} disabled={snapshot === null} title="Copy the snapshot as JSON">
          {copied ? 'Copied' : 'Copy JSON'}
        </button>
      </header>
      {error && <p className="lwdt-error">{error.message}</p>}
      {snapshot === null ? <p className="lwdt-muted">Reading…</p> : <Body snapshot={snapshot} maxRows={maxRows} />}
    </section>
  )
}

function StatusPill({ snapshot }: { snapshot: ClientInspection }) {
  return (
    <span className={`lwdt-pill lwdt-${snapshot.status}`} data-testid="lastword-devtools-status" data-status={snapshot.status}>
      {snapshot.status}
    </span>
  )
}

function Body({ snapshot, maxRows }: { snapshot: ClientInspection; maxRows: number }) {
  const { clock, pending, scopes, rejected, errors, at } = snapshot
  return (
    <div className="lwdt-body">
      <dl className="lwdt-facts">
        <Fact label="tab">{snapshot.tab.role}</Fact>
        <Fact label="pending">
          <span data-testid="lastword-devtools-pending" data-count={pending.count}>
            {pending.count}
          </span>
        </Fact>
        <Fact label="last sync">{snapshot.lastSync ? `${ago(snapshot.lastSync.at, at)} · ${snapshot.lastSync.table}` : 'never'}</Fact>
        <Fact label="clock offset">{signedMs(clock.offsetMs)}</Fact>
        <Fact label="clock skew">{clock.skewMs === null ? <span className="lwdt-muted">none refused</span> : <span className="lwdt-bad">{signedMs(clock.skewMs)}</span>}</Fact>
        <Fact label="client">
          <code title={snapshot.clientId}>{shortUid(snapshot.clientId)}</code>
        </Fact>
      </dl>

      <Section title="Scopes" count={scopes.length} empty="No scope: nothing subscribed or stored.">
        <table className="lwdt-table">
          <thead>
            <tr>
              <th>table</th>
              <th>filter</th>
              <th>checkpoint</th>
              <th>last sync</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {scopes.slice(0, maxRows).map((s) => (
              <tr key={s.key} data-testid="lastword-devtools-scope">
                <td>{s.table}</td>
                <td>
                  <code title={JSON.stringify(s.where)}>{whereText(s.where)}</code>
                </td>
                <td>{s.hasCheckpoint ? <span className="lwdt-ok">✓</span> : <span className="lwdt-muted">{s.fullReconciliationInProgress ? 'full, resuming' : 'full next'}</span>}</td>
                <td>{ago(s.lastSyncAt, at)}</td>
                <td>
                  <ScopeState scope={s} now={at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <More total={scopes.length} shown={maxRows} />
      </Section>

      <Section title="Pending" count={pending.count} empty="Nothing to push.">
        <table className="lwdt-table">
          <thead>
            <tr>
              <th>table</th>
              <th>key</th>
              <th>change</th>
              <th>why it waits</th>
            </tr>
          </thead>
          <tbody>
            {pending.records.slice(0, maxRows).map((r) => {
              const state = PENDING_STATES[r.state]
              return (
                <tr key={`${r.table}/${r.uid}`} data-testid="lastword-devtools-pending-record" data-state={r.state}>
                  <td>{r.table}</td>
                  <td>
                    <code title={`${r.key}: ${r.uid}`}>{shortUid(r.uid)}</code>
                  </td>
                  <td>{r.change}</td>
                  <td>
                    <span className={`lwdt-badge lwdt-tone-${state.tone}`} title={state.help}>
                      {state.label}
                    </span>
                    {r.restamped && (
                      <span className="lwdt-badge lwdt-tone-warn" title="Re-stamped after the server refused this device's clock">
                        re-stamped
                      </span>
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
        <More total={pending.count} shown={Math.min(maxRows, pending.records.length)} />
      </Section>

      {rejected.length > 0 && (
        <Section title="Refused by the server" count={rejected.length} tone="bad">
          <table className="lwdt-table">
            <tbody>
              {rejected.slice(0, maxRows).map((r) => (
                <tr key={`${r.table}/${r.uid}`}>
                  <td>{r.table}</td>
                  <td>
                    <code title={`${r.key}: ${r.uid}`}>{shortUid(r.uid)}</code>
                  </td>
                  <td className="lwdt-bad">{r.error.code}</td>
                  <td className="lwdt-wrap">{r.error.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}

      <Section title="Errors" count={errors.length} empty="No error reported." tone={errors.length > 0 ? 'bad' : undefined}>
        <ul className="lwdt-errors">
          {errors.slice(0, maxRows).map((e, i) => (
            <li key={i}>
              <span className="lwdt-muted">{ago(e.at, at)}</span> <span className="lwdt-bad">{e.code}</span> <span className="lwdt-wrap">{e.message}</span>
            </li>
          ))}
        </ul>
      </Section>
    </div>
  )
}

function ScopeState({ scope, now }: { scope: ClientInspection['scopes'][number]; now: number }) {
  const tags: ReactNode[] = []
  if (scope.running) tags.push(<span key="run" className="lwdt-badge lwdt-tone-busy">syncing</span>)
  if (scope.retry) {
    tags.push(
      <span key="retry" className="lwdt-badge lwdt-tone-warn" title={`attempt ${scope.retry.attempt} failed: ${scope.retry.code}`}>
        retry {inTime(scope.retry.at, now)}
      </span>,
    )
  }
  if (scope.live) tags.push(<span key="live" className="lwdt-badge lwdt-tone-ok">live</span>)
  tags.push(
    <span key="holders" className="lwdt-muted" title="Live queries and tabs holding it">
      {scope.holders === 0 ? 'stored' : `${scope.holders} holder${scope.holders === 1 ? '' : 's'}`}
    </span>,
  )
  return <span className="lwdt-tags">{tags}</span>
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="lwdt-fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  )
}

function Section({ title, count, empty, tone, children }: { title: string; count: number; empty?: string; tone?: 'bad'; children: ReactNode }) {
  return (
    <section className="lwdt-section">
      <h4 className={tone === 'bad' ? 'lwdt-bad' : undefined}>
        {title} <span className="lwdt-count">{count}</span>
      </h4>
      {count === 0 && empty ? <p className="lwdt-muted lwdt-empty">{empty}</p> : children}
    </section>
  )
}

function More({ total, shown }: { total: number; shown: number }) {
  return total > shown ? <p className="lwdt-muted lwdt-more">and {total - shown} more</p> : null
}
