/** `lw:push` units on PostgreSQL (`PG_URL`; a fresh schema per test) with a real foreign key (suite.ts). */
import { requirePostgres } from '../fixtures/db.js'
import { pgFk } from './fk-fixture.js'
import { pushSuite } from './suite.js'

pushSuite('PostgreSQL', pgFk, await requirePostgres())
