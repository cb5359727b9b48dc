/**
 * T30 — model-based testing of a relational pair (`fc.commands`, as T01's model.ts): 2–4 real clients
 * on a `lists`/`todos` pair with a real foreign key (ON DELETE cascade or set null), random sequences of:
 * create a list; create todos of a list the client holds, alone or in one `client.transaction` (with a
 * new list, child first or parent first, or of a held list); edit a todo (title, move to another held
 * list, or — under set null — to no list); delete a list; delete a todo; a list deleted on one device
 * while another, offline, creates or edits a todo of it; a todo written against a list the client holds
 * as deleted (PD3: refused at once, nothing written); offline, online, sync, subscribe, unsubscribe
 * (one scope on the child table only) and waits letting the background syncs interleave. After every
 * command: the server's rows satisfy the foreign key and every answered unit is all or nothing with
 * justified refusals (relational-checks.ts); after healing (relational-campaign.ts): transactions,
 * landings, I16, I1.
 */
import fc from 'fast-check'
import { checkServerKeys, checkUnits } from './relational-checks.js'
import { REL_SCOPES, RelCluster, type RelClient } from './relational-cluster.js'
import { TAGS, type OnDelete } from './relational-schema.js'

export interface Model {
  clients: number
  online: boolean[]
  subscriptions: Set<number>[]
}

export interface Real {
  cluster: RelCluster
  violations: string[]
  /** Every uid a client created, with its table. */
  created: Map<string, { client: string; table: 'lists' | 'todos' }>
  onDelete: OnDelete
}

type Cmd = fc.AsyncCommand<Model, Real, boolean>
export const MAX_CLIENTS = 4

const clientOf = (real: Real, i: number): RelClient => real.cluster.clients[i % real.cluster.clients.length] as RelClient
const pickOf = <T>(items: readonly T[], pick: number): T | undefined => (items.length === 0 ? undefined : items[pick % items.length])

/** Lets `waitMs` of virtual time pass, then the per-command checks. */
export async function after(real: Real, waitMs: number): Promise<void> {
  if (waitMs > 0) await real.cluster.vt.runFor(waitMs)
  real.violations.push(...(await checkServerKeys(real.cluster)))
  real.violations.push(...(await checkUnits(real.cluster)))
}

/** Runs a local write; a `PARENT_DELETED` refusal is fine only when the client holds the parent as deleted now (PD3). */
async function write<T>(real: Real, c: RelClient, parent: string | null, what: string, run: () => Promise<T>): Promise<T | null> {
  try {
    return await real.cluster.vt.await(run(), 60_000, what)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'PARENT_DELETED' && parent !== null) {
      const held = await real.cluster.vt.await(c.lists.record(parent))
      if (held !== null && held.deleted_at !== null) return null
    }
    real.violations.push(`${c.name}: ${what} failed: ${String(error)}`)
    return null
  }
}

async function createTodo(real: Real, c: RelClient, list: string, tag: string): Promise<void> {
  const title = real.cluster.value(c)
  const uid = await write(real, c, list, `create todo of ${list}`, () => c.todos.create({ list_id: list, title, tag }))
  if (uid !== null) real.created.set(uid, { client: c.name, table: 'todos' })
}

/** A UUIDv7 for a list a transaction names before creating it: the virtual time, then the run's seed (a seed replays). */
function seededUid(cluster: RelCluster): string {
  const hex = cluster.vt.now().toString(16).padStart(12, '0') + Array.from({ length: 20 }, () => cluster.rng.int(16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`
}

export class CreateListCmd implements Cmd {
  constructor(readonly client: number, readonly waitMs: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const c = clientOf(real, this.client)
    const name = real.cluster.value(c)
    const uid = await write(real, c, null, 'create list', () => c.lists.create({ name }))
    if (uid !== null) {
      real.created.set(uid, { client: c.name, table: 'lists' })
      real.cluster.parents.add(uid)
    }
    await after(real, this.waitMs)
  }
  toString = (): string => `createList(c${this.client}) +${this.waitMs}ms`
}

export class CreateTodoCmd implements Cmd {
  constructor(readonly client: number, readonly pick: number, readonly tag: string, readonly waitMs: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const c = clientOf(real, this.client)
    const list = pickOf(await real.cluster.liveParents(c), this.pick)
    if (list !== undefined) await createTodo(real, c, list, this.tag)
    await after(real, this.waitMs)
  }
  toString = (): string => `createTodo(c${this.client}, list #${this.pick}, ${this.tag}) +${this.waitMs}ms`
}

/**
 * One `client.transaction`: `new` — a new list and `n` todos of it (todos first or list first); `held` —
 * `n` todos of a list the client holds; `mixed` — a new list and its todo with a todo of a held list
 * (first or last): refused whole, `UNIT_REFUSED` beside the culprit, when the held list was deleted.
 */
class TransactionCmd implements Cmd {
  constructor(readonly client: number, readonly mode: 'new' | 'held' | 'mixed', readonly childFirst: boolean, readonly n: number, readonly pick: number, readonly waitMs: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const { cluster } = real
    const c = clientOf(real, this.client)
    const held = this.mode === 'new' ? undefined : pickOf(await cluster.liveParents(c), this.pick)
    if (this.mode !== 'new' && held === undefined) return after(real, this.waitMs)
    const titles = Array.from({ length: this.mode === 'mixed' ? 1 : this.n }, () => cluster.value(c))
    const name = cluster.value(c)
    const heldTitle = cluster.value(c)
    const tag = (i: number): string => TAGS[(this.pick + i) % TAGS.length] as string
    const result = await write(real, c, held ?? null, 'transaction', () =>
      c.client.transaction(async (tx) => {
        const uids: string[] = []
        const heldTodo = async (): Promise<void> => {
          if (this.mode === 'mixed') uids.push(await tx.table('todos').create({ list_id: held, title: heldTitle, tag: tag(1) }))
        }
        if (this.childFirst) await heldTodo()
        // A new list's uid is chosen here, so that a todo written before it can name it.
        const list = this.mode === 'held' ? (held as string) : seededUid(cluster)
        if (this.mode !== 'held' && !this.childFirst) uids.push(await tx.table('lists').create({ uid: list, name }))
        for (const [i, title] of titles.entries()) uids.push(await tx.table('todos').create({ list_id: list, title, tag: tag(i) }))
        if (this.mode !== 'held' && this.childFirst) uids.push(await tx.table('lists').create({ uid: list, name }))
        if (!this.childFirst) await heldTodo()
        return { list, uids }
      }),
    )
    if (result !== null) {
      const kind = this.mode === 'new' ? 'new-parent' : this.mode === 'held' ? 'children' : 'mixed'
      cluster.transactions.push({ client: c.name, kind, parent: held ?? result.list, newList: this.mode === 'held' ? null : result.list, uids: result.uids, split: false })
      for (const uid of result.uids) real.created.set(uid, { client: c.name, table: uid === result.list && this.mode !== 'held' ? 'lists' : 'todos' })
      if (this.mode !== 'held') cluster.parents.add(result.list)
    }
    await after(real, this.waitMs)
  }
  toString = (): string => `transaction(c${this.client}, ${this.mode === 'held' ? `list #${this.pick}, ${this.n} todos` : `${this.mode} list, ${this.childFirst ? 'todos first' : 'list first'}, ${this.mode === 'mixed' ? `+ a todo of list #${this.pick}` : `${this.n} todos`}`}) +${this.waitMs}ms`
}

class EditTodoCmd implements Cmd {
  constructor(readonly client: number, readonly pick: number, readonly move: number | null, readonly waitMs: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const { cluster } = real
    const c = clientOf(real, this.client)
    const todo = pickOf((await cluster.vt.await(c.todos.findMany({}))).map((r) => r.uid).sort(), this.pick)
    if (todo === undefined) return after(real, this.waitMs)
    // move: null keeps its list; -1 clears it (set null only); else another list the client holds.
    const target = this.move === null ? undefined : this.move < 0 ? (real.onDelete === 'set null' ? null : undefined) : pickOf(await cluster.liveParents(c), this.move)
    await cluster.noteRewrite(c, todo)
    const patch = { title: cluster.value(c), ...(target === undefined ? {} : { list_id: target }) }
    const current = await cluster.vt.await(c.todos.record(todo))
    const parent = typeof patch.list_id === 'string' ? patch.list_id : ((current?.row?.['list_id'] as string | null | undefined) ?? null)
    await write(real, c, parent, `edit todo ${todo}`, () => c.todos.update(todo, patch))
    await after(real, this.waitMs)
  }
  toString = (): string => `editTodo(c${this.client}, #${this.pick}, move ${String(this.move)}) +${this.waitMs}ms`
}

class DeleteCmd implements Cmd {
  constructor(readonly client: number, readonly table: 'lists' | 'todos', readonly pick: number, readonly waitMs: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const { cluster } = real
    const c = clientOf(real, this.client)
    const handle = this.table === 'lists' ? c.lists : c.todos
    const rows: Promise<Array<{ uid: string }>> = handle.findMany({})
    const uid = pickOf((await cluster.vt.await(rows)).map((r) => r.uid).sort(), this.pick)
    if (uid !== undefined) {
      await cluster.noteRewrite(c, uid)
      await write(real, c, null, `delete ${this.table} ${uid}`, () => handle.delete(uid))
    }
    await after(real, this.waitMs)
  }
  toString = (): string => `delete(c${this.client}, ${this.table} #${this.pick}) +${this.waitMs}ms`
}

/**
 * A list deleted on one device while another, offline, writes a todo of it (creates one, or edits one it
 * holds): the writer goes offline, the deleter deletes and pushes, the writer writes; it comes back online
 * later (an Online command, or the heal).
 */
class DeletedElsewhereCmd implements Cmd {
  constructor(readonly writer: number, readonly deleter: number, readonly pick: number, readonly edit: boolean, readonly waitMs: number) {}
  check = (m: Model): boolean => this.writer % m.clients !== this.deleter % m.clients
  async run(m: Model, real: Real): Promise<void> {
    const { cluster } = real
    const w = clientOf(real, this.writer)
    const d = clientOf(real, this.deleter)
    const mine = new Set(await cluster.liveParents(w))
    const list = pickOf((await cluster.liveParents(d)).filter((u) => mine.has(u)), this.pick)
    if (list === undefined) return after(real, this.waitMs)
    m.online[this.writer % m.clients] = false
    cluster.goOffline(w)
    await cluster.noteRewrite(d, list)
    await write(real, d, null, `delete list ${list}`, () => d.lists.delete(list))
    await cluster.vt.runFor(this.waitMs)
    const todo = this.edit ? pickOf((await cluster.vt.await(w.todos.findMany({ list_id: list }))).map((r) => r.uid).sort(), this.pick) : undefined
    if (todo !== undefined) {
      await cluster.noteRewrite(w, todo)
      await write(real, w, list, `edit todo ${todo} of a list deleted elsewhere`, () => w.todos.update(todo, { title: cluster.value(w) }))
    } else await createTodo(real, w, list, TAGS[this.pick % TAGS.length] as string)
    await after(real, 0)
  }
  toString = (): string => `deletedElsewhere(writer c${this.writer}, deleter c${this.deleter}, list #${this.pick}, ${this.edit ? 'edit' : 'create'}) +${this.waitMs}ms`
}

/** PD3: a todo written against a list this client holds as deleted is refused at once, and nothing is written. */
class WriteUnderDeletedCmd implements Cmd {
  constructor(readonly client: number, readonly pick: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    const { cluster } = real
    const c = clientOf(real, this.client)
    const deleted: string[] = []
    for (const uid of [...cluster.parents].sort()) {
      const r = await cluster.vt.await(c.lists.record(uid))
      if (r !== null && r.deleted_at !== null) deleted.push(uid)
    }
    const list = pickOf(deleted, this.pick)
    if (list === undefined) return after(real, 0)
    const before = await cluster.vt.await(c.client.pendingCount())
    const count = (await cluster.vt.await(c.todos.findMany({}))).length
    let code: string | undefined
    try {
      await cluster.vt.await(c.todos.create({ list_id: list, title: cluster.value(c), tag: 'x' }))
    } catch (error) {
      code = (error as { code?: string }).code
    }
    if (code !== 'PARENT_DELETED') real.violations.push(`PD3: ${c.name} created a todo of list ${list}, which it holds as deleted (${code ?? 'taken'})`)
    const now = await cluster.vt.await(c.client.pendingCount())
    if (now !== before || (await cluster.vt.await(c.todos.findMany({}))).length !== count) real.violations.push(`PD3: ${c.name}'s refused write left something written`)
    await after(real, 0)
  }
  toString = (): string => `writeUnderDeleted(c${this.client}, #${this.pick})`
}

class NetworkCmd implements Cmd {
  constructor(readonly client: number, readonly kind: 'sync' | 'offline' | 'online') {}
  check = (m: Model): boolean => (this.kind === 'online' ? m.online[this.client % m.clients] === false : m.online[this.client % m.clients] === true)
  async run(m: Model, real: Real): Promise<void> {
    const c = clientOf(real, this.client)
    if (this.kind === 'sync') await real.cluster.sync(c)
    else {
      m.online[this.client % m.clients] = this.kind === 'online'
      if (this.kind === 'online') real.cluster.goOnline(c)
      else real.cluster.goOffline(c)
    }
    await after(real, 0)
  }
  toString = (): string => `${this.kind}(c${this.client})`
}

class ScopeCmd implements Cmd {
  constructor(readonly client: number, readonly scope: number, readonly add: boolean) {}
  check = (m: Model): boolean => {
    const subs = m.subscriptions[this.client % m.clients] as Set<number>
    return this.add ? !subs.has(this.scope) : subs.has(this.scope) && subs.size > 1
  }
  async run(m: Model, real: Real): Promise<void> {
    const subs = m.subscriptions[this.client % m.clients] as Set<number>
    const c = clientOf(real, this.client)
    if (this.add) {
      subs.add(this.scope)
      real.cluster.subscribe(c, this.scope)
    } else {
      subs.delete(this.scope)
      real.cluster.unsubscribe(c, this.scope)
    }
    await after(real, 0)
  }
  toString = (): string => `${this.add ? 'subscribe' : 'unsubscribe'}(c${this.client}, ${JSON.stringify(REL_SCOPES[this.scope])})`
}

class WaitCmd implements Cmd {
  constructor(readonly ms: number) {}
  check = (): boolean => true
  async run(_m: Model, real: Real): Promise<void> {
    await after(real, this.ms)
  }
  toString = (): string => `wait(${this.ms}ms)`
}

const clientArb = fc.nat({ max: MAX_CLIENTS - 1 })
const waitArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 }))
const scopeArb = fc.nat({ max: REL_SCOPES.length - 1 })

export const relationalCommands = fc.commands(
  [
    fc.tuple(clientArb, waitArb).map(([c, w]) => new CreateListCmd(c, w)),
    fc.tuple(clientArb, fc.nat(), fc.constantFrom(...TAGS), waitArb).map(([c, p, t, w]) => new CreateTodoCmd(c, p, t, w)),
    fc.tuple(clientArb, fc.constantFrom('new' as const, 'held' as const, 'mixed' as const), fc.boolean(), fc.integer({ min: 1, max: 2 }), fc.nat(), waitArb).map(([c, mode, cf, n, p, w]) => new TransactionCmd(c, mode, cf, n, p, w)),
    fc.tuple(clientArb, fc.constantFrom('new' as const, 'held' as const, 'mixed' as const), fc.boolean(), fc.integer({ min: 1, max: 2 }), fc.nat(), waitArb).map(([c, mode, cf, n, p, w]) => new TransactionCmd(c, mode, cf, n, p, w)),
    fc.tuple(clientArb, fc.nat(), fc.option(fc.integer({ min: -1, max: 50 }), { nil: null }), waitArb).map(([c, p, mv, w]) => new EditTodoCmd(c, p, mv, w)),
    fc.tuple(clientArb, fc.constantFrom('lists' as const, 'todos' as const), fc.nat(), waitArb).map(([c, t, p, w]) => new DeleteCmd(c, t, p, w)),
    fc.tuple(clientArb, clientArb, fc.nat(), fc.boolean(), waitArb).map(([a, b, p, e, w]) => new DeletedElsewhereCmd(a, b, p, e, w)),
    fc.tuple(clientArb, clientArb, fc.nat(), fc.boolean(), waitArb).map(([a, b, p, e, w]) => new DeletedElsewhereCmd(a, b, p, e, w)),
    fc.tuple(clientArb, fc.nat()).map(([c, p]) => new WriteUnderDeletedCmd(c, p)),
    fc.tuple(clientArb, fc.constantFrom('sync' as const, 'offline' as const, 'online' as const)).map(([c, k]) => new NetworkCmd(c, k)),
    fc.tuple(clientArb, scopeArb, fc.boolean()).map(([c, s, add]) => new ScopeCmd(c, s, add)),
    fc.integer({ min: 50, max: 2_000 }).map((ms) => new WaitCmd(ms)),
  ],
  { maxCommands: 40, size: 'max' },
)

