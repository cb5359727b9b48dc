/**
 * Client-id bindings (attack V7, row S18 in docs/test-matrix.md): a handshake's `clientId` belongs to
 * the principal that first presented it, durably and across server nodes — one row of
 * `lastword_clients (client_id, principal, expires_at)` in the database, created by `migrate()`. Each
 * use moves the expiry forward; an expired binding is free again and is deleted by the next bind, so the
 * table holds only the ids used within the binding period.
 */
import { sql } from 'drizzle-orm'
import { all, run, type Tx } from './tx.js'

/**
 * Binds `clientId` to `principal` until `now + ttlMs`, unless another principal holds it unexpired.
 * Returns whether the caller holds it now. One upsert decides it, so two principals racing for one id
 * (on one node or two) cannot both win: the row's lock orders them, and the second sees the first's row.
 */
export function* bindClientId(clientId: string, principal: string, now: number, ttlMs: number): Tx<boolean> {
  yield* run(sql`DELETE FROM lastword_clients WHERE expires_at <= ${now}`)
  const expiresAt = now + ttlMs
  yield* run(sql`INSERT INTO lastword_clients (client_id, principal, expires_at) VALUES (${clientId}, ${principal}, ${expiresAt})
    ON CONFLICT (client_id) DO UPDATE SET principal = excluded.principal, expires_at = excluded.expires_at
    WHERE lastword_clients.principal = excluded.principal OR lastword_clients.expires_at <= ${now}`)
  const rows = yield* all(sql`SELECT principal FROM lastword_clients WHERE client_id = ${clientId}`)
  return rows[0]?.['principal'] === principal
}
