/**
 * Builds the web app with Vite (programmatic `build()`, a few seconds) and serves the result.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { build, defaultClientConditions } from 'vite'

/** apps/demo */
export const APP_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..')

export async function buildWeb(outDir: string): Promise<void> {
  await build({
    root: APP_DIR,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    plugins: [react()],
    // Workspace packages export their TypeScript source under this condition: no package build needed.
    resolve: { conditions: ['@lastword/source', ...defaultClientConditions] },
    build: { outDir, emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
  })
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
}

/** Serves files from `root`; unknown paths get index.html (a single-page app). */
export function staticHandler(root: string) {
  const base = resolve(root)
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    let path: string
    try {
      path = decodeURIComponent(url.pathname)
    } catch {
      res.writeHead(400).end('bad path')
      return
    }
    let file = resolve(join(base, path))
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden')
      return
    }
    let info = await stat(file).catch(() => null)
    if (!info || info.isDirectory()) {
      file = join(base, 'index.html')
      info = await stat(file).catch(() => null)
      if (!info) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('the web app is not built')
        return
      }
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream'
    const immutable = file.includes(`${sep}assets${sep}`)
    res.writeHead(200, {
      'content-type': type,
      'content-length': info.size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    createReadStream(file).pipe(res)
  }
}
