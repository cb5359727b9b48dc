/** The client a component tree uses: `<LastwordProvider client={…}>` and `useLastword()`. */
import { LastwordError, type SyncClient } from '@lastword/client'
import { createContext, useContext, type ReactNode } from 'react'

const ClientContext = createContext<SyncClient | null>(null)

/** Props of {@link LastwordProvider}. */
export interface LastwordProviderProps {
  client: SyncClient
  children?: ReactNode
}

/** Makes `client` the one the hooks below it use (nest providers for several clients). */
export function LastwordProvider({ client, children }: LastwordProviderProps): ReactNode {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>
}

/**
 * The client of the nearest {@link LastwordProvider}, or `client` when given (hooks take an explicit
 * client too, for trees with several). Throws `BAD_REQUEST` with neither.
 */
export function useLastword<C extends SyncClient = SyncClient>(client?: C): C {
  const provided = useContext(ClientContext)
  const chosen = client ?? provided
  if (chosen === null) throw new LastwordError('BAD_REQUEST', 'No lastword client: wrap the tree in <LastwordProvider client={…}> or pass one')
  return chosen as C
}
