// The repository stands alone: every rule id a test name or comment cites is defined in docs/ or in
// core's SPEC.md, and nothing cites a document outside the repository or an issue number.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'

const root = resolve(import.meta.dirname, '../..')

/** Where the ids are defined. */
const DEFINITIONS = ['docs/guarantees.md', 'docs/test-matrix.md', 'packages/core/SPEC.md']
/** Where they are used: source, tests, docs. */
const SCANNED = ['packages', 'integration', 'apps', 'bench', 'scripts', 'docs', 'ARCHITECTURE.md', 'README.md', 'CONTRIBUTING.md', 'vitest.config.ts']
/**
 * Folders whose references are being replaced on other branches at the time of writing; once merged,
 * this list is empty and the check covers them too.
 */
const PENDING: string[] = []

function* files(path: string): Generator<string> {
  if (statSync(path).isFile()) {
    yield path
    return
  }
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist' || name === 'results' || name === 'test-results' || name.startsWith('.')) continue
    const full = join(path, name)
    if (statSync(full).isDirectory()) yield* files(full)
    else if (/\.(ts|tsx|mts|js|mjs|md)$/.test(name)) yield full
  }
}

function scanned(): { path: string; text: string }[] {
  return SCANNED.flatMap((p) => [...files(join(root, p))]).map((full) => ({ path: relative(root, full), text: readFileSync(full, 'utf8') }))
}

// Rows T01–T29, S01–S19, D01–D09; invariants I1–I16; attacks V1–V10; bugs B1–B19; rules R1–R12, E1–E6.
const ID = /\b(?:[TSD]\d{2}|I1[0-9]|I[1-9]|V10|V[1-9]|B1[0-9]|B[1-9]|R10|R[1-9]|E[1-9])′?(?![\w.-])/g

/** Numbers the matrix leaves unassigned ("The numbers T11, S08 and D04 are not assigned"): used nowhere else. */
function unassignedIds(): Set<string> {
  const line = /^The numbers (.*) are not assigned/m.exec(readFileSync(join(root, 'docs/test-matrix.md'), 'utf8'))?.[1] ?? ''
  return new Set(line.match(/[A-Z]\d{2}/g) ?? [])
}

function definedIds(): Set<string> {
  const ids = new Set<string>()
  for (const file of DEFINITIONS) {
    for (const line of readFileSync(join(root, file), 'utf8').split('\n')) {
      // A definition: the first cell of a table row, a bold term, or a rule label in SPEC.md.
      const cell = /^\|\s*`?([A-Z]\d{1,2}′?)(?!\w)/.exec(line)
      if (cell !== null) ids.add(cell[1] as string)
      for (const m of line.matchAll(/\*\*([A-Z]\d{1,2}′?)\b/g)) ids.add(m[1] as string)
      for (const m of line.matchAll(/\(([A-Z]\d{1,2}′?)\)\s*$/g)) ids.add(m[1] as string)
      for (const m of line.matchAll(/^\|\s*`([A-Z]\d{1,2}) /g)) ids.add(m[1] as string)
    }
  }
  // SPEC.md's E6 is a paragraph ("E6 (the client, …)"), the laws C1–C4, W1–W5, L1–L3, S1–S4 are bold.
  const spec = readFileSync(join(root, 'packages/core/SPEC.md'), 'utf8')
  for (const m of spec.matchAll(/^(E\d) \(/gm)) ids.add(m[1] as string)
  return ids
}

describe('docs stand alone', () => {
  test('every id cited in code, tests and docs is defined in docs/ or SPEC.md', () => {
    const defined = definedIds()
    const unassigned = unassignedIds()
    const undefinedIds = new Map<string, string>()
    for (const { path, text } of scanned()) {
      if (path === 'scripts/test/docs.test.ts') continue // names ids as data
      for (const m of text.matchAll(ID)) {
        const id = m[0]
        if (unassigned.has(id) && path === 'docs/test-matrix.md') continue
        if (!defined.has(id) && !undefinedIds.has(id)) undefinedIds.set(id, path)
      }
    }
    expect(Object.fromEntries(undefinedIds)).toEqual({})
  })

  test('the definitions cover the whole id ranges', () => {
    const defined = definedIds()
    const expected = [
      ...Array.from({ length: 13 }, (_, i) => `I${i + 1}`),
      ...Array.from({ length: 10 }, (_, i) => `V${i + 1}`),
      ...Array.from({ length: 12 }, (_, i) => `B${i + 1}`),
      ...Array.from({ length: 10 }, (_, i) => `R${i + 1}`),
      ...Array.from({ length: 6 }, (_, i) => `E${i + 1}`),
      ...Array.from({ length: 26 }, (_, i) => `T${String(i + 1).padStart(2, '0')}`).filter((id) => id !== 'T11'),
      ...Array.from({ length: 19 }, (_, i) => `S${String(i + 1).padStart(2, '0')}`).filter((id) => id !== 'S08'),
      ...Array.from({ length: 9 }, (_, i) => `D0${i + 1}`).filter((id) => id !== 'D04'),
    ]
    expect(expected.filter((id) => !defined.has(id))).toEqual([])
  })

  test('nothing cites a document outside the repository or an issue number', () => {
    const outside = /design\.md|reliability\.md|style\.md|\.\.\/shared|\/work\/shared|issue\s*#\d|(?<![\w&])#\d+\b(?!;)/
    const found = scanned()
      .filter(({ path }) => !PENDING.some((p) => path.startsWith(`${p}/`)))
      .flatMap(({ path, text }) =>
        text
          .split('\n')
          .map((line, i) => ({ line, at: `${path}:${i + 1}` }))
          .filter(({ line }) => outside.test(line.replace(/#[0-9a-fA-F]{3,8}\b/g, ''))),
      )
      .map(({ at, line }) => `${at}: ${line.trim()}`)
    expect(found).toEqual([])
  })
})
