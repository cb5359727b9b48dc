/**
 * Peak resident memory of this process, from the kernel's high-water mark (VmHWM in /proc/self/status).
 * `resetPeak` sets the mark back to the current RSS (writing 5 to /proc/self/clear_refs, Linux ≥ 4.0),
 * so a step's peak is measured from where it started. Off Linux, falls back to sampling `rss`.
 */
import { readFileSync, writeFileSync } from 'node:fs'

let sampled = 0
let timer: NodeJS.Timeout | undefined
let hwmWorks: boolean | undefined

function readHwm(pid: number | 'self' = 'self'): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

export function resetPeak(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  try {
    writeFileSync('/proc/self/clear_refs', '5')
    hwmWorks = readHwm() !== undefined
  } catch {
    hwmWorks = false
  }
  sampled = process.memoryUsage().rss
  if (!hwmWorks && timer === undefined) {
    timer = setInterval(() => {
      sampled = Math.max(sampled, process.memoryUsage().rss)
    }, 10)
    timer.unref()
  }
}

/** Peak RSS in bytes since the last `resetPeak` (or process start). */
export function peakRss(): number {
  const now = process.memoryUsage().rss
  if (hwmWorks !== false) {
    const h = readHwm()
    if (h !== undefined) return Math.max(h, now)
  }
  return Math.max(sampled, now)
}

/** `resetPeak` for another process of ours (a child), without its GC; no-op off Linux. */
export function resetPeakOf(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {
    /* off Linux, or the process is gone: peakRssOf answers undefined */
  }
}

/** Peak RSS in bytes of another process since its last `resetPeakOf`; undefined where unreadable. */
export function peakRssOf(pid: number): number | undefined {
  return readHwm(pid)
}
