/**
 * The I3 checker with a wire history recorded at the clients (T06, D06: a real server that crashes): a
 * push committed just before the server died has no recorded outcome, and its writer may learn it from
 * realtime or a pull instead of pushing it again. The checker counts such a push as accepted only when it
 * is exactly what the server holds, and still flags everything else.
 */
import { describe, expect, it } from 'vitest'
import { checkLww, type ServerState } from '../../src/checkers.js'
import type { PushedRecord, WireEvent } from '../../src/fault-network.js'

const v = (ms: number, node: string): string => `${ms.toString(16).padStart(12, '0')}-0000-${node.padStart(16, '0')}`
const rec = (version: string, title: string): PushedRecord => ({ uid: 'u', version, deleted: false, row: { title } })
const push = (client: string, request: number, r: PushedRecord): WireEvent => ({ type: 'push', client, request, at: 0, records: [r] })
const applied = (client: string, request: number, r: PushedRecord): WireEvent => ({ type: 'outcome', client, request, at: 0, uid: r.uid, status: 'applied', record: r })
const server = (version: string, title: string): ServerState => ({
  meta: new Map([['u', { version, deleted: false, created_at: version, updated_at: version, deleted_at: null }]]),
  rows: new Map([['u', { uid: 'u', title }]]),
})

describe('I3 with unanswered pushes', () => {
  const older = rec(v(1_000, 'a'), 'A')
  const newer = rec(v(2_000, 'b'), 'B')
  const events: WireEvent[] = [push('a', 1, older), applied('a', 1, older), push('b', 2, newer)]

  it('accepts the newer unanswered push the server holds (committed, its answer lost)', () => {
    expect(checkLww(events, server(newer.version, 'B'), ['title'], { unanswered: true })).toEqual([])
    // Without the option (histories recorded at the server), the same state is a violation.
    expect(checkLww(events, server(newer.version, 'B'), ['title'])).toHaveLength(1)
  })

  it('still flags a row that is not the unanswered push, a version nobody pushed, and a lost acknowledged write', () => {
    expect(checkLww(events, server(newer.version, 'other'), ['title'], { unanswered: true })).toHaveLength(1)
    expect(checkLww(events, server(v(3_000, 'c'), 'B'), ['title'], { unanswered: true })).toHaveLength(1)
    const ackedNewer: WireEvent[] = [push('b', 2, newer), applied('b', 2, newer), push('a', 1, older)]
    expect(checkLww(ackedNewer, server(older.version, 'A'), ['title'], { unanswered: true })).toHaveLength(1)
  })
})
