/** Whether lastword's server and client public entry points load and export what the bench drives. */
export function createActor() {
  return {
    async probe(): Promise<string | null> {
      try {
        const server = (await import('@lastword/server')) as Record<string, unknown>
        if (typeof server.createSyncServer !== 'function') return '@lastword/server does not export createSyncServer yet'
      } catch (e) {
        return `@lastword/server cannot be loaded: ${(e as Error).message.split('\n')[0]}`
      }
      try {
        const client = (await import('@lastword/client')) as Record<string, unknown>
        if (typeof client.createSyncClient !== 'function') return '@lastword/client does not export createSyncClient yet'
      } catch (e) {
        return `@lastword/client cannot be loaded: ${(e as Error).message.split('\n')[0]}`
      }
      return null
    },
  }
}
