import { LastwordProvider, useLiveQuery, useSyncStatus, useTable } from '@lastword/react'
import { useRef, useState, useSyncExternalStore, type FormEvent } from 'react'
import type { Device, List, LogEntry, Status, Todo } from './devices'
import { clockTime, plural } from './format'
import { LaptopIcon, PhoneIcon, TrashIcon } from './icons'

const STATUS_LABEL: Record<Status, string> = {
  offline: 'Offline',
  connecting: 'Connecting…',
  syncing: 'Syncing…',
  online: 'Online',
}

export function DevicePane({ device, icon }: { device: Device; icon: 'laptop' | 'phone' }) {
  return (
    <LastwordProvider client={device.client}>
      <Pane device={device} icon={icon} />
    </LastwordProvider>
  )
}

function Pane({ device, icon }: { device: Device; icon: 'laptop' | 'phone' }) {
  // The switch and the log are the demo's own; the rows and the sync status come from @lastword/react.
  const state = useSyncExternalStore(device.subscribe, device.getState)
  const sync = useSyncStatus()
  const pending = sync.pending ?? 0
  const todos = useLiveQuery(useTable<Todo>('todos')) // every row, uid order (creation order); keeps the scope synced
  const lists = useLiveQuery(useTable<List>('lists'))
  const [title, setTitle] = useState('')
  const [listName, setListName] = useState('')
  const [chosen, setChosen] = useState('')
  const id = device.id
  // The list a new todo goes to: the one chosen while it exists, else the first.
  const target = lists.rows.find((list) => list.uid === chosen)?.uid ?? lists.rows[0]?.uid ?? null

  const add = (event: FormEvent) => {
    event.preventDefault()
    const text = title.trim()
    if (!text) return
    setTitle('')
    void device.attempt(() => device.create(text, target))
  }
  const addList = (event: FormEvent) => {
    event.preventDefault()
    const name = listName.trim()
    if (!name) return
    setListName('')
    void device.attempt(() => device.createList(name))
  }

  const rows = todos.rows
  // Todos by list; todos written before lists (no list) last. A todo whose list this device no longer
  // shows is not listed: the two live queries refresh one after the other, and the todos of a deleted list
  // (gone in the same local transaction) must never flash up as orphans in between.
  const groups: Array<{ list: List | null; todos: Todo[] }> = lists.rows.map((list) => ({ list, todos: rows.filter((row) => row.list_uid === list.uid) }))
  const unfiled = rows.filter((row) => row.list_uid === null)
  if (unfiled.length > 0) groups.push({ list: null, todos: unfiled })
  const shown = groups.flatMap((group) => group.todos)
  const open = shown.filter((row) => !row.done).length

  return (
    <section className={`pane device ${state.online ? 'is-online' : 'is-offline'}`} data-testid={`device-${id}`}>
      <header className="pane-head">
        <div className="pane-title">
          <span className="pane-icon">{icon === 'laptop' ? <LaptopIcon /> : <PhoneIcon />}</span>
          <div>
            <h2>{device.label}</h2>
            <p className="pane-sub">IndexedDB · lastword-demo-{id}</p>
          </div>
        </div>
        <label className="switch" title={state.online ? 'Take this device offline' : 'Bring this device online'}>
          <input
            type="checkbox"
            role="switch"
            checked={state.online}
            aria-checked={state.online}
            data-testid={`${id}-online-toggle`}
            onChange={(event) => device.setOnline(event.currentTarget.checked)}
          />
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          <span className="switch-label">Wi-Fi</span>
        </label>
      </header>

      <div className="status-row">
        <span className={`pill pill-${sync.status}`} data-testid={`${id}-status`} data-status={sync.status}>
          <span className="dot" />
          {STATUS_LABEL[sync.status] ?? sync.status}
        </span>
        <span
          className={`pending ${pending > 0 ? 'has-pending' : ''}`}
          data-testid={`${id}-pending`}
          data-count={pending}
        >
          {pending > 0 ? `${plural(pending, 'change')} waiting to sync` : 'All changes synced'}
        </span>
      </div>

      <form className="add add-list" onSubmit={addList}>
        <input
          value={listName}
          onChange={(event) => setListName(event.currentTarget.value)}
          placeholder="New list…"
          aria-label={`New list on ${device.label}`}
          data-testid={`${id}-new-list-name`}
          maxLength={80}
        />
        <button type="submit" className="btn" data-testid={`${id}-add-list`} disabled={!listName.trim()}>
          Add list
        </button>
      </form>

      <form className="add" onSubmit={add}>
        <select
          className="list-select"
          value={target ?? ''}
          onChange={(event) => setChosen(event.currentTarget.value)}
          aria-label={`List of the new todo on ${device.label}`}
          data-testid={`${id}-new-todo-list`}
        >
          {lists.rows.map((list) => (
            <option key={list.uid} value={list.uid}>
              {list.name}
            </option>
          ))}
        </select>
        <input
          value={title}
          onChange={(event) => setTitle(event.currentTarget.value)}
          placeholder="Add a todo…"
          aria-label={`New todo on ${device.label}`}
          data-testid={`${id}-new-title`}
          maxLength={200}
        />
        <button type="submit" className="btn" data-testid={`${id}-add`} disabled={!title.trim()}>
          Add
        </button>
      </form>

      <div className="list-head">
        <span>{todos.loading ? 'Loading…' : `${plural(lists.rows.length, 'list')} · ${open} open · ${shown.length - open} done`}</span>
      </div>
      <div className="lists" data-testid={`${id}-todos`} data-count={shown.length}>
        {groups.map(({ list, todos: items }) => (
          <ListBlock key={list?.uid ?? 'none'} device={device} list={list} todos={items} />
        ))}
        {!todos.loading && !lists.loading && groups.length === 0 && <p className="empty">No lists. Add one above.</p>}
      </div>

      <Log entries={state.log} testid={`${id}-log`} onClear={() => device.clearLog()} />
    </section>
  )
}

/** One list: its name (click to rename), its delete button (its todos go with it), its todos. */
function ListBlock({ device, list, todos }: { device: Device; list: List | null; todos: Todo[] }) {
  const [editing, setEditing] = useState(false)
  const open = useRef(false)
  const commit = (value: string) => {
    if (!open.current || list === null) return
    open.current = false
    setEditing(false)
    const name = value.trim()
    if (name && name !== list.name) void device.attempt(() => device.renameList(list.uid, name))
  }
  return (
    <section className="list" data-testid={`${device.id}-list`} data-uid={list?.uid ?? ''} data-name={list?.name ?? ''}>
      <header className="list-title">
        {list === null ? (
          <span className="list-name is-none">No list</span>
        ) : editing ? (
          <input
            className="title-input"
            autoFocus
            defaultValue={list.name}
            data-testid="list-name-input"
            aria-label="Edit list name"
            maxLength={80}
            onKeyDown={(event) => {
              if (event.key === 'Enter') commit(event.currentTarget.value)
              if (event.key === 'Escape') {
                open.current = false
                setEditing(false)
              }
            }}
            onBlur={(event) => commit(event.currentTarget.value)}
          />
        ) : (
          <button
            type="button"
            className="list-name"
            data-testid="list-name"
            title="Click to rename"
            onClick={() => {
              open.current = true
              setEditing(true)
            }}
          >
            {list.name}
          </button>
        )}
        <span className="list-count">{todos.length}</span>
        {list !== null && (
          <button
            type="button"
            className="icon-btn delete"
            aria-label={`Delete the list “${list.name}” and its todos`}
            data-testid="list-delete"
            onClick={() => void device.attempt(() => device.removeList(list.uid))}
          >
            <TrashIcon />
          </button>
        )}
      </header>
      <ul className="todos">
        {todos.map((row) => (
          <TodoItem key={row.uid} device={device} row={row} />
        ))}
        {todos.length === 0 && <li className="empty">Nothing to do in this list.</li>}
      </ul>
    </section>
  )
}

function TodoItem({ device, row }: { device: Device; row: Todo }) {
  const [editing, setEditing] = useState(false)
  // The checkbox answers the click at once; the live query confirms a moment later.
  const [pendingDone, setPendingDone] = useState<{ from: boolean; to: boolean } | null>(null)
  if (pendingDone !== null && pendingDone.from !== row.done) setPendingDone(null) // confirmed (or changed elsewhere)
  const done = pendingDone !== null && pendingDone.from === row.done ? pendingDone.to : row.done
  // Enter unmounts the input, which may fire its blur too: commit once per edit.
  const open = useRef(false)
  const startEditing = () => {
    open.current = true
    setEditing(true)
  }
  const cancel = () => {
    open.current = false
    setEditing(false)
  }
  const commit = (value: string) => {
    if (!open.current) return
    open.current = false
    setEditing(false)
    const text = value.trim()
    if (text && text !== row.title) void device.attempt(() => device.rename(row.uid, text))
  }
  return (
    <li
      className={`todo ${row.done ? 'is-done' : ''}`}
      data-testid={`${device.id}-todo`}
      data-uid={row.uid}
      data-title={row.title}
      data-done={String(row.done)}
    >
      <input
        type="checkbox"
        className="check"
        checked={done}
        aria-label={done ? `Mark “${row.title}” as not done` : `Mark “${row.title}” as done`}
        data-testid="todo-done"
        onChange={(event) => {
          const to = event.currentTarget.checked
          setPendingDone({ from: row.done, to })
          void device.attempt(() => device.setDone(row.uid, to)).then((ok) => ok || setPendingDone(null))
        }}
      />
      {editing ? (
        <input
          className="title-input"
          autoFocus
          defaultValue={row.title}
          data-testid="todo-title-input"
          aria-label="Edit title"
          maxLength={200}
          onKeyDown={(event) => {
            if (event.key === 'Enter') commit(event.currentTarget.value)
            if (event.key === 'Escape') cancel()
          }}
          onBlur={(event) => commit(event.currentTarget.value)}
        />
      ) : (
        <button type="button" className="title" data-testid="todo-title" title="Click to edit" onClick={startEditing}>
          {row.title}
        </button>
      )}
      {row.edited_by && !editing && <span className="by">{row.edited_by}</span>}
      <button
        type="button"
        className="icon-btn delete"
        aria-label={`Delete “${row.title}”`}
        data-testid="todo-delete"
        onClick={() => void device.attempt(() => device.remove(row.uid))}
      >
        <TrashIcon />
      </button>
    </li>
  )
}

function Log({ entries, testid, onClear }: { entries: LogEntry[]; testid: string; onClear: () => void }) {
  return (
    <div className="log">
      <div className="log-top">
        <h3>Sync log</h3>
        {entries.length > 0 && (
          <button type="button" className="link-btn" onClick={onClear}>
            Clear
          </button>
        )}
      </div>
      <ol data-testid={testid}>
        {entries.length === 0 && <li className="empty">Nothing yet. Syncs, conflicts and evictions show up here.</li>}
        {entries.map((entry) => (
          <li key={entry.id} className={`log-entry log-${entry.kind}`} data-testid={`${testid}-entry`} data-kind={entry.kind}>
            <div className="log-head">
              <span className="log-title">{entry.title}</span>
              <time>{clockTime(entry.at)}</time>
            </div>
            {entry.lines.map((line, i) => (
              <div key={i} className={`log-line ${line.tone ? `tone-${line.tone}` : ''}`}>
                {line.text}
              </div>
            ))}
          </li>
        ))}
      </ol>
    </div>
  )
}
