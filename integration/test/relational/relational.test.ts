/** Client transactions across tables on SQLite with `PRAGMA foreign_keys = ON` (suite.ts). */
import { relationalSuite } from './suite.js'

relationalSuite('sqlite', 4)
