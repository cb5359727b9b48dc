/**
 * The one error type of lastword. Every package throws `LastwordError`; errors cross the wire as plain
 * data (`{ code, message, details }`) and are rebuilt on the other side with {@link fromWireError}.
 */

/** Every failure lastword reports, by code. */
export type ErrorCode =
  | 'BAD_REQUEST' // a wire message that does not match its schema
  | 'PROTOCOL_MISMATCH' // client and server speak different protocol versions
  | 'UNKNOWN_TABLE'
  | 'UNKNOWN_COLUMN'
  | 'INVALID_WHERE' // unknown operator, empty operator object, undefined or NaN value, malformed filter
  | 'INVALID_VALUE' // a value of the wrong type for its column
  | 'INVALID_UID'
  | 'INVALID_STAMP' // malformed, negative, NaN or out-of-order stamps
  | 'CLOCK_AHEAD' // a stamp beyond the allowed drift; `details.now` carries the refusing side's time
  | 'FORBIDDEN_KEY' // `__proto__`, `constructor` or `prototype` as a key
  | 'READ_ONLY_COLUMN' // a write to a column the server owns
  | 'TOO_LARGE' // over a configured size limit
  | 'RATE_LIMITED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN' // `authorize` refused
  | 'CHECKPOINT_INVALID' // a checkpoint token that cannot be parsed
  | 'NOT_FOUND'
  | 'SCHEMA_OUTDATED' // a push written under a schema version the server can no longer map (a column dropped or retyped since): upgrade, push again
  | 'SCHEMA_CHANGE_UNSUPPORTED' // migrate(): a table changed in a way lastword does not serve (SPEC.md section 11, SV6)
  | 'UNIT_REFUSED' // a record of an atomic unit (a client transaction) not written because another record of the unit was refused; details: the culprit's table and uid (SPEC.md section 12)
  | 'PURGED' // a write of a record the server acknowledged once and no longer knows: deleted, and purged after retention (R10)
  | 'PARENT_DELETED' // a write of a child whose parent (a foreign key to a synced table) is deleted: the parent's deletion wins (PD1)
  | 'TRANSIENT' // retry later: serialization failure after retries, lost connection, timeout
  | 'QUOTA_EXCEEDED' // local storage is full
  | 'CLOSED' // the client or the store was closed
  | 'INTERNAL'

/** The plain-data form of an error, as it travels on the wire. */
export interface WireError {
  code: ErrorCode
  message: string
  details?: Record<string, unknown> | undefined
}

/** Every error code, for apps that branch on them (`switch (error.code)`) or list them. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'BAD_REQUEST',
  'PROTOCOL_MISMATCH',
  'UNKNOWN_TABLE',
  'UNKNOWN_COLUMN',
  'INVALID_WHERE',
  'INVALID_VALUE',
  'INVALID_UID',
  'INVALID_STAMP',
  'CLOCK_AHEAD',
  'FORBIDDEN_KEY',
  'READ_ONLY_COLUMN',
  'TOO_LARGE',
  'RATE_LIMITED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'CHECKPOINT_INVALID',
  'NOT_FOUND',
  'SCHEMA_OUTDATED',
  'SCHEMA_CHANGE_UNSUPPORTED',
  'UNIT_REFUSED',
  'PURGED',
  'PARENT_DELETED',
  'TRANSIENT',
  'QUOTA_EXCEEDED',
  'CLOSED',
  'INTERNAL',
]
const CODE_SET: ReadonlySet<string> = new Set<string>(ERROR_CODES)

/** Whether `code` is one of lastword's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODE_SET.has(code)
}

/**
 * The error class of every lastword package.
 *
 * @example
 * throw new LastwordError('UNKNOWN_COLUMN', 'Column "titel" is not in table "todos"; known: title, done', { column: 'titel' })
 */
export class LastwordError extends Error {
  override readonly name = 'LastwordError'
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.details = details
  }

  /** The plain-data form, safe to send over the wire. */
  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/** Whether `error` is a `LastwordError`, optionally with the given code. */
export function isLastwordError(error: unknown, code?: ErrorCode): error is LastwordError {
  return error instanceof LastwordError && (code === undefined || error.code === code)
}

/** Normalises anything thrown into a `LastwordError` (unknown failures become `INTERNAL`, cause kept). */
export function toLastwordError(error: unknown): LastwordError {
  if (error instanceof LastwordError) return error
  const message = error instanceof Error ? error.message : describe(error)
  return new LastwordError('INTERNAL', message, undefined, { cause: error })
}

/**
 * `String(value)` that cannot throw: `String({ toString: 1 })` and `String(Object.create(null))` throw a
 * TypeError, and such objects arrive from the wire (a JSON `{"toString":1}`).
 */
function describe(value: unknown): string {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** Rebuilds an error received as plain data. Unknown shapes become `INTERNAL`. */
export function fromWireError(data: unknown): LastwordError {
  if (typeof data === 'object' && data !== null) {
    const { code, message, details } = data as Partial<WireError>
    if (isErrorCode(code)) {
      const safeDetails = typeof details === 'object' && details !== null && !Array.isArray(details) ? details : undefined
      return new LastwordError(code, typeof message === 'string' ? message : code, safeDetails)
    }
  }
  return new LastwordError('INTERNAL', 'Malformed error from the other side', { received: describe(data).slice(0, 200) })
}
