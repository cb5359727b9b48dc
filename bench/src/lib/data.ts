/**
 * The dataset: N records of about 300 bytes each (as JSON, uid included), deterministic for a given
 * index, so every system and every process makes exactly the same rows.
 */

export interface Item {
  uid: string
  title: string
  body: string
  priority: number
  done: boolean
  tag: string
}

export const COLUMNS = ['title', 'body', 'priority', 'done', 'tag'] as const
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa']
const TAGS = ['home', 'work', 'errand', 'misc']

/** UUID-shaped, sortable by index (version nibble 7, like the client's UUIDv7s). */
export function uidOf(i: number, space = 0): string {
  const hex = i.toString(16).padStart(12, '0')
  return `0190${space.toString(16).padStart(4, '0')}-0000-7000-8000-${hex}`
}

function words(seed: number, count: number): string {
  let x = (seed * 2654435761) >>> 0
  const out: string[] = []
  for (let k = 0; k < count; k++) {
    x = (x * 1103515245 + 12345) >>> 0
    out.push(WORDS[(x >>> 16) % WORDS.length]!)
  }
  return out.join(' ')
}

/** Record `i`; `version` changes the text so an update really changes the row. */
export function makeItem(i: number, version = 0, space = 0): Item {
  const body = words(i * 31 + version, 30).padEnd(160, '.').slice(0, 160)
  return {
    uid: uidOf(i, space),
    title: `Item ${i} v${version} ${words(i + version, 3)}`.slice(0, 40),
    body,
    priority: (i + version) % 5,
    done: (i + version) % 3 === 0,
    tag: TAGS[i % TAGS.length]!,
  }
}

export function makeItems(n: number, version = 0, space = 0, start = 0): Item[] {
  const out = new Array<Item>(n)
  for (let i = 0; i < n; i++) out[i] = makeItem(start + i, version, space)
  return out
}

/** Indexes of the `fraction` of `n` records a scenario touches, spread evenly. */
export function touched(n: number, fraction: number): number[] {
  const k = Math.max(1, Math.round(n * fraction))
  const step = n / k
  const out: number[] = []
  for (let j = 0; j < k; j++) out.push(Math.floor(j * step))
  return out
}

/** The same generator as source text, for pages (Chromium) that must build the rows themselves. */
export const DATA_SOURCE = `
const WORDS = ${JSON.stringify(WORDS)};
const TAGS = ${JSON.stringify(TAGS)};
${uidOf.toString()}
${words.toString()}
${makeItem.toString()}
`
