/**
 * The cluster tests' app: one synced table `items` of two tenants. A principal is `<tenant>:<user>`
 * (the token), reads its tenant's rows and writes only those.
 */
import { boolean, integer, pgTable, text } from 'drizzle-orm/pg-core'
import type { Authenticate, Authorize, Principal } from '@lastword/server'

export const items = pgTable('items', {
  uid: text('uid').primaryKey(),
  tenant: text('tenant').notNull(),
  list: text('list').notNull(),
  title: text('title').notNull(),
  done: boolean('done').notNull(),
  n: integer('n'),
  body: text('body'),
})

export const CREATE_ITEMS =
  'CREATE TABLE IF NOT EXISTS items (uid text PRIMARY KEY, tenant text NOT NULL, list text NOT NULL, title text NOT NULL, done boolean NOT NULL, n integer, body text)'

/** The PostgreSQL adapter's table for payloads over NOTIFY's 8,000 bytes. */
export const ATTACHMENTS_TABLE = 'lw_io_attachments'

export interface Item {
  readonly tenant?: string
  list: string
  title: string
  done: boolean
  n: number | null
  body: string | null
}

export const authenticate: Authenticate = ({ token }) => {
  const match = /^([a-z]+):([a-z0-9-]+)$/.exec(token ?? '')
  if (match === null) return null
  return { id: match[2] as string, tenant: match[1] as string } satisfies Principal
}

export const authorize: Authorize = (request) => {
  const tenant = request.principal['tenant'] as string
  if (request.op === 'read') return { tenant }
  return [request.before, request.after].every((row) => row === null || row['tenant'] === tenant)
}
