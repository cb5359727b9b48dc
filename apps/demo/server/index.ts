export { startDemoServer, DEFAULT_DATABASE_PATH } from './demo-server.js'
export type { DemoServer, DemoServerOptions } from './demo-server.js'
