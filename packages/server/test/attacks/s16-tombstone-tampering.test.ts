/**
 * S16 on better-sqlite3: another tenant's tombstone cannot be re-stamped or re-created through the wire
 * (the cases and what they check: s16-tombstone-tampering.cases.ts).
 */
import { sqliteHarness } from '../fixtures/db.js'
import { describeTombstoneTampering } from './s16-tombstone-tampering.cases.js'

describeTombstoneTampering('better-sqlite3', sqliteHarness)
