/**
 * The two simulated devices. Each is a real lastword client with its own IndexedDB database, its own
 * online/offline switch (kept in localStorage, so a reload while offline stays offline) and its own log
 * of what each sync did. The panes read the rows, the status and the pending count through
 * @lastword/react's hooks; React reads the switch and the log through `useSyncExternalStore`. The
 * device also follows its rows itself, to log what arrived from elsewhere and for the conflict walkthrough.
 */
import { createSyncClient, type ClientStatus, type SyncClient, type SyncReport, type TableHandle } from '@lastword/client'
import type { DemoTables, List, Todo } from '../server/schema'
import descriptors from './lastword-tables.json'
import { errorText, plural, ruleText, stampTime } from './format'
import { MAX_LOG, fieldOf, loadLog, loadWritten, onlineKey, saveLog, saveWritten, sameField, takeLogId, type Field, type LogEntry, type LogLine } from './device-storage'

export type { LogEntry, LogLine }

export type { List, Todo }
export { errorText }
export type DeviceId = 'laptop' | 'phone'
export type Status = ClientStatus
export type { SyncReport }

export interface DeviceState {
  /** The switch: does the user want this device connected? */
  online: boolean
  log: LogEntry[]
}

export class Device {
  readonly client: SyncClient<DemoTables>
  readonly todos: TableHandle<Todo>
  readonly lists: TableHandle<List>
  private state: DeviceState
  private readonly listeners = new Set<() => void>()
  private readonly syncListeners = new Set<(report: SyncReport) => void>()
  private readonly titles = new Map<string, string>()
  /** What this device last did to each record, for "this device's … lost to …". */
  private readonly written: Map<string, string>
  private readonly deletedHere = new Set<string>()
  /** Live rows (null before the first local read) and the pending count, for the log and the walkthrough. */
  rows: Todo[] | null = null
  /** Live lists, creation order: a todo added without one goes to the first. */
  listRows: List[] = []
  pending = 0

  constructor(
    readonly id: DeviceId,
    readonly label: string,
  ) {
    const online = localStorage.getItem(onlineKey(id)) !== 'false'
    this.written = loadWritten(id)
    this.state = { online, log: loadLog(id) }
    // Typed by the server's tables (a type-only import), with their descriptors as data
    // (`describeTables`), so a device can write before it ever connects.
    this.client = createSyncClient<DemoTables>({ url: serverUrls(id), name: `lastword-demo-${id}`, autoConnect: online, tables: descriptors })
    this.todos = this.client.table('todos')
    this.lists = this.client.table('lists')

    this.client.on('pending', (pending) => {
      this.pending = pending
    })
    this.client.on('sync', (report) => this.onSync(report))
    // A todo refused for its deleted list leaves as the server's state, not as "a later delete" (logSync says why).
    this.client.on('edit', (e) => e.kind === 'rejected' && e.error.code === 'PARENT_DELETED' && this.deletedHere.add(e.uid))
    this.client.on('error', (error) => {
      this.addLog({ kind: 'error', title: 'Error', lines: [{ text: errorText(error), tone: 'error' }] })
    })
    // Live query of the whole table (uid order: UUIDv7, creation order); it also keeps the scope synced.
    this.todos.subscribe({}, (rows) => {
      const before = this.rows
      for (const row of rows) this.titles.set(row.uid, row.title)
      this.rows = rows
      if (before !== null) this.logRemote(before, rows)
    })
    this.lists.subscribe({}, (rows) => {
      for (const row of rows) this.titles.set(row.uid, row.name)
      this.listRows = rows
    })
    void this.refreshPending()
    if (!online) {
      this.addLog({
        kind: 'status',
        title: 'Page loaded, still offline',
        lines: [{ text: 'The switch is remembered; edits come back from IndexedDB.', tone: 'muted' }],
      })
    }
  }

  // --- the store React reads -------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  getState = (): DeviceState => this.state

  get status(): Status {
    return this.client.status
  }

  /** Called with every completed sync (the conflict walkthrough listens). */
  onSyncReport(listener: (report: SyncReport) => void): () => void {
    this.syncListeners.add(listener)
    return () => this.syncListeners.delete(listener)
  }

  private set(patch: Partial<DeviceState>): void {
    this.state = { ...this.state, ...patch }
    for (const listener of this.listeners) listener()
  }

  addLog(entry: Omit<LogEntry, 'id' | 'at'>): void {
    const log = [{ ...entry, id: takeLogId(), at: Date.now() }, ...this.state.log].slice(0, MAX_LOG)
    this.set({ log })
    saveLog(this.id, log)
  }

  clearLog(): void {
    this.set({ log: [] })
    saveLog(this.id, [])
  }

  private async refreshPending(): Promise<void> {
    try {
      this.pending = await this.client.pendingCount()
    } catch {
      // closed
    }
  }

  titleOf(uid: string): string {
    return this.titles.get(uid) ?? uid.slice(-8)
  }

  // --- actions ---------------------------------------------------------------------------------------

  setOnline(online: boolean): void {
    if (online === this.state.online) return
    localStorage.setItem(onlineKey(this.id), String(online))
    this.set({ online })
    this.addLog({
      kind: 'status',
      title: online ? 'Back online' : 'Went offline',
      lines: [
        {
          text: online
            ? this.pending > 0
              ? `Reconnecting to push ${plural(this.pending, 'pending change')}.`
              : 'Reconnecting.'
            : 'Edits are kept in IndexedDB until the device reconnects.',
          tone: 'muted',
        },
      ],
    })
    if (online) this.client.connect()
    else this.client.disconnect()
  }

  /** Runs a UI action; a refusal (a record deleted meanwhile, a table not known yet…) goes to the log. */
  attempt(action: () => Promise<unknown>): Promise<boolean> {
    return action().then(
      () => true,
      (error: unknown) => {
        this.addLog({ kind: 'error', title: 'Not saved', lines: [{ text: errorText(error), tone: 'error' }] })
        return false
      },
    )
  }

  async create(title: string, list: string | null = this.listRows[0]?.uid ?? null): Promise<string> {
    const uid = await this.todos.create({ title, done: false, edited_by: this.label, list_uid: list })
    this.local(`Created “${title}”${list === null ? '' : ` in “${this.titleOf(list)}”`}`)
    return uid
  }

  async createList(name: string): Promise<string> {
    const uid = await this.lists.create({ name, edited_by: this.label })
    this.local(`Created the list “${name}”`)
    return uid
  }

  async renameList(uid: string, name: string): Promise<void> {
    const before = this.titleOf(uid)
    await this.lists.update(uid, { name, edited_by: this.label })
    this.local(`Renamed the list “${before}” → “${name}”`)
  }

  /** Deletes a list; its todos on this device go in the same local transaction (onDelete: 'cascade'). */
  async removeList(uid: string): Promise<void> {
    const name = this.titleOf(uid)
    const todos = (this.rows ?? []).filter((row) => row.list_uid === uid)
    for (const todo of todos) this.deletedHere.add(todo.uid)
    await this.lists.delete(uid)
    this.local(`Deleted the list “${name}”${todos.length > 0 ? ` and its ${plural(todos.length, 'todo')}` : ''}`)
  }

  async rename(uid: string, title: string): Promise<void> {
    const before = this.titleOf(uid)
    this.remember(uid, `edit “${title}”`)
    await this.todos.update(uid, { title, edited_by: this.label })
    this.local(`Renamed “${before}” → “${title}”`)
  }

  async setDone(uid: string, done: boolean): Promise<void> {
    this.remember(uid, `${done ? 'check' : 'uncheck'} of “${this.titleOf(uid)}”`)
    await this.todos.update(uid, { done, edited_by: this.label })
    this.local(`${done ? 'Checked' : 'Unchecked'} “${this.titleOf(uid)}”`)
  }

  async remove(uid: string): Promise<void> {
    const title = this.titleOf(uid)
    this.remember(uid, `delete of “${title}”`)
    this.deletedHere.add(uid)
    await this.todos.delete(uid)
    this.local(`Deleted “${title}”`)
  }

  /** Remembers this device's latest edit of `uid`, described as `edit “…”`, `check of “…”`, `delete of “…”`. */
  private remember(uid: string, what: string): void {
    this.written.delete(uid)
    this.written.set(uid, what)
    saveWritten(this.id, this.written)
  }

  private local(title: string): void {
    this.addLog({
      kind: 'local',
      title,
      lines: this.client.status === 'offline' ? [{ text: 'offline — queued', tone: 'muted' }] : [],
    })
    void this.refreshPending()
  }

  // --- what arrived from elsewhere ----------------------------------------------------------------

  /**
   * Logs the changes the live query shows that this device did not make (pulled or realtime), with the
   * time of the write that brought each (its stamp), and says so when it replaced this device's own edit.
   */
  private logRemote(before: Todo[], after: Todo[]): void {
    const old = new Map(before.map((row) => [row.uid, row]))
    const now = new Set(after.map((row) => row.uid))
    const changes: Array<{ uid: string; text: string; deleted: boolean; field: Field }> = []
    for (const row of after) {
      const prev = old.get(row.uid)
      if (row.edited_by === this.label && this.written.has(row.uid)) continue // this device's own write
      const by = row.edited_by ? ` by ${row.edited_by}` : ''
      if (!prev) {
        if (row.edited_by !== this.label) changes.push({ uid: row.uid, text: `Added “${row.title}”${by}`, deleted: false, field: 'record' })
        continue
      }
      if (prev.title !== row.title) changes.push({ uid: row.uid, text: `“${prev.title}” → “${row.title}”${by}`, deleted: false, field: 'title' })
      if (prev.done !== row.done) {
        changes.push({ uid: row.uid, text: `${row.done ? 'Checked' : 'Unchecked'} “${row.title}”${by}`, deleted: false, field: 'done' })
      }
    }
    for (const row of before) {
      if (!now.has(row.uid) && !this.deletedHere.has(row.uid)) changes.push({ uid: row.uid, text: `Deleted “${row.title}”`, deleted: true, field: 'record' })
    }
    if (changes.length === 0) return
    void (async () => {
      const lines: LogLine[] = []
      for (const change of changes) {
        let when = ''
        try {
          const record = await this.todos.record(change.uid)
          const stamp = record ? (change.deleted ? record.deleted_at : record.updated_at) : null
          if (stamp) when = ` at ${stampTime(stamp)}`
        } catch {
          // closed
        }
        let mine = this.written.get(change.uid)
        // The todos table merges field by field: another device's change of another field leaves this
        // device's edit in place (both are kept); only the same field, or a delete, replaces it.
        if (mine !== undefined && !sameField(fieldOf(mine), change.field)) {
          lines.push({ text: `${change.text}${when} — another field: merged with this device's edit` })
          continue
        }
        // "… — later than this device's edit, so it wins" (the title is already on the line)
        const quoted = mine ? /“[^”]*”$/.exec(mine)?.[0] : undefined
        if (mine && quoted && change.text.includes(quoted)) mine = mine.slice(0, -quoted.length).replace(/ of $/, '').trimEnd()
        lines.push(
          mine
            ? { text: `${change.text}${when} — later than this device's ${mine}, so it wins`, tone: 'lose' }
            : { text: `${change.text}${when}`, tone: change.deleted ? 'lose' : undefined },
        )
      }
      this.addLog({ kind: 'remote', title: 'Received from the server', lines })
    })()
  }

  // --- what a sync did ---------------------------------------------------------------------------------

  private onSync(report: SyncReport): void {
    void this.refreshPending()
    for (const listener of this.syncListeners) listener(report)
    const nothing =
      report.pushed === 0 &&
      report.pulled === 0 &&
      report.superseded.length === 0 &&
      report.rejected.length === 0 &&
      report.evicted.length === 0 &&
      report.purged.length === 0
    if (nothing && report.mode !== 'full') return
    void this.logSync(report)
  }

  private async logSync(report: SyncReport): Promise<void> {
    // Read the winners as they are stored now (the live query may not have re-rendered yet).
    const current = new Map<string, Todo>()
    if (report.superseded.length > 0) {
      try {
        for (const row of await this.todos.findMany()) current.set(row.uid, row)
      } catch {
        // closed: the log line falls back to what the device last showed
      }
    }
    const sent = report.pushed + report.superseded.length + report.rejected.length
    const counts = [`pushed ${sent}`]
    if (report.superseded.length) counts.push(`${report.superseded.length} superseded`)
    if (report.rejected.length) counts.push(`${report.rejected.length} rejected`)
    counts.push(`pulled ${report.pulled}`)
    if (report.evicted.length) counts.push(`evicted ${report.evicted.length}`)
    if (report.purged.length) counts.push(`purged ${report.purged.length}`)
    const lines: LogLine[] = []
    for (const s of report.superseded) {
      const mine = this.written.get(s.uid)
      const winner = current.get(s.uid)
      const what = `This device's ${mine ?? `change to “${this.titleOf(s.uid)}”`}`
      const beaten = winner
        ? `“${winner.title}”${winner.edited_by ? ` by ${winner.edited_by}` : ''}`
        : 'a later delete'
      lines.push({
        text:
          `${what} lost to ${beaten}` +
          (s.winnerStamp ? `, written at ${stampTime(s.winnerStamp)}` : '') +
          (s.rule ? ` — ${ruleText(s.rule)}` : ''),
        tone: 'lose',
      })
    }
    for (const r of report.rejected) {
      // PARENT_DELETED (core's SPEC.md section 4a): the list's deletion won; the todo is gone here too.
      const text =
        r.error.code === 'PARENT_DELETED'
          ? `This device's ${this.written.get(r.uid) ?? `edit of “${this.titleOf(r.uid)}”`} was refused: its list was deleted on another device, so the todo is gone`
          : `Rejected “${this.titleOf(r.uid)}”: ${errorText(r.error)}`
      lines.push({ text, tone: 'error' })
    }
    for (const uid of report.evicted) lines.push({ text: `Evicted “${this.titleOf(uid)}”: it left this device's scope`, tone: 'evict' })
    for (const uid of report.purged) {
      lines.push({ text: `Removed “${this.titleOf(uid)}”: deleted on the server and purged after retention`, tone: 'evict' })
    }
    if (report.restamped.length) {
      lines.push({ text: `${plural(report.restamped.length, 'record')} re-stamped: this device's clock was ahead of the server's`, tone: 'muted' })
    }
    this.addLog({
      kind: 'sync',
      title: `${report.mode === 'full' ? 'Full' : 'Incremental'} sync · ${counts.join(' · ')}`,
      lines: [...lines, { text: `${Math.round(report.durationMs)} ms`, tone: 'muted' }],
    })
  }
}

export const devices: Record<DeviceId, Device> = {
  laptop: new Device('laptop', 'Laptop'),
  phone: new Device('phone', 'Phone'),
}

/**
 * The sync server(s) a device talks to: this page's origin, or — to show several server nodes — the
 * URLs in the query string, one parameter per device, comma-separated for a list the device rotates
 * through (`?laptop=http://localhost:3001&phone=http://localhost:3002,http://localhost:3003`).
 */
function serverUrls(id: DeviceId): string | string[] {
  const param = new URLSearchParams(location.search).get(id)
  const urls = (param ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => /^https?:\/\//.test(u))
  return urls.length === 0 ? location.origin : urls
}

