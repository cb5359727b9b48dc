/** Tab messages are validated on receipt: a malformed message from another tab is ignored, never trusted. */
import { describe, expect, it } from 'vitest'
import { parseTabMessage, type TabMessage } from '../../src/tabs/messages.js'

const valid: TabMessage[] = [
  { type: 'changed', from: 'a', tables: ['todos'], dirty: true, uids: ['u1'] },
  { type: 'changed', from: 'a', tables: [], dirty: false },
  { type: 'scopes', from: 'a', scopes: [{ table: 'todos', where: { done: false } }] },
  { type: 'status', from: 'a', status: 'syncing' },
  { type: 'report', from: 'a', report: { table: 'todos', scopeKey: 'todos:{}', pushed: 1 } },
  { type: 'sync', from: 'a', id: 's1' },
  { type: 'synced', from: 'a', id: 's1', error: null },
  { type: 'synced', from: 'a', id: 's1', error: { code: 'UNAUTHENTICATED', message: 'expired' } },
  { type: 'owner', from: 'a' },
  { type: 'released', from: 'a' },
  { type: 'cleared', from: 'a' },
  { type: 'tables', from: 'a' },
]

const malformed: unknown[] = [
  null,
  'changed',
  [],
  { type: 'changed', tables: ['todos'], dirty: true }, // no sender
  { type: 'nonsense', from: 'a' },
  { type: 'toString', from: 'a' },
  { type: 'changed', from: 'a', tables: 'todos', dirty: true },
  { type: 'changed', from: 'a', tables: ['todos'] },
  { type: 'scopes', from: 'a', scopes: [{ table: 'todos', where: 'done' }] },
  { type: 'status', from: 'a', status: 'on fire' },
  { type: 'report', from: 'a', report: 42 },
  { type: 'sync', from: 'a' },
  { type: 'synced', from: 'a', id: 's1', error: { code: 'NOT_A_CODE', message: 'x' } },
  { type: 'synced', from: 'a', id: 's1' },
]

describe('tab messages', () => {
  it.each(valid.map((m) => [m.type, m] as const))('accepts a well-formed %s', (_type, message) => {
    expect(parseTabMessage(structuredClone(message))).toEqual(message)
  })

  it.each(malformed.map((m) => [JSON.stringify(m), m] as const))('ignores %s', (_label, raw) => {
    expect(parseTabMessage(raw)).toBeNull()
  })

  it('keeps a change whose uids are malformed, without them: its tables are re-read in full', () => {
    expect(parseTabMessage({ type: 'changed', from: 'a', tables: ['todos'], dirty: false, uids: [1, 2] })).toEqual({ type: 'changed', from: 'a', tables: ['todos'], dirty: false })
  })
})
