/**
 * A writer process for `cross-process.pg.test.ts`: its own engine on the shared schema. On each
 * `{ type: 'go', round }` it pushes `LW_SYNCS` syncs of `LW_BATCH` new records each (uids
 * `w<round>.<id>-<sync>-<k>`) as fast as it can, then reports `{ type: 'done', round }` over IPC.
 */
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { createEngine } from '../../src/engine/index.js'
import { pgTodos } from '../fixtures/schema.js'
import { live, principal, request, stamp, todo } from '../engine/helpers.js'

const id = Number(process.env['LW_WRITER'])
const syncs = Number(process.env['LW_SYNCS'] ?? 50)
const batch = Number(process.env['LW_BATCH'] ?? 4)
const pool = new pg.Pool({ connectionString: process.env['PG_URL'], options: `-c search_path=${process.env['LW_SCHEMA']}`, max: 4, application_name: `lw-writer-${id}` })
const engine = createEngine({ db: drizzle(pool), tables: { todos: { table: pgTodos, serverColumns: { tenant: () => 'A' } } } })
const ctx = principal(`writer${id}`, 'A')
const node = (id + 1).toString(16).padStart(16, '0')
async function round(r: number): Promise<void> {
  for (let s = 0; s < syncs; s++) {
    const push = Array.from({ length: batch }, (_, k) => live(`w${r}_${id}-${s}-${k}`, stamp(1 + r * 1000 + s, k, node), todo({ title: `w${r}_${id}-${s}-${k}` })))
    // Each writer syncs its own priority: disjoint scopes in-process, one table lock across processes.
    const page = await engine.sync(ctx, request('todos', { where: { priority: id }, push }))
    if (page.outcomes.some((o) => o.status !== 'applied')) throw new Error(`writer ${id}: ${JSON.stringify(page.outcomes)}`)
  }
}

process.on('message', (raw) => {
  const message = raw as { type: string; round?: number }
  if (message.type === 'go') {
    const r = Number(message.round)
    round(r).then(
      () => process.send?.({ type: 'done', round: r }),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  } else if (message.type === 'stop') {
    void engine.close().then(() => pool.end()).then(() => process.exit(0))
  }
})
process.send?.({ type: 'ready' })
