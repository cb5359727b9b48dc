import { LastwordDevtools } from '@lastword/react/devtools'
import { useState, useSyncExternalStore } from 'react'
import { ConflictCard } from './ConflictCard'
import { conflictStore, makeConflict } from './conflict'
import { DevicePane } from './DevicePane'
import { devices } from './devices'
import { ServerPane } from './ServerPane'

export function App() {
  const run = useSyncExternalStore(conflictStore.subscribe, conflictStore.get)
  const running = run !== null && run.phase !== 'done' && run.phase !== 'failed'
  const [devtools, setDevtools] = useState(false)
  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            <svg viewBox="0 0 32 32" width="28" height="28">
              <rect width="32" height="32" rx="8" fill="currentColor" />
              <path d="M9 17l5 5 9-11" stroke="white" strokeWidth="3.5" fill="none" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
          </span>
          <div>
            <h1>lastword</h1>
            <p className="tagline">Offline-first sync for Drizzle apps — live demo</p>
          </div>
        </div>
        <div className="topbar-actions">
          <button
            type="button"
            className={`btn ${devtools ? 'is-on' : ''}`}
            data-testid="devtools-toggle"
            aria-pressed={devtools}
            onClick={() => setDevtools((on) => !on)}
          >
            <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
              <path d="M7 6l-4 4 4 4M13 6l4 4-4 4" stroke="currentColor" strokeWidth="2" fill="none" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
            {devtools ? 'Hide devtools' : 'Devtools'}
          </button>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="make-conflict"
            disabled={running}
            onClick={() => void makeConflict()}
          >
            <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
              <path d="M11 2L4 11h5l-1 7 7-9h-5l1-7z" fill="currentColor" />
            </svg>
            {running ? 'Making a conflict…' : 'Make a conflict'}
          </button>
        </div>
      </header>

      <p className="intro">
        Two devices share todo lists, each with its own copy in IndexedDB. Take one offline, edit on both,
        reconnect: every field settles on its <strong>latest write</strong> (hybrid-logical-clock stamps), so edits
        of different fields are all kept, and a delete wins over older edits. Deleting a list deletes its todos, and
        its deletion wins: an edit of one of them made elsewhere is refused.
      </p>

      {run && <ConflictCard run={run} onDismiss={conflictStore.dismiss} />}

      {devtools && (
        <section className="devtools-dock" data-testid="devtools-dock" aria-label="lastword devtools">
          <LastwordDevtools client={devices.laptop.client} title="Laptop" />
          <LastwordDevtools client={devices.phone.client} title="Phone" />
        </section>
      )}

      <main className="grid">
        <DevicePane device={devices.laptop} icon="laptop" />
        <DevicePane device={devices.phone} icon="phone" />
        <ServerPane />
      </main>

      <footer className="footer">
        Each device is a separate <code>createSyncClient</code> in this tab, with its own IndexedDB database. Reload
        the page while offline: the edits and the switches are still there.
      </footer>
    </div>
  )
}
