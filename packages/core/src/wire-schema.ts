/**
 * The validator seam: {@link WireSchema} is what the rest of lastword sees of a wire schema — `parse`,
 * `safeParse` and the inferred types — so the validator library (valibot, small and tree-shakable for the
 * browser bundle) is named only here and where wire.ts and wire-parts.ts declare the shapes. Swapping it
 * means rewriting these three files, not a call site.
 *
 * A refusal is `BAD_REQUEST` naming the first problem by its path and kind in our own words: never a
 * value received, never a key the schema does not know (the validator's own messages quote the input,
 * which let one request make the server send megabytes back). Validation stops at the first problem, so
 * its cost is bounded by the input's size.
 */
import * as v from 'valibot'
import { LastwordError } from './errors.js'

/** The outcome of {@link WireSchema.safeParse}. */
export type WireResult<T> = { success: true; data: T } | { success: false; error: LastwordError }

/** A wire schema: `Out` is the parsed value, `In` what may travel (fields with a default may be missing). */
export interface WireSchema<Out, In = Out> {
  /** The parsed value, or throws `BAD_REQUEST` (`what` names the input in the message). */
  parse(input: unknown, what?: string): Out
  /** As {@link parse}, the refusal returned instead of thrown. */
  safeParse(input: unknown, what?: string): WireResult<Out>
  /** Types only. */
  readonly types?: { input: In; output: Out }
}

/** The parsed type of a wire schema. */
export type WireOutput<S> = S extends WireSchema<infer Out, unknown> ? Out : never
/** The type of a wire schema's input (what may travel). */
export type WireInput<S> = S extends WireSchema<unknown, infer In> ? In : never

type AnySchema = v.GenericSchema<unknown, unknown>

const CONFIG = { abortEarly: true, abortPipeEarly: true } as const

/** The valibot schema behind each wire schema, built on first use (for {@link describeWireSchema}). */
const BUILDERS = new WeakMap<object, () => AnySchema>()

/**
 * Wraps a valibot schema as a {@link WireSchema}. `build` runs on the first parse, so declaring a
 * schema costs nothing and a bundler drops the ones an app never uses (call it with `@__PURE__`).
 */
export function wireSchema<S extends AnySchema>(build: () => S): WireSchema<v.InferOutput<S>, v.InferInput<S>> {
  let built: S | undefined
  const schema = (): S => (built ??= build())
  const safeParse = (input: unknown, what = 'input'): WireResult<v.InferOutput<S>> => {
    const result = v.safeParse(schema(), input, CONFIG)
    if (result.success) return { success: true, data: result.output }
    return { success: false, error: refusal(result.issues[0], what) }
  }
  const wire: WireSchema<v.InferOutput<S>, v.InferInput<S>> = {
    safeParse,
    parse(input, what) {
      const result = safeParse(input, what)
      if (!result.success) throw result.error
      return result.data
    },
  }
  BUILDERS.set(wire, schema)
  return wire
}

/**
 * A JSON description of a wire schema's shape and bounds: types, patterns, bounds, defaults,
 * strictness, nesting (the protocol-version test fingerprints it). Not a method, so that an app's
 * bundle leaves it out.
 */
export function describeWireSchema(schema: WireSchema<unknown>): unknown {
  const build = BUILDERS.get(schema)
  if (build === undefined) throw new Error('not a wire schema')
  return describeNode(build())
}

/**
 * An object whose keys are exactly `entries`' (an unknown key is refused), the refusal counting the
 * unknown keys and naming none. Checked after the known entries, as zod's strict objects were.
 */
export function strictObject<const E extends v.ObjectEntries>(entries: E) {
  return v.strictObject(entries, (issue) => {
    // Only the unknown-key issue's message is ever used (refusal()); its path ends at the object.
    const object = issue.expected === 'never' ? issue.path?.at(-1)?.input : undefined
    if (typeof object !== 'object' || object === null) return 'invalid'
    const n = Object.keys(object).filter((key) => !Object.hasOwn(entries, key)).length
    return `${String(n)} unexpected key${n === 1 ? '' : 's'}`
  })
}

/** A JSON object (not an array, not a class instance) with any values: copied, like a record. */
export const plainObject = () =>
  v.pipe(
    v.custom<Record<string, unknown>>(function isPlainObject(input) {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) return false
      const proto: unknown = Object.getPrototypeOf(input)
      return proto === Object.prototype || proto === null
    }),
    v.transform((input): Record<string, unknown> => ({ ...input })),
  )

/** Longest path segment and number of segments a refusal names (a path can carry a client's key). */
const MAX_PATH_SEGMENT = 64
const MAX_PATH_SEGMENTS = 16

function refusal(issue: v.BaseIssue<unknown> | undefined, what: string): LastwordError {
  if (issue === undefined) return new LastwordError('BAD_REQUEST', `Invalid ${what}: malformed`, { path: '' })
  const keys = (issue.path ?? []).map((item) => item.key)
  // An unknown key or an extra tuple item: the object or tuple is at fault, and the key is the input's.
  const extra = issue.kind === 'schema' && issue.expected === 'never'
  const path = wirePath(extra ? keys.slice(0, -1) : keys)
  const problem = extra ? describeExtra(issue, keys.at(-1)) : describeIssue(issue)
  return new LastwordError('BAD_REQUEST', `Invalid ${what}${path === '' ? '' : ` at ${path}`}: ${problem}`, { path })
}

function wirePath(path: readonly unknown[]): string {
  const segments = path.slice(0, MAX_PATH_SEGMENTS).map((segment) => {
    const text = typeof segment === 'string' || typeof segment === 'number' ? String(segment) : '?'
    return text.length > MAX_PATH_SEGMENT ? `${text.slice(0, MAX_PATH_SEGMENT)}…` : text
  })
  return path.length > MAX_PATH_SEGMENTS ? `${segments.join('.')}.…` : segments.join('.')
}

/** An unknown key (counted by strictObject's message, which names none) or a tuple's extra item. */
function describeExtra(issue: v.BaseIssue<unknown>, last: unknown): string {
  if (issue.type === 'strict_tuple') return `too big (at most ${typeof last === 'number' ? String(last) : '?'})`
  return /^\d+ unexpected keys?$/.test(issue.message) ? issue.message : 'unexpected key'
}

/** What a value of each schema type is called in a refusal. */
const TYPE_NAMES: Record<string, string> = {
  string: 'string',
  number: 'number',
  finite: 'number',
  integer: 'int',
  safe_integer: 'int',
  boolean: 'boolean',
  array: 'array',
  strict_object: 'object',
  object: 'object',
  strict_tuple: 'tuple',
  tuple: 'tuple',
  custom: 'record',
}

/** The problem of one issue in a few words of our own: its kind and the schema's bound, no input. */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  const bound = typeof issue.requirement === 'number' ? String(issue.requirement) : '?'
  const name = TYPE_NAMES[issue.type]
  if (name !== undefined) return `expected ${name}`
  switch (issue.type) {
    case 'max_length':
    case 'max_value':
      return `too big (at most ${bound})`
    case 'min_length':
    case 'min_value':
      return `too small (at least ${bound})`
    case 'regex':
      return 'not in the expected format (regex)'
    case 'picklist':
    case 'literal':
    case 'variant':
      return 'not an allowed value'
    default:
      return `invalid (${issue.type})`
  }
}

/** The fields of a valibot schema or action that say what it accepts (not how it runs). */
const SHAPE_FIELDS = ['kind', 'type', 'expects', 'requirement', 'key', 'value', 'entries', 'item', 'items', 'options', 'wrapped', 'default', 'pipe']

/** A JSON description of a schema: its types, bounds, patterns, defaults, checks and nesting. */
function describeNode(node: unknown): unknown {
  // A check is named by its function's name (its source text would change with the transpiler).
  if (typeof node === 'function') return `fn:${node.name}`
  if (node instanceof RegExp) return `re:${node.source}/${node.flags}`
  if (Array.isArray(node)) return node.map(describeNode)
  if (typeof node !== 'object' || node === null) return node ?? null
  const out: Record<string, unknown> = {}
  if ('kind' in node) {
    for (const field of SHAPE_FIELDS) {
      if (!(field in node)) continue
      const value = (node as Record<string, unknown>)[field]
      // A default is described by the value it gives, not the function that makes it.
      out[field] = field === 'default' && typeof value === 'function' ? describeNode((value as () => unknown)()) : describeNode(value)
    }
    return out
  }
  for (const [key, value] of Object.entries(node)) out[key] = describeNode(value)
  return out
}
