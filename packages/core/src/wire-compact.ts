/** Pages as they travel: what the server leaves out of a sync page (wire.ts's `syncPageSchema` puts it back). */
import type { SyncPage, SyncPageWire } from './wire.js'

/**
 * A page as the server sends it: fields at their default left out, and the column names only with rows,
 * so that a resync with nothing to do is a few dozen bytes (ARCHITECTURE.md, "Pages").
 */
export function compactPage(page: SyncPage): SyncPageWire {
  const out: SyncPageWire = { mode: page.mode, receivedAt: page.receivedAt, answeredAt: page.answeredAt }
  if (page.outcomes.length > 0) out.outcomes = page.outcomes
  if (page.rows.length > 0) {
    out.columns = page.columns
    out.rows = page.rows
  }
  if (page.tombstones.length > 0) out.tombstones = page.tombstones
  if (page.evict.length > 0) out.evict = page.evict
  if (page.purged.length > 0) out.purged = page.purged
  if (page.erased.length > 0) out.erased = page.erased
  if (page.knownAt !== null) out.knownAt = page.knownAt
  if (page.push.length > 0) out.push = page.push
  if (page.checkpoint !== null) out.checkpoint = page.checkpoint
  if (page.hasMore) out.hasMore = true
  if (page.cursor !== null) out.cursor = page.cursor
  if (page.reason !== undefined) out.reason = page.reason
  if (page.progress.received !== 0 || page.progress.total !== null) out.progress = page.progress
  return out
}
