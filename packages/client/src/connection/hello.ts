/**
 * Taking the server's `lw:hello`: validated, its protocol version checked (a mismatch stops the
 * connection for good), its time seeding the clock's offset while none is known, its descriptors taken unless the app
 * gave its own. A hello whose connection was replaced while it was processed is dropped.
 */
import { LastwordError, PROTOCOL_VERSION, helloSchema } from '@lastword/core'
import type { ClientClock } from '../clock.js'
import type { DescriptorRegistry } from '../tables/descriptor-registry.js'
import type { Connection } from './connection.js'

/** What taking a hello needs. */
export interface HelloDeps {
  connection: Connection
  /** The clock, once the store is open. */
  clock: Promise<ClientClock>
  registry: DescriptorRegistry
  report(error: LastwordError): void
  /** The server's descriptors were taken and stored (other tabs reload them). */
  onTablesStored(): void
  /** Just before the connection is ready: queries waiting for descriptors can start. */
  beforeReady(): void
}

/** Takes the hello received on the connection of `epoch`. */
export async function takeHello(raw: unknown, epoch: number, deps: HelloDeps): Promise<void> {
  const { connection, registry, report } = deps
  const parsed = helloSchema.safeParse(raw)
  if (!parsed.success) {
    report(new LastwordError('BAD_REQUEST', 'The server sent a malformed lw:hello'))
    return
  }
  const hello = parsed.data
  if (hello.protocolVersion !== PROTOCOL_VERSION) {
    report(new LastwordError('PROTOCOL_MISMATCH', `The server speaks lastword protocol ${hello.protocolVersion}, this client ${PROTOCOL_VERSION}; upgrade`))
    connection.dispatch({ type: 'hello-mismatch' })
    return
  }
  const clock = await deps.clock
  if (!connection.isCurrent(epoch)) return
  // One server time, no round trip: it seeds the offset on a first start only; sync answers (four
  // timestamps each) set it from then on.
  clock.seed(hello.serverTime, clock.local())
  // Only awaited when there is something to store: with the app's descriptors the connection is ready
  // in the same turn, before a `sync()` called right after the hello asks the driver.
  if (!registry.fromApp) {
    await registry.takeFromServer(hello.tables, clock)
    if (!connection.isCurrent(epoch)) return
    deps.onTablesStored()
  }
  deps.beforeReady()
  connection.dispatch({ type: 'hello-accepted', epoch })
}
