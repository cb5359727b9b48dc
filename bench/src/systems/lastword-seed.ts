/**
 * Seeds lastword's server database with N records through the server's own write path
 * (`service(table).push`, 5,000 records per transaction). Large seeds run in a process of their own
 * (so the server measured afterwards starts with a clean heap):
 *   lastword-seed.ts <backend> <target> <n>
 */
import { createHlc } from '@lastword/core'
import { createSyncServer } from '@lastword/server'
import { makeItems } from '../lib/data.js'
import { openDb } from './lastword-db.js'

export async function seed(backend: 'sqlite' | 'postgres', target: string, n: number): Promise<void> {
  const opened = await openDb(backend, target)
  const sync = createSyncServer({ db: opened.db, tables: opened.tables })
  await sync.migrate()
  const clock = createHlc({ node: '5eed5eed5eed5eed', now: () => Date.now() })
  const service = sync.service('items')
  for (let i = 0; i < n; i += 5_000) {
    const items = makeItems(Math.min(5_000, n - i), 0, 0, i)
    const outcomes = await service.push(
      items.map(({ uid, ...row }) => {
        const s = clock.next()
        return { uid, created_at: s, updated_at: s, deleted_at: null, row }
      }),
    )
    const bad = outcomes.find((o) => o.status !== 'applied')
    if (bad) throw new Error(`seed: ${JSON.stringify(bad).slice(0, 300)}`)
  }
  await sync.close()
  await opened.close()
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [backend, target, n] = process.argv.slice(2)
  await seed(backend as 'sqlite' | 'postgres', target!, Number(n))
  process.exit(0)
}
