/**
 * The recorded history of a run (Jepsen-style): every client operation as `invoke` then `ok` or `fail`,
 * with the unique value it wrote (`clientId:seq`) and, for local writes, the stamp the write got (read
 * back from the client's store). The checkers judge from this history, the wire history of the fault
 * network, and the final stores — never from the implementation's internals.
 */

export type OpKind = 'create' | 'update' | 'delete' | 'sync' | 'subscribe' | 'unsubscribe' | 'offline' | 'online'

export interface HistoryEntry {
  index: number
  process: string
  type: 'invoke' | 'ok' | 'fail'
  f: OpKind
  at: number
  uid?: string
  value?: string
  /** For `ok` local writes: the record's version right after the write (a lower bound of what it wrote). */
  stamp?: string
  error?: string
}

export interface Invocation {
  ok(fields?: Partial<Pick<HistoryEntry, 'uid' | 'value' | 'stamp'>>): void
  fail(error: unknown): void
}

export class History {
  readonly entries: HistoryEntry[] = []
  private readonly pending = new Set<HistoryEntry>()
  constructor(private readonly now: () => number) {}

  invoke(process: string, f: OpKind, fields: Partial<Pick<HistoryEntry, 'uid' | 'value'>> = {}): Invocation {
    const base = { process, f, ...fields }
    const invoked: HistoryEntry = { index: this.entries.length, type: 'invoke', at: this.now(), ...base }
    this.entries.push(invoked)
    this.pending.add(invoked)
    let done = false
    return {
      ok: (more = {}) => {
        if (done) return
        done = true
        this.pending.delete(invoked)
        this.entries.push({ index: this.entries.length, type: 'ok', at: this.now(), ...base, ...more })
      },
      fail: (error) => {
        if (done) return
        done = true
        this.pending.delete(invoked)
        const message = error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error)
        this.entries.push({ index: this.entries.length, type: 'fail', at: this.now(), ...base, error: message })
      },
    }
  }

  /** Invocations with no `ok` or `fail` yet. */
  open(): HistoryEntry[] {
    return [...this.pending].sort((a, b) => a.index - b.index)
  }

  /** Completed local writes. */
  okWrites(): HistoryEntry[] {
    return this.entries.filter((e) => e.type === 'ok' && (e.f === 'create' || e.f === 'update' || e.f === 'delete'))
  }

  /** A short summary (counts per op and outcome) for reports. */
  summary(): string {
    const counts = new Map<string, number>()
    for (const e of this.entries) if (e.type !== 'invoke') counts.set(`${e.f}:${e.type}`, (counts.get(`${e.f}:${e.type}`) ?? 0) + 1)
    return [...counts].map(([k, v]) => `${k}=${v}`).join(' ')
  }
}
