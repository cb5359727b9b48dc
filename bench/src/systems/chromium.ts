/**
 * Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) on real IndexedDB: the raw
 * bulk put limit, and lastword's initial sync in the browser (the client bundled by esbuild).
 */
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium, type Browser, type Page } from 'playwright-core'
import { DATA_SOURCE } from '../lib/data.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // performance.memory unquantized: the page's JS heap is reported beside the initial sync.
  '--enable-precise-memory-info',
]

export function createActor() {
  let browser: Browser | undefined
  let page: Page | undefined
  let http: Server | undefined
  let origin = ''
  const routes = new Map<string, { type: string; body: string }>()
  const fresh = async () => {
    await page?.close()
    page = await browser!.newPage()
    await page.goto(`${origin}/`)
  }
  return {
    /** Launches Chromium; the reason if it cannot (never throws for a missing browser). */
    async start(): Promise<string | null> {
      if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`
      routes.set('/', { type: 'text/html', body: '<!doctype html><title>bench</title>' })
      http = createServer((req, res) => {
        const r = routes.get((req.url ?? '/').split('?')[0]!)
        if (!r) {
          res.writeHead(404).end()
          return
        }
        res.writeHead(200, { 'content-type': r.type }).end(r.body)
      })
      await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve))
      origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true })
      await fresh()
      return null
    },
    /** One readwrite transaction of N puts on real IndexedDB; the rows are made in the page first. */
    async rawBulkPut(n: number, reps: number): Promise<number[]> {
      const out: number[] = []
      for (let r = 0; r < reps; r++) {
        await fresh()
        const ms = await page!.evaluate(`(async () => {
          ${DATA_SOURCE}
          const items = []
          for (let i = 0; i < ${n}; i++) items.push(makeItem(i))
          const name = 'raw${r}'
          await new Promise((res) => { const d = indexedDB.deleteDatabase(name); d.onsuccess = d.onerror = () => res() })
          const db = await new Promise((res, rej) => {
            const o = indexedDB.open(name, 1)
            o.onupgradeneeded = () => o.result.createObjectStore('items', { keyPath: 'uid' })
            o.onsuccess = () => res(o.result)
            o.onerror = () => rej(o.error)
          })
          const t0 = performance.now()
          const tx = db.transaction('items', 'readwrite')
          const store = tx.objectStore('items')
          for (const it of items) store.put(it)
          await new Promise((res, rej) => { tx.oncomplete = () => res(); tx.onerror = () => rej(tx.error) })
          const ms = performance.now() - t0
          db.close()
          await new Promise((res) => { const d = indexedDB.deleteDatabase(name); d.onsuccess = d.onerror = () => res() })
          return ms
        })()`)
        out.push(ms as number)
      }
      return out
    },
    /**
     * lastword's initial sync on real IndexedDB: the client bundled by esbuild (source condition), a
     * new database per repetition, the whole table subscribed; timed from connect() to in sync. The
     * page's used JS heap (`performance.memory`, Chromium only) is sampled every 20 ms during the sync:
     * `heapPeakMb` is the largest sample above the heap before connect(), so it shows whether the heap
     * grows with N or stays bounded by the page size.
     */
    async lastwordInitial(url: string, n: number, reps: number): Promise<{ samples: number[]; heapPeakMb?: number; error?: string }> {
      if (!routes.has('/lastword.js')) {
        const out = await build({
          entryPoints: [fileURLToPath(new URL('../browser/entry.ts', import.meta.url))],
          bundle: true,
          format: 'iife',
          platform: 'browser',
          target: 'es2022',
          conditions: ['@lastword/source'],
          write: false,
          logLevel: 'silent',
        })
        routes.set('/lastword.js', { type: 'text/javascript', body: out.outputFiles[0]!.text })
        routes.set('/', { type: 'text/html', body: '<!doctype html><title>bench</title><script src="/lastword.js"></script>' })
      }
      const samples: number[] = []
      let heapPeakMb: number | undefined
      for (let r = 0; r < reps; r++) {
        await fresh()
        const res = (await page!.evaluate(`(async () => {
          const { createSyncClient } = globalThis.lastword
          const client = createSyncClient({ name: 'bench-${n}-${r}', url: ${JSON.stringify(url)}, tabs: false, autoConnect: false })
          await client.ready()
          let syncs = 0
          client.on('sync', () => { syncs++ })
          const items = client.table('items')
          const done = new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('not in sync after 590 s, status ' + client.status)), 590000)
            const check = () => {
              if (syncs === 0 || client.status !== 'online') return
              client.pendingCount().then((p) => { if (p === 0 && client.status === 'online') { clearTimeout(t); resolve() } })
            }
            client.on('sync', check); client.on('status', check)
          })
          const heap = () => (performance.memory ? performance.memory.usedJSHeapSize : 0)
          const base = heap()
          let peak = base
          const sampler = setInterval(() => { peak = Math.max(peak, heap()) }, 20)
          const t0 = performance.now()
          items.subscribe({}, () => {})
          client.connect()
          await done
          const ms = performance.now() - t0
          clearInterval(sampler)
          peak = Math.max(peak, heap())
          const count = (await items.findMany({})).length
          await client.clear()
          return { ms, count, heapPeakMb: base > 0 ? (peak - base) / 1048576 : undefined }
        })()`)) as { ms: number; count: number; heapPeakMb?: number }
        if (res.count !== n) return { samples, error: `chromium replica holds ${res.count} records, expected ${n}` }
        samples.push(res.ms)
        if (res.heapPeakMb !== undefined) heapPeakMb = Math.max(heapPeakMb ?? 0, res.heapPeakMb)
      }
      return heapPeakMb === undefined ? { samples } : { samples, heapPeakMb }
    },
    async stop() {
      await browser?.close()
      await new Promise((r) => http?.close(r))
      return null
    },
  }
}
