/** The public surface is a decision: the names each entry point exports are pinned here. */
import { describe, expect, it } from 'vitest'
import * as main from '../../src/index.js'
import * as testing from '../../src/testing/index.js'

describe('public API', () => {
  it('pins the runtime exports of @lastword/client', () => {
    expect(Object.keys(main).sort()).toEqual([
      'ERROR_CODES',
      'IDB_SCHEMA_VERSION',
      'INSPECT_LIMITS',
      'LastwordError',
      'STATUS_EVENTS',
      'argsKey',
      'createDefaultRuntime',
      'createIdbStore',
      'createMemoryStore',
      'createSocketTransport',
      'createSyncClient',
      'isLastwordError',
      'readSyncStatus',
      'uuidv7',
    ])
  })

  it('pins the exports of @lastword/client/testing', () => {
    expect(Object.keys(testing).sort()).toEqual(['createManualRuntime', 'idbConnection', 'withDroppedRealtime'])
  })

  it('re-exports core’s error class and guard, so an app needs no other lastword package', () => {
    const error = new main.LastwordError('NOT_FOUND', 'gone')
    expect(main.isLastwordError(error, 'NOT_FOUND')).toBe(true)
    expect(main.ERROR_CODES).toContain('QUOTA_EXCEEDED')
  })
})

// Type-only exports are pinned by compiling: each must resolve from the main entry.
export type Pinned = [
  main.SyncClient,
  main.SyncClientOptions,
  main.TableHandle<object>,
  main.TableHandleOf<{ todos: { $inferSelect: { uid: string; title: string } } }, 'todos'>,
  main.TableAccessor<undefined>,
  main.SyncSchema,
  main.TableName<{ todos: { $inferSelect: { uid: string } } }>,
  main.CreateInput<{ title: string }>,
  main.UpdatePatch<{ title: string }>,
  main.TypedWhere<{ title: string }>,
  main.TypedWhereOps<string>,
  main.FilterValue<string>,
  main.TableDescriptor,
  main.TableDescriptorJson,
  main.ClientStatus,
  main.ClientEvents,
  main.ClientInspection,
  main.ScopeInspection,
  main.PendingRecordInspection,
  main.PendingState,
  main.RejectedRecordInspection,
  main.ErrorInspection,
  main.ErrorCode,
  main.WireError,
  main.Where,
  main.QueryOptions,
  main.OrderBy,
  main.ReadRow<object>,
  main.SyncReport,
  main.SyncProgress,
  main.RetryOptions,
  main.Runtime,
  main.CancelTimer,
  main.IdbStore,
  main.IdbStoreOptions,
  main.LocalStore,
  main.StoreTransaction,
  main.StoreMode,
  main.StoredRecord,
  main.StoredScope,
  main.ScanOptions,
  main.Transport,
  main.TransportHandlers,
  main.SocketTransportOptions,
  main.Clock,
  main.TabOptions,
  main.LockManagerLike,
  main.BroadcastChannelFactory,
  testing.ManualRuntime,
]
