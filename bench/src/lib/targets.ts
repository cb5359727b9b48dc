/** The targets printed beside lastword's figures — reported, never asserted. */
import type { Figure } from './figures.js'

const MB = 1024 * 1024

export function checkTargets(figures: Figure[]): void {
  for (const f of figures) {
    if (f.system !== 'lastword' || f.variant.startsWith('full') || f.error) continue
    const t: string[] = []
    const ok: boolean[] = []
    const add = (text: string, met: boolean | undefined) => {
      t.push(text)
      if (met !== undefined) ok.push(met)
    }
    const ms = f.ms?.median
    switch (f.scenario) {
      case 'resync-none':
        add('≤ 300 B each way', f.up !== undefined && f.down !== undefined ? f.up <= 300 && f.down <= 300 : undefined)
        add('≤ 3 ms', ms !== undefined ? ms <= 3 : undefined)
        break
      case 'resync-client':
      case 'resync-server': {
        // 1 % changed, on either side, both dialects: cost in proportion to what changed.
        const bound = f.n >= 100_000 ? 60 : 10
        add(`≤ ${bound} ms`, ms !== undefined ? ms <= bound : undefined)
        if (f.scenario === 'resync-client') {
          // The figure's round trips include reconnecting; the sync's own are those beyond the baseline.
          const base = figures.find((b) => b.scenario === 'reconnect-none' && b.system === f.system && b.backend === f.backend && b.variant === f.variant && b.n === f.n)
          if (base?.roundTrips !== undefined && f.roundTrips !== undefined) {
            const own = f.roundTrips - base.roundTrips + 1
            add(`1 round trip (${own} beyond reconnecting)`, own <= 1)
          }
        }
        break
      }
      case 'initial': {
        // In Chromium against its real IndexedDB put; in Node against fake-indexeddb's.
        const bound = f.backend.includes('chromium') ? 1.5 : 2
        add(`≤ ${bound}× raw put`, f.ratio !== undefined ? f.ratio <= bound : undefined)
        if (f.down !== undefined) add('≤ 30 MB wire', f.down + (f.up ?? 0) <= 30 * MB)
        // In Chromium the client figure is the page's JS heap growth, not RSS: reported, not held to this bound.
        if (f.n >= 100_000 && !f.backend.includes('chromium') && f.serverPeakMb !== undefined && f.clientPeakMb !== undefined) add('≤ 200 MB RSS each side', f.serverPeakMb <= 200 && f.clientPeakMb <= 200)
        break
      }
      case 'realtime': {
        if (f.variant !== 'default') break
        add('p50 ≤ 1.5 ms', f.p50 !== undefined ? f.p50 <= 1.5 : undefined)
        // p99 against one durable single-row commit on the same database, measured in the same run.
        const commit = figures.find((c) => c.scenario === 'limit' && c.backend === `${f.backend} commit`)
        if (commit?.p99 !== undefined) add(`p99 ≤ 2× a commit's p99 (${(2 * commit.p99).toFixed(1)} ms)`, f.p99 !== undefined ? f.p99 <= 2 * commit.p99 : undefined)
        break
      }
      case 'push': {
        // Per client count and dialect; 50 clients must finish (a figure without `error`).
        const bounds: Record<string, Record<number, number>> = { sqlite: { 1: 40_000, 10: 11_000 }, postgres: { 1: 20_000, 10: 8_000 } }
        const bound = bounds[f.backend]?.[f.clients ?? 1]
        if (bound !== undefined) add(`≥ ${bound.toLocaleString('en-US')} rec/s`, f.recordsPerSec !== undefined ? f.recordsPerSec >= bound : undefined)
        else if ((f.clients ?? 1) >= 50) add('finishes', true)
        break
      }
      default:
        break
    }
    if (t.length > 0) {
      f.target = t.join(', ')
      f.met = ok.length === 0 ? null : ok.every(Boolean)
    }
  }
}
