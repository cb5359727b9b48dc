/**
 * A follower tab's `sync()` settles with the owner's outcome — the owner's error code, not a blanket
 * TRANSIENT — and times out on the runtime's clock when no owner answers.
 */
import { describe, expect, it } from 'vitest'
import { isLastwordError } from '@lastword/core'
import { createManualRuntime } from '../../src/testing/index.js'
import type { TabCoordinator } from '../../src/tabs/coordinator.js'
import { createFollowerSide } from '../../src/tabs/follower-side.js'
import type { TabMessage } from '../../src/tabs/messages.js'

function fakeCoordinator(): TabCoordinator & { posted: TabMessage[] } {
  const posted: TabMessage[] = []
  return { posted, isOwner: false, start() {}, post: (m) => void posted.push(m), onMessage() {}, close: async () => undefined }
}

function setup() {
  const runtime = createManualRuntime()
  const coordinator = fakeCoordinator()
  const follower = createFollowerSide({ coordinator, node: 'f', runtime, requestTimeoutMs: 1_000, scopes: () => [{ table: 'todos', where: {} }] })
  const lastSyncId = (): string => (coordinator.posted.filter((m) => m.type === 'sync').at(-1) as { id: string }).id
  return { runtime, coordinator, follower, lastSyncId }
}

describe('follower side', () => {
  it("rejects a sync with the owner's error code", async () => {
    const { follower, lastSyncId } = setup()
    const pending = follower.requestSync().catch((e: unknown) => e)
    follower.onSynced({ type: 'synced', from: 'o', id: lastSyncId(), error: { code: 'UNAUTHENTICATED', message: 'token expired' } })
    const error = await pending
    expect(isLastwordError(error, 'UNAUTHENTICATED')).toBe(true)
    expect((error as Error).message).toBe('token expired')
  })

  it('resolves when the owner synced, and ignores answers to other requests', async () => {
    const { follower, lastSyncId } = setup()
    const pending = follower.requestSync()
    follower.onSynced({ type: 'synced', from: 'o', id: 'someone-else', error: { code: 'INTERNAL', message: 'x' } })
    follower.onSynced({ type: 'synced', from: 'o', id: lastSyncId(), error: null })
    await expect(pending).resolves.toBeUndefined()
  })

  it('gives up with TRANSIENT when no owner answers in time, on the runtime clock', async () => {
    const { runtime, follower } = setup()
    let settled: unknown = 'pending'
    void follower.requestSync().catch((e: unknown) => (settled = e))
    await runtime.advance(999)
    expect(settled).toBe('pending')
    await runtime.advance(1)
    expect(isLastwordError(settled, 'TRANSIENT')).toBe(true)
  })

  it('rejects waiting syncs with CLOSED on close and posts its scopes on demand', async () => {
    const { runtime, coordinator, follower } = setup()
    const pending = follower.requestSync().catch((e: unknown) => e)
    follower.close()
    expect(isLastwordError(await pending, 'CLOSED')).toBe(true)
    expect(runtime.pendingTimers()).toBe(0)
    follower.postScopes()
    expect(coordinator.posted.at(-1)).toEqual({ type: 'scopes', from: 'f', scopes: [{ table: 'todos', where: {} }] })
  })
})
