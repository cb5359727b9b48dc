/**
 * Attack S14 (docs/test-matrix.md): a socket that stops reading TCP. Its answers used to pile up in the
 * server's memory without bound (the in-flight cap counted a request done once handed to socket.io).
 * Checks, with a raw WebSocket client whose socket is paused while it keeps sending syncs on loopback,
 * that the bytes the server queues for it stay under `limits.maxQueuedBytesPerSocket` plus the answers
 * in flight, that the socket is then dropped, that memory stays bounded and a bystander is answered;
 * and that a heartbeat answer the server did not ask for closes the socket.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { record, startFixture, waitFor, type Fixture } from '../transport/harness.js'
import { bystanderSync, memory, rawConnect, rawHandshake, rawSync, sampler, serverQueuedBytes } from './raw-client.js'

let fixture: Fixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

const MiB = 1024 * 1024
/** A full reconciliation from nothing: its answer carries every row. */
const FULL_PAGE = { full: { cursor: null, entries: [], complete: true }, pageSize: 1_000 }
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('S14: a socket that stops reading', () => {
  it('bounds the bytes queued for it and drops it, while a bystander is served', async () => {
    const bound = 1 * MiB
    fixture = await startFixture({ limits: { maxQueuedBytesPerSocket: bound } })
    // 64 rows of 4 KB: every full page is ~260 KB.
    await fixture.sync.service('todos').push(Array.from({ length: 64 }, (_, i) => record({ project: 'p', title: `${i}`.padEnd(4_096, 'x'), done: false })))
    const attacker = await rawConnect(fixture)
    expect((await rawHandshake(attacker)).startsWith('40')).toBe(true)
    ;(attacker.ws as unknown as { _socket: { pause(): void } })._socket.pause()

    const base = memory()
    const heap = sampler(memory)
    const queued = sampler(() => serverQueuedBytes(fixture!))
    const dropped = (): boolean => fixture!.logs.some((l) => l.msg === 'lastword: socket not reading; closed')
    // 180 requests at 150/s (under the rate limit): ~47 MB of answers it never reads.
    for (let i = 0; i < 60 && !dropped(); i++) {
      for (let j = 0; j < 3; j++) attacker.send(rawSync(i * 3 + j, FULL_PAGE))
      await delay(20)
    }
    expect(await bystanderSync(fixture)).toBeLessThan(5_000)
    await waitFor(dropped, 3_000, 'the slow reader dropped')
    await waitFor(() => fixture!.sync.io!.engine.clientsCount === 0, 3_000, 'its connection gone')
    heap.stop()
    queued.stop()
    // Bound: the limit plus the answers in flight when it was crossed (at most 16 pages of ~260 KB).
    expect(queued.max()).toBeLessThan(bound + 16 * 270 * 1024)
    // Bound: under 32 MiB of growth where the answers alone were ~47 MB.
    expect(heap.max() - base).toBeLessThan(32 * MiB)
    attacker.close()
  })

  it('closes a socket that answers a heartbeat the server never sent', async () => {
    fixture = await startFixture()
    const attacker = await rawConnect(fixture)
    expect((await rawHandshake(attacker)).startsWith('40')).toBe(true)
    attacker.send('3') // an engine.io pong, with no ping outstanding
    await Promise.race([attacker.closed, delay(2_000).then(() => Promise.reject(new Error('not closed within 2 s')))])
    expect(await bystanderSync(fixture)).toBeLessThan(5_000)
  })
})
