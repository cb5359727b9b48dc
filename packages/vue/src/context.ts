/** The client a component tree uses: `provideLastword(client)` in a parent's setup, `useLastword()` below it. */
import { hasInjectionContext, inject, provide, type InjectionKey } from 'vue'
import { LastwordError, type SyncClient } from './client-types.js'

/** The injection key of the provided client (`app.provide(LASTWORD_CLIENT, client)` works too). */
export const LASTWORD_CLIENT: InjectionKey<SyncClient> = Symbol('lastword client')

/** Provides `client` to the calling component's descendants (call it in `setup`). */
export function provideLastword(client: SyncClient): void {
  provide(LASTWORD_CLIENT, client)
}

/**
 * The provided client, or `client` when given (composables take an explicit client too, for trees with
 * several). Throws `BAD_REQUEST` with neither. Call it in `setup` (or an `app.runWithContext`).
 */
export function useLastword<C extends SyncClient = SyncClient>(client?: C): C {
  if (client !== undefined) return client
  const provided = hasInjectionContext() ? inject(LASTWORD_CLIENT, null) : null
  if (provided == null) throw new LastwordError('BAD_REQUEST', 'No lastword client: call provideLastword(client) in a parent component, or pass one')
  return provided as C
}
