/**
 * S16 on PostgreSQL: another tenant's tombstone cannot be re-stamped or re-created through the wire
 * (the cases and what they check: s16-tombstone-tampering.cases.ts).
 */
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { describeTombstoneTampering } from './s16-tombstone-tampering.cases.js'

// Without PostgreSQL, requirePostgres prints why the suite is skipped (and fails the run under CI=true).
describeTombstoneTampering('postgres', pgHarness(4), await requirePostgres())
