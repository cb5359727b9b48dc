/**
 * The change feed's rules on a scripted engine (a version row, a change log, the commit signal), with
 * manual timers: it reads the log only up to a version row it has seen (a rev taken by a transaction
 * not committed yet is not under it: read once it is, never skipped); a rev reaches the fan-out once,
 * whether this node's commit, another node's publication or the log brought it first; with a cluster
 * adapter a rev waits its grace for the publication; a change read back with its record's later state
 * delivers that later rev too.
 */
import { formatStamp } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import type { CommitWatchOptions, Engine } from '../../src/engine/index.js'
import { createChangeFeed, type FeedSource } from '../../src/feed/index.js'
import type { CommittedChange } from '../../src/types.js'
import { manualTimers } from './fixture.js'

const stamp = formatStamp({ ms: 1_700_000_000_000, counter: 0, node: '0123456789abcdef' })

function change(rev: number, uid = `u${rev}`): CommittedChange {
  return { table: 'todos', uid, rev, meta: { uid, created_at: stamp, updated_at: stamp, deleted_at: null }, before: null, after: { title: uid }, lastImage: null }
}

/** A scripted database: the log may hold revs the version row has not passed yet (not committed). */
function scripted() {
  const log: Array<{ rev: number; change: CommittedChange }> = []
  let versionRow = 0
  let watch: CommitWatchOptions | undefined
  const reads: Array<[number, number]> = []
  const engine = {
    currentRev: async () => versionRow,
    async changesSince(after: number, upTo: number, limit: number) {
      reads.push([after, upTo])
      const entries = log.filter((e) => e.rev > after && e.rev <= upTo).slice(0, limit)
      return { entries, scannedTo: entries.length < limit ? upTo : (entries[entries.length - 1]?.rev ?? upTo) }
    },
    watchCommits(options: CommitWatchOptions) {
      watch = options
      return { close: async () => undefined }
    },
  } as unknown as Engine
  return {
    engine,
    reads,
    /** Logs a change of rev `rev` (its record's state may be a later rev's). */
    log: (rev: number, state: CommittedChange = change(rev)) => void log.push({ rev, change: state }),
    commitTo: (rev: number) => void (versionRow = rev),
    signal: (rev?: number) => watch?.onCommit(rev),
  }
}

function feedOn(db: ReturnType<typeof scripted>, graceMs = 0) {
  const timers = manualTimers()
  const delivered: Array<{ source: FeedSource; revs: number[] }> = []
  const feed = createChangeFeed({
    engine: db.engine,
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    options: { timers },
    deliver: (changes, _origin, source) => void delivered.push({ source, revs: changes.map((c) => c.rev) }),
  })
  feed.setGrace(graceMs)
  const revs = () => delivered.flatMap((d) => d.revs)
  return { feed, timers, delivered, revs }
}

describe('the change feed', () => {
  it('reads the log only up to the version row it has seen: a rev not committed yet is read once it is, never skipped', async () => {
    const db = scripted()
    const { feed, revs } = feedOn(db)
    feed.startRealtime()
    await feed.idle()
    db.log(1)
    db.log(2)
    db.log(3) // taken, in the log of a transaction that has not committed
    db.commitTo(2)
    db.signal(2)
    await feed.idle()
    expect(revs()).toEqual([1, 2])
    expect(db.reads.every(([, upTo]) => upTo <= 2)).toBe(true)
    db.commitTo(3)
    db.signal() // a signal without its rev: the feed reads the version row
    await feed.idle()
    expect(revs()).toEqual([1, 2, 3])
    expect(feed.stats()).toMatchObject({ watermark: 3, observed: 3, log: 3 })
  })

  it('starts from the version row: what was committed before it is the clients’ next sync’s', async () => {
    const db = scripted()
    db.log(1)
    db.commitTo(1)
    const { feed, revs } = feedOn(db)
    feed.startRealtime()
    await feed.idle()
    db.log(2)
    db.commitTo(2)
    db.signal(2)
    await feed.idle()
    expect(revs()).toEqual([2])
  })

  it('delivers this node’s commits at once and never reads them back; other revs under them are read', async () => {
    const db = scripted()
    const { feed, delivered } = feedOn(db)
    feed.startRealtime()
    await feed.idle()
    db.log(1) // another process's
    db.log(2)
    db.commitTo(2)
    feed.local([change(2)], 'origin')
    expect(delivered).toEqual([{ source: 'local', revs: [2] }]) // synchronously, before any read
    await feed.idle()
    expect(delivered).toEqual([
      { source: 'local', revs: [2] },
      { source: 'log', revs: [1] },
    ])
    db.signal(2) // its own NOTIFY: nothing left to read
    await feed.idle()
    expect(db.reads).toEqual([[0, 1]])
  })

  it('a rev brought by a publication is not read again, nor one read from the log delivered again when its publication comes late', async () => {
    const db = scripted()
    const { feed, timers, delivered, revs } = feedOn(db, 250)
    feed.startRealtime()
    await feed.idle()
    db.log(1)
    db.log(2)
    db.commitTo(2)
    db.signal(2)
    feed.peer(1, 1, [change(1)]) // rev 1's publication arrives within its grace
    timers.advance(249)
    await feed.idle()
    expect(revs()).toEqual([1])
    timers.advance(1) // rev 2's grace is over: read from the log
    await feed.idle()
    expect(delivered).toEqual([
      { source: 'cluster', revs: [1] },
      { source: 'log', revs: [2] },
    ])
    feed.peer(2, 2, [change(2)]) // late: already delivered
    feed.peer(1, 2, null) // a publication without changes: nothing left to read
    await feed.idle()
    expect(revs()).toEqual([1, 2])
    expect(feed.stats()).toMatchObject({ peer: 1, log: 1, watermark: 2 })
  })

  it('a change read back with its record’s later state delivers that later rev: it is not sent again', async () => {
    const db = scripted()
    const { feed, revs } = feedOn(db)
    feed.startRealtime()
    await feed.idle()
    db.log(1, change(2, 'x')) // x at rev 1, changed again at rev 2: the log rebuilds both with x's state now
    db.log(2, change(2, 'x'))
    db.log(3)
    db.commitTo(3)
    db.signal(3)
    await feed.idle()
    expect(revs()).toEqual([2, 3])
    feed.peer(2, 2, [change(2, 'x')])
    expect(revs()).toEqual([2, 3])
  })
})
