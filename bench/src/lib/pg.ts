/** PostgreSQL for the benchmark: a fresh schema per run, dropped after. */
import pg from 'pg'

export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export async function pgAvailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('select 1')
    return null
  } catch (e) {
    return `PostgreSQL unreachable at ${PG_URL}: ${(e as Error).message}`
  } finally {
    await client.end().catch(() => {})
  }
}

export async function createSchema(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(`drop schema if exists "${name}" cascade`)
    await client.query(`create schema "${name}"`)
  } finally {
    await client.end()
  }
}

export async function dropSchema(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(`drop schema if exists "${name}" cascade`)
  } finally {
    await client.end()
  }
}

/** A pool whose connections use `schema` first on their search_path. */
export function poolFor(schema: string, max = 10, Client?: typeof pg.Client): pg.Pool {
  return new pg.Pool({ connectionString: PG_URL, max, options: `-c search_path="${schema}",public`, ...(Client === undefined ? {} : { Client }) })
}

/** Drops every schema whose name starts with `prefix`: what a killed actor left behind. */
export async function dropSchemasStartingWith(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    const { rows } = await client.query<{ name: string }>('select nspname as name from pg_namespace where starts_with(nspname, $1)', [prefix])
    for (const { name } of rows) await client.query(`drop schema if exists "${name}" cascade`)
  } finally {
    await client.end()
  }
}
