import { useEffect, useState } from 'react'
import type { List, Todo } from './devices'
import { clockTime } from './format'
import { ServerIcon } from './icons'

interface Feed {
  database: string
  rows: Todo[]
  lists?: List[]
}

/** The server's rows, live: a server-sent event stream that re-sends whenever they change. */
export function ServerPane() {
  const [feed, setFeed] = useState<Feed | null>(null)
  const [updatedAt, setUpdatedAt] = useState<number | null>(null)
  const [connected, setConnected] = useState(false)

  useEffect(() => {
    const source = new EventSource('/api/server-rows/stream')
    source.onopen = () => setConnected(true)
    source.onerror = () => setConnected(false)
    source.onmessage = (event: MessageEvent<string>) => {
      setFeed(JSON.parse(event.data) as Feed)
      setUpdatedAt(Date.now())
      setConnected(true)
    }
    return () => source.close()
  }, [])

  const rows = feed?.rows ?? []
  const listNames = new Map((feed?.lists ?? []).map((list) => [list.uid, list.name]))
  return (
    <section className="pane server" data-testid="server-pane">
      <header className="pane-head">
        <div className="pane-title">
          <span className="pane-icon">
            <ServerIcon />
          </span>
          <div>
            <h2>Server</h2>
            <p className="pane-sub" title={feed?.database}>
              {feed?.database ?? 'connecting…'}
            </p>
          </div>
        </div>
        <span className={`pill ${connected ? 'pill-online' : 'pill-offline'}`} data-testid="server-feed-status">
          <span className="dot" />
          {connected ? 'Live' : 'Reconnecting…'}
        </span>
      </header>
      <p className="server-note">What the database holds right now. Devices only change it when they are online.</p>
      <table className="rows">
        <thead>
          <tr>
            <th scope="col" className="col-done">Done</th>
            <th scope="col">Title</th>
            <th scope="col" className="col-list">List</th>
            <th scope="col" className="col-by">By</th>
          </tr>
        </thead>
        <tbody data-testid="server-rows" data-count={rows.length}>
          {rows.map((row) => (
            <tr key={row.uid} data-testid="server-row" data-uid={row.uid} data-title={row.title} data-done={String(Boolean(row.done))}>
              <td className="col-done">
                <span className={`mini-check ${row.done ? 'on' : ''}`} aria-label={row.done ? 'done' : 'open'} />
              </td>
              <td className={row.done ? 'done-title' : ''}>{row.title}</td>
              <td className="col-list" data-testid="server-row-list">{row.list_uid === null ? '—' : (listNames.get(row.list_uid) ?? '?')}</td>
              <td className="col-by">{row.edited_by ?? '—'}</td>
            </tr>
          ))}
          {feed && rows.length === 0 && (
            <tr>
              <td colSpan={4} className="empty">
                No rows.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <p className="server-foot">
        {rows.length} {rows.length === 1 ? 'todo' : 'todos'} in {listNames.size} {listNames.size === 1 ? 'list' : 'lists'}
        {updatedAt ? ` · changed at ${clockTime(updatedAt)}` : ''}
      </p>
    </section>
  )
}
