/** Tables keyed by the app's primary key, real clients on a better-sqlite3 server (keys/scenarios.ts). */
import { runKeyScenarios } from './keys/scenarios.js'

runKeyScenarios('sqlite')
