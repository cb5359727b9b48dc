/**
 * UUID values (SPEC.md section 4, "uuid"): a PostgreSQL `uuid` column, as a table's key or as an
 * ordinary column. Accepted: the 36-character form `8-4-4-4-12` of hexadecimal digits, in either case,
 * any version and variant (the column takes any 128 bits). Kept in its canonical form, lowercase — what
 * PostgreSQL prints — so one UUID is one string on every replica, and strings in code-point order sort
 * as PostgreSQL sorts uuids (byte order). Refused: braces, `urn:uuid:`, 32 digits without hyphens and
 * surrounding spaces, which PostgreSQL reads but which would give one value several spellings.
 */

const UUID_ANY_CASE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const UUID_CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The canonical (lowercase) form of a UUID given in either case, or `undefined` if `value` is not one. */
export function normalizeUuid(value: unknown): string | undefined {
  return typeof value === 'string' && UUID_ANY_CASE.test(value) ? value.toLowerCase() : undefined
}

/** Whether `value` is a UUID already in canonical form (what the wire carries as a uuid-keyed record's uid). */
export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_CANONICAL.test(value)
}
