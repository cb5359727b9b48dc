/**
 * A query's arguments as one string, equal for equal values however the objects were built (keys
 * sorted, dates as ISO strings): the hooks re-subscribe when the arguments change by value, not when
 * a render builds a new object literal with the same content.
 */
export function argsKey(value: unknown): string {
  return JSON.stringify(normalise(value))
}

function normalise(value: unknown): unknown {
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? null : value.toISOString() }
  if (Array.isArray(value)) return value.map(normalise)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key]
      if (item !== undefined) out[key] = normalise(item)
    }
    return out
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() }
  return value
}
