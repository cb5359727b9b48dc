/** The report: markdown tables (stdout and results/*.md) and a hand-written SVG chart. */
import type { Figure } from './figures.js'

const TITLES: Record<string, string> = {
  limit: 'The limit: raw writes of the same records, nothing in between',
  initial: 'Initial sync (empty replica → N records)',
  'resync-none': 'Resync, nothing changed (online, one sync)',
  'reconnect-none': 'Reconnect, nothing changed (baseline of the offline scenarios: connect + sync)',
  'resync-client': '1 % changed on the client while offline, then reconnect',
  'resync-server': '1 % changed on the server while the client was offline, then reconnect',
  'resync-create': '1 % created on the client while offline, then reconnect',
  'resync-delete': '1 % deleted on the client while offline, then reconnect',
  realtime: 'Realtime: a write on one client to its arrival on another',
  push: 'Push throughput: clients reconnect at once and push what they wrote offline',
  'multi-node-fanout': 'Multi-node fan-out: a write on node 0 to its arrival at a client of node 1 and of node 2',
  'multi-node-push': 'Multi-node push throughput: clients all on one node, then spread over three',
  'batch-sweep': "Peers' batch size sweep (initial sync)",
}
const ORDER = Object.keys(TITLES)

/** What a section measures, where its title is not enough. */
const INTROS: Record<string, string> = {
  'multi-node-fanout':
    'Three lastword server processes on one PostgreSQL, linked by a socket.io adapter. A client of node 0 creates records one after the other; each is timed from `create()` to the realtime event at a subscribed client of node 1 and one of node 2 (two samples per write), and at another client of node 0 (the same-node baseline). No proxy: bytes are not counted. server MB: the largest node.',
  'multi-node-push':
    'The same three nodes: each client pushes batches of new records (one sync per batch, disjoint scopes), first with every client on node 0, then spread over nodes 0–2; records/s = acknowledged records ÷ time. server MB: the largest node.',
}

const fmtMs = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))
const fmtN = (x: number | undefined) => (x === undefined ? '' : x.toLocaleString('en-US'))
function fmtBytes(b: number | undefined): string {
  if (b === undefined) return ''
  if (b < 10_000) return `${b} B`
  if (b < 10_000_000) return `${(b / 1024).toFixed(0)} KB`
  return `${(b / 1024 / 1024).toFixed(1)} MB`
}

export function renderMarkdown(figures: Figure[], meta: { mode: string; seconds: number; ns: number[]; repetitions: number; node: string; cpus: number; notes: string[]; startedAt: string }): string {
  const out: string[] = []
  out.push(`# lastword bench — ${meta.mode} run, ${meta.startedAt}`)
  out.push('')
  out.push(
    `N = ${meta.ns.map(fmtN).join(', ')}; ${meta.repetitions} repetition(s) (median, min–max); Node ${meta.node}, ${meta.cpus} cores; ${meta.seconds} s. ` +
      'Bytes: TCP payload through a counting proxy in front of each server (up = client→server). ' +
      'RT: request turns on the wire. SQL: statements the server ran. MB: peak RSS of the server / client process. ' +
      'ratio: time ÷ the limit named. old way: full reconciliation time ÷ incremental time.',
  )
  out.push('')
  for (const n of meta.notes) out.push(`> ${n}`)
  if (meta.notes.length) out.push('')
  const groups = new Map<string, Figure[]>()
  for (const f of figures) groups.set(f.scenario, [...(groups.get(f.scenario) ?? []), f])
  const keys = [...groups.keys()].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))
  for (const key of keys) {
    const fs = groups.get(key)!
    out.push(`## ${TITLES[key] ?? key}`)
    out.push('')
    if (INTROS[key]) out.push(INTROS[key], '')
    if (key === 'limit') {
      out.push('| what | N | ms (min–max) | records/s | MB |')
      out.push('|---|---:|---:|---:|---:|')
      for (const f of fs)
        out.push(`| ${f.backend} | ${fmtN(f.n)} | ${f.error ? `error: ${f.error}` : `${fmtMs(f.ms?.median)} (${fmtMs(f.ms?.min)}–${fmtMs(f.ms?.max)})`} | ${fmtN(f.recordsPerSec ? Math.round(f.recordsPerSec) : undefined)} | ${f.clientPeakMb ?? ''} |`)
    } else if (key === 'realtime') {
      out.push('| system | backend | variant | p50 ms | p99 ms | up/write | down/write | server MB | client MB | target | met |')
      out.push('|---|---|---|---:|---:|---:|---:|---:|---:|---|:-:|')
      for (const f of fs)
        out.push(
          f.error
            ? `| ${f.system} | ${f.backend} | ${f.variant} | error: ${f.error} ||||||||`
            : `| ${f.system} | ${f.backend} | ${f.variant} | ${fmtMs(f.p50)} | ${fmtMs(f.p99)} | ${fmtBytes(f.up)} | ${fmtBytes(f.down)} | ${f.serverPeakMb ?? ''} | ${f.clientPeakMb ?? ''} | ${f.target ?? ''} | ${met(f)} |`,
        )
    } else if (key === 'multi-node-fanout') {
      out.push('| system | backend | variant | writes | p50 ms | p99 ms | max ms | server MB | client MB |')
      out.push('|---|---|---|---:|---:|---:|---:|---:|---:|')
      for (const f of fs)
        out.push(
          f.error
            ? `| ${f.system} | ${f.backend} | ${f.variant} | ${fmtN(f.n)} | error: ${f.error} |||||`
            : `| ${f.system} | ${f.backend} | ${f.variant} | ${fmtN(f.n)} | ${fmtMs(f.p50)} | ${fmtMs(f.p99)} | ${fmtMs(f.ms?.max)} | ${f.serverPeakMb ?? ''} | ${f.clientPeakMb ?? ''} |`,
        )
    } else if (key === 'multi-node-push') {
      out.push('| system | backend | variant | records | ms | records/s | server MB | client MB | note |')
      out.push('|---|---|---|---:|---:|---:|---:|---:|---|')
      for (const f of fs)
        out.push(
          f.error
            ? `| ${f.system} | ${f.backend} | ${f.variant} | ${fmtN(f.n)} | error: ${f.error} |||||`
            : `| ${f.system} | ${f.backend} | ${f.variant} | ${fmtN(f.n)} | ${fmtMs(f.ms?.median)} | ${fmtN(f.recordsPerSec ? Math.round(f.recordsPerSec) : undefined)} | ${f.serverPeakMb ?? ''} | ${f.clientPeakMb ?? ''} | ${f.note ?? ''} |`,
        )
    } else {
      const isPush = key === 'push'
      out.push(`| system | backend | variant | N | ms (min–max) | ${isPush ? 'records/s | ' : ''}ratio | old way | up | down | RT | SQL | server MB | client MB | target | met |`)
      out.push(`|---|---|---|---:|---:|${isPush ? '---:|' : ''}---:|---:|---:|---:|---:|---:|---:|---:|---|:-:|`)
      for (const f of fs) {
        if (f.error) {
          out.push(`| ${f.system} | ${f.backend} | ${f.variant} | ${fmtN(f.n)} | error: ${f.error} |${isPush ? ' |' : ''}|||||||||||`)
          continue
        }
        const ms = f.ms ? `${fmtMs(f.ms.median)}${f.ms.n > 1 ? ` (${fmtMs(f.ms.min)}–${fmtMs(f.ms.max)})` : ''}` : ''
        out.push(
          `| ${f.system} | ${f.backend} | ${f.variant} | ${fmtN(f.n)} | ${ms} | ${isPush ? `${fmtN(f.recordsPerSec ? Math.round(f.recordsPerSec) : undefined)} | ` : ''}${f.ratio !== undefined ? `${f.ratio.toFixed(2)}×` : ''} | ${f.gain !== undefined ? `${f.gain.toFixed(1)}×` : ''} | ${fmtBytes(f.up)} | ${fmtBytes(f.down)} | ${f.roundTrips ?? ''} | ${f.statements ?? ''} | ${f.serverPeakMb ?? ''} | ${f.clientPeakMb ?? ''} | ${f.target ?? ''} | ${met(f)} |`,
        )
      }
      const notes = fs.filter((f) => !f.error && f.note !== undefined && f.backend.includes('chromium'))
      if (notes.length > 0) out.push('', `> ${notes[0]!.backend}: ${notes[0]!.note}.`)
    }
    out.push('')
  }
  return `${out.join('\n')}\n`
}

const met = (f: Figure) => (f.met === true ? 'yes' : f.met === false ? '**no**' : '')

// --------------------------------------------------------------------------------------------- SVG
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function panel(title: string, series: Array<{ name: string; points: Array<[number, number]>; dashed?: boolean }>, x0: number, w: number, h: number): string {
  const pad = { l: 60, r: 10, t: 30, b: 40 }
  const all = series.flatMap((s) => s.points).filter(([, y]) => y > 0)
  if (all.length === 0) return `<text x="${x0 + 20}" y="60" font-size="13">${esc(title)}: no data</text>`
  const xs = all.map(([x]) => x)
  const ys = all.map(([, y]) => y)
  const lx = [Math.log10(Math.min(...xs)), Math.log10(Math.max(...xs))]
  const ly = [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))]
  if (lx[0] === lx[1]) {
    lx[0] = lx[0]! - 0.5
    lx[1] = lx[1]! + 0.5
  }
  if (ly[0] === ly[1]) ly[1] = ly[0]! + 1
  const px = (x: number) => x0 + pad.l + ((Math.log10(x) - lx[0]!) / (lx[1]! - lx[0]!)) * (w - pad.l - pad.r)
  const py = (y: number) => pad.t + (1 - (Math.log10(y) - ly[0]!) / (ly[1]! - ly[0]!)) * (h - pad.t - pad.b)
  const parts: string[] = [`<text x="${x0 + w / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`]
  for (let e = ly[0]!; e <= ly[1]!; e++) {
    const y = py(10 ** e)
    parts.push(`<line x1="${x0 + pad.l}" x2="${x0 + w - pad.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`)
    parts.push(`<text x="${x0 + pad.l - 5}" y="${y + 4}" text-anchor="end" font-size="11">${10 ** e >= 1 ? (10 ** e).toLocaleString('en-US') : 10 ** e} ms</text>`)
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${pad.t}" y2="${h - pad.b}" stroke="#eee"/>`)
    parts.push(`<text x="${px(x)}" y="${h - pad.b + 15}" text-anchor="middle" font-size="11">N=${x.toLocaleString('en-US')}</text>`)
  }
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => y > 0).sort((a, b) => a[0] - b[0])
    const c = COLORS[i % COLORS.length]
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`)
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"><title>${esc(s.name)}: ${y.toFixed(2)} ms at N=${x}</title></circle>`)
    parts.push(`<rect x="${x0 + pad.l + 8}" y="${pad.t + 6 + i * 15}" width="10" height="3" fill="${c}"/>`)
    parts.push(`<text x="${x0 + pad.l + 22}" y="${pad.t + 11 + i * 15}" font-size="10">${esc(s.name)}</text>`)
  })
  return parts.join('\n')
}

export function renderChart(figures: Figure[]): string {
  const seriesOf = (scenario: string, withLimit: boolean) => {
    const map = new Map<string, Array<[number, number]>>()
    for (const f of figures) {
      if (f.scenario !== scenario || !f.ms || f.error) continue
      const name = `${f.system} ${f.backend} ${f.variant}`
      map.set(name, [...(map.get(name) ?? []), [f.n, f.ms.median]])
    }
    const series = [...map.entries()].map(([name, points]) => ({ name, points, dashed: name.includes('full') }))
    if (withLimit) {
      for (const lim of ['fake-indexeddb put', 'chromium IndexedDB put']) {
        const pts = figures.filter((f) => f.scenario === 'limit' && f.backend === lim && f.ms && [1_000, 10_000, 100_000].includes(f.n)).map((f) => [f.n, f.ms!.median] as [number, number])
        if (pts.length) series.push({ name: `limit: ${lim}`, points: pts, dashed: true })
      }
    }
    return series
  }
  const w = 560
  const h = 420
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w * 2}" height="${h}" viewBox="0 0 ${w * 2} ${h}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel('Initial sync: time against N (log–log)', seriesOf('initial', true), 0, w, h),
    panel('Resync, nothing changed: time against N', [...seriesOf('resync-none', false)], w, w, h),
    '</svg>',
  ].join('\n')
}
