// A record refused for drift is re-stamped at corrected time; its stamps must still satisfy core's
// order (created_at <= updated_at < deleted_at), or the server would refuse it again as INVALID_STAMP.
import { assertMetaOrder, createHlc, formatStamp, versionOf } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import { restamp } from '../src/apply.js'
import type { StoredRecord } from '../src/store/types.js'

const node = '00000000000000aa'
const ahead = (ms: number) => formatStamp({ ms, counter: 0, node })

describe('restamp', () => {
  it('keeps a tombstone valid when its update stamp was ahead too', () => {
    const clock = createHlc({ node, now: () => 1_000 })
    const record: StoredRecord = {
      table: 'todos',
      uid: 'a',
      row: { title: 'x' },
      created_at: ahead(9_000_000),
      updated_at: ahead(9_000_001),
      deleted_at: ahead(9_000_002),
      dirty: true,
      acknowledged: false,
    }
    const fixed = restamp(record, () => clock.next())
    expect(() => assertMetaOrder(fixed)).not.toThrow()
    expect(fixed.deleted_at).not.toBeNull()
    expect(versionOf(fixed) < ahead(9_000_000)).toBe(true)
  })

  it('re-stamps a live record below the refused stamps', () => {
    const clock = createHlc({ node, now: () => 1_000 })
    const record: StoredRecord = {
      table: 'todos',
      uid: 'a',
      row: { title: 'x' },
      created_at: ahead(9_000_000),
      updated_at: ahead(9_000_001),
      deleted_at: null,
      dirty: true,
      acknowledged: false,
    }
    const fixed = restamp(record, () => clock.next())
    expect(() => assertMetaOrder(fixed)).not.toThrow()
    expect(fixed.updated_at < ahead(9_000_000)).toBe(true)
  })
})
