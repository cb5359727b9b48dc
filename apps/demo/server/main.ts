/**
 * `pnpm --filter @lastword/demo start`: builds the web app and serves it with the sync endpoint.
 * PORT (default 3000), HOST (default 127.0.0.1), DATABASE_URL=postgres://… for PostgreSQL,
 * DEMO_DB for another SQLite file. Several nodes (`scripts/start-nodes.mjs`): CLUSTER_ADAPTER=postgres
 * or redis (REDIS_URL, default redis://127.0.0.1:6379), CLUSTER_CHANNEL; DEMO_BUILD=0 serves the web
 * app already built, DEMO_SEED=0 adds no todos.
 */
import { startDemoServer } from './demo-server.js'

const port = process.env.PORT ? Number(process.env.PORT) : 3000
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`lastword demo: PORT must be a port number (got ${process.env.PORT})`)
  process.exit(2)
}

try {
  const server = await startDemoServer({
    port,
    host: process.env.HOST ?? '127.0.0.1',
    databaseUrl: process.env.DATABASE_URL || undefined,
    ...(process.env.DEMO_DB ? { databasePath: process.env.DEMO_DB } : {}),
    ...(process.env.DEMO_BUILD === '0' ? { build: false } : {}),
    ...(process.env.DEMO_SEED === '0' ? { seed: false } : {}),
    ...(process.env.CLUSTER_ADAPTER
      ? {
          cluster: {
            adapter: process.env.CLUSTER_ADAPTER === 'redis' ? ('redis' as const) : ('postgres' as const),
            ...(process.env.CLUSTER_CHANNEL ? { channel: process.env.CLUSTER_CHANNEL } : {}),
            ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
          },
        }
      : {}),
  })
  console.log(`lastword demo: ${server.url}`)
  console.log(`  data: ${server.database}`)
  const stop = (signal: string) => {
    console.log(`lastword demo: ${signal}, stopping`)
    const force = setTimeout(() => process.exit(1), 5000)
    force.unref()
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
} catch (error) {
  const code = (error as { code?: string }).code
  if (code === 'EADDRINUSE') console.error(`lastword demo: port ${port} is in use; try PORT=3001 npm run demo`)
  else console.error('lastword demo: could not start:', error)
  process.exit(1)
}
