/**
 * S16 on PostgreSQL: another tenant's tombstone cannot be re-stamped or re-created through the wire
 * (the cases and what they check: s16-tombstone-tampering.cases.ts).
 */
import { describe, it } from 'vitest'
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { describeTombstoneTampering } from './s16-tombstone-tampering.cases.js'

if (await requirePostgres()) describeTombstoneTampering('postgres', pgHarness(4))
else describe.skip('S16 tombstone tampering (postgres)', () => it('needs PostgreSQL', () => undefined))
