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
      case 'resync-client': {
        add('≤ 55 ms', ms !== undefined ? ms <= 55 : undefined)
        // The figure's round trips include reconnecting; the sync's own are those beyond the baseline.
        const base = figures.find((b) => b.scenario === 'reconnect-none' && b.system === f.system && b.backend === f.backend && b.variant === f.variant && b.n === f.n)
        if (base?.roundTrips !== undefined && f.roundTrips !== undefined) {
          const own = f.roundTrips - base.roundTrips + 1
          add(`1 round trip (${own} beyond reconnecting)`, own <= 1)
        }
        break
      }
      case 'resync-server':
        add('≤ 50 ms', ms !== undefined ? ms <= 50 : undefined)
        break
      case 'initial':
        add('≤ 1.2× raw put', f.ratio !== undefined ? f.ratio <= 1.2 : undefined)
        if (f.down !== undefined) add('≤ 30 MB wire', f.down + (f.up ?? 0) <= 30 * MB)
        if (f.n >= 100_000 && f.serverPeakMb !== undefined && f.clientPeakMb !== undefined) add('≤ 200 MB RSS each side', f.serverPeakMb <= 200 && f.clientPeakMb <= 200)
        break
      case 'realtime':
        add('p50 ≤ 5 ms', f.p50 !== undefined ? f.p50 <= 5 : undefined)
        break
      case 'push':
        if (f.backend === 'sqlite') add('≥ 50,000 rec/s', f.recordsPerSec !== undefined ? f.recordsPerSec >= 50_000 : undefined)
        if (f.backend === 'postgres') add('≥ 25,000 rec/s', f.recordsPerSec !== undefined ? f.recordsPerSec >= 25_000 : undefined)
        break
      default:
        break
    }
    if (t.length > 0) {
      f.target = t.join(', ')
      f.met = ok.length === 0 ? null : ok.every(Boolean)
    }
  }
}
