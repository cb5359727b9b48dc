/**
 * lastword's server side: `createSyncServer({ db, tables })` on better-sqlite3 or node-postgres,
 * attached to a node:http server, seeded beforehand by ./lastword-seed.ts (in a process of its own above
 * 2,000 records).
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSyncServer, type SyncServer } from '@lastword/server'
import { makeItem } from '../lib/data.js'
import { createSchema, dropSchema } from '../lib/pg.js'
import { openDb, type OpenedDb } from './lastword-db.js'
import { seed } from './lastword-seed.js'

const seedScript = fileURLToPath(new URL('./lastword-seed.ts', import.meta.url))

export function createActor() {
  let sync: SyncServer | undefined
  let http: Server | undefined
  let opened: OpenedDb | undefined
  let cleanup: (() => Promise<void>) | undefined
  return {
    async start(backend: 'sqlite' | 'postgres', opts: { tag: string; n: number }): Promise<{ port: number; seeded: boolean }> {
      let target: string
      if (backend === 'sqlite') {
        target = join(tmpdir(), `lwbench-${opts.tag}-${process.pid}.db`)
        for (const suffix of ['', '-wal', '-shm']) rmSync(target + suffix, { force: true })
        cleanup = async () => {
          for (const suffix of ['', '-wal', '-shm']) rmSync(target + suffix, { force: true })
        }
      } else {
        target = `lwbench_${opts.tag}_${process.pid}`.slice(0, 60)
        await createSchema(target)
        cleanup = () => dropSchema(target)
      }
      if (opts.n > 0 && opts.n <= 2_000) await seed(backend, target, opts.n)
      else if (opts.n > 0) {
        execFileSync(process.execPath, ['--conditions=@lastword/source', '--import', 'tsx', seedScript, backend, target, String(opts.n)], { stdio: 'inherit' })
      }
      opened = await openDb(backend, target)
      sync = createSyncServer({ db: opened.db, tables: opened.tables })
      await sync.migrate()
      http = createServer()
      sync.attach(http)
      await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve))
      return { port: (http.address() as AddressInfo).port, seeded: true }
    },
    /** 1 % changed on the server: the app's own code updates through the service, record by record. */
    async serverUpdate(indexes: number[], version: number) {
      const service = sync!.service('items')
      for (const i of indexes) {
        const { uid, ...row } = makeItem(i, version)
        await service.update(uid, row)
      }
      return null
    },
    count: () => opened!.count(),
    statements: () => opened!.statements(),
    async stop() {
      await sync?.close()
      await new Promise((r) => http?.close(r))
      await opened?.close()
      await cleanup?.()
      return null
    },
  }
}
