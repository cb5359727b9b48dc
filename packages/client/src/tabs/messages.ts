/**
 * The messages between the tabs of one database, and their validation on receipt. Another tab may run
 * older or newer code, or be something else posting on the channel: a message that does not have the
 * shape of its type is ignored, never trusted.
 */
import { isErrorCode, type ErrorCode } from '@lastword/core'

/** Where a client stands, as the owner tab tells the others. */
export type TabStatus = 'offline' | 'connecting' | 'syncing' | 'online'

/** A scope a follower tab asks the owner to keep synced: a table and a filter in wire form. */
export interface TabScope {
  table: string
  where: Record<string, unknown>
}

/** Messages between the tabs of one database. */
export type TabMessage =
  /** Local data changed; `dirty`: by a local write (the owner pushes it). `uids`: the records, when known. */
  | { type: 'changed'; from: string; tables: string[]; dirty: boolean; uids?: string[] }
  /** A follower's live scopes (re-sent on every heartbeat). */
  | { type: 'scopes'; from: string; scopes: TabScope[] }
  /** The owner's status. */
  | { type: 'status'; from: string; status: TabStatus }
  /** A sync report of the owner, re-emitted by followers. */
  | { type: 'report'; from: string; report: Record<string, unknown> }
  /** A follower's `sync()`: the owner answers with `synced` and the same id. */
  | { type: 'sync'; from: string; id: string }
  | { type: 'synced'; from: string; id: string; error: { code: ErrorCode; message: string } | null }
  /** This tab became the owner. */
  | { type: 'owner'; from: string }
  /** The owner let go (closing). */
  | { type: 'released'; from: string }
  /** The database was wiped (sign-out). */
  | { type: 'cleared'; from: string }
  /** The owner stored new table descriptors. */
  | { type: 'tables'; from: string }

/** The type names of {@link TabMessage}. */
export type TabMessageType = TabMessage['type']

const STATUSES: readonly string[] = ['offline', 'connecting', 'syncing', 'online'] satisfies TabStatus[]

type Fields = Record<string, unknown>
const isString = (value: unknown): value is string => typeof value === 'string'
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString)
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value)
const isScope = (value: unknown): value is TabScope => isObject(value) && isString(value.table) && isObject(value.where)

/**
 * One check per message type, beyond `type` and `from`. A mapped type: a new message type does not
 * compile until its check is written.
 */
const CHECKS: { [T in TabMessageType]: (m: Fields) => boolean } = {
  changed: (m) => isStringArray(m.tables) && typeof m.dirty === 'boolean',
  scopes: (m) => Array.isArray(m.scopes) && m.scopes.every(isScope),
  status: (m) => isString(m.status) && STATUSES.includes(m.status),
  report: (m) => isObject(m.report) && isString(m.report.table) && isString(m.report.scopeKey),
  sync: (m) => isString(m.id),
  synced: (m) => isString(m.id) && (m.error === null || (isObject(m.error) && isErrorCode(m.error.code) && isString(m.error.message))),
  owner: () => true,
  released: () => true,
  cleared: () => true,
  tables: () => true,
}

/**
 * The message, if `raw` is a well-formed {@link TabMessage}; else `null`. A `changed` message whose
 * `uids` are malformed keeps its tables without them: re-reading those tables is always safe.
 */
export function parseTabMessage(raw: unknown): TabMessage | null {
  if (!isObject(raw) || !isString(raw.from) || !isString(raw.type) || !Object.prototype.hasOwnProperty.call(CHECKS, raw.type)) return null
  const type = raw.type as TabMessageType
  if (!CHECKS[type](raw)) return null
  if (type === 'changed' && raw.uids !== undefined && !isStringArray(raw.uids)) {
    const { uids: _dropped, ...rest } = raw
    return rest as TabMessage
  }
  return raw as TabMessage
}
