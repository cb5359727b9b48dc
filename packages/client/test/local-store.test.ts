import { createMemoryStore } from '../src/index.js'
import { newIdbStore, newIndexedDB } from './helpers.js'
import { runStoreSuite } from './store-suite.js'

runStoreSuite('memory', { create: async () => createMemoryStore() })

const factories = new WeakMap<object, IDBFactory>()
runStoreSuite('indexeddb (fake-indexeddb)', {
  async create() {
    const factory = newIndexedDB()
    const store = newIdbStore('lastword:suite', factory)
    factories.set(store, factory)
    return store
  },
  async reopen(store) {
    return newIdbStore('lastword:suite', factories.get(store))
  },
})
