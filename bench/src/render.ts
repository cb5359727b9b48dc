/**
 * Re-renders a run's report (markdown on stdout, and the .md and .svg beside the JSON) from its JSON,
 * e.g. after a change to the report's layout or targets:
 *   node --conditions=@lastword/source --import tsx src/render.ts results/<timestamp>.json
 */
import { readFileSync, writeFileSync } from 'node:fs'
import type { Figure } from './lib/figures.js'
import { renderChart, renderMarkdown } from './lib/report.js'
import { checkTargets } from './lib/targets.js'

const path = process.argv[2]
if (!path?.endsWith('.json')) {
  console.error('usage: render.ts results/<timestamp>.json')
  process.exit(2)
}
const { meta, figures } = JSON.parse(readFileSync(path, 'utf8')) as { meta: Parameters<typeof renderMarkdown>[1]; figures: Figure[] }
checkTargets(figures)
const md = renderMarkdown(figures, meta)
process.stdout.write(md)
writeFileSync(path.replace(/\.json$/, '.md'), md)
writeFileSync(path.replace(/\.json$/, '.svg'), renderChart(figures))
writeFileSync(path, JSON.stringify({ meta, figures }, null, 2))
