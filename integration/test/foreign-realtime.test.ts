/** T24 by realtime on SQLite: the app's Drizzle writes on the engine's own connection, raw SQL on a second connection to the WAL file (`foreign-realtime/suite.ts`). */
import { foreignRealtimeSuite } from './foreign-realtime/suite.js'

foreignRealtimeSuite('sqlite')
