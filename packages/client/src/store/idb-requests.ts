/**
 * IndexedDB requests as promises, on whatever factory the app passed. No IndexedDB global is read here:
 * wrappers such as `idb` recognise requests and transactions with `instanceof IDBRequest` and friends,
 * which throws a `ReferenceError` in Node when the factory comes from options (fake-indexeddb) and no
 * globals are installed. These helpers only use the objects they are given.
 */

/** The result of one request: resolves on `success`, rejects with the request's error. */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error ?? abortError())
  })
}

/** The end of a transaction: resolves on `complete`, rejects on `error` or `abort`. */
export function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error ?? abortError())
    tx.onabort = () => reject(tx.error ?? abortError())
  })
}

/**
 * Opens a database: `upgrade` runs inside the version change (on `upgradeneeded`); resolves with the
 * connection on `success`. A `blocked` open waits, as IndexedDB does.
 */
export function openDatabase(
  factory: IDBFactory,
  name: string,
  version: number,
  upgrade: (db: IDBDatabase, oldVersion: number) => void,
): Promise<IDBDatabase> {
  const req = factory.open(name, version)
  req.onupgradeneeded = (event) => upgrade(req.result, event.oldVersion)
  return request(req)
}

function abortError(): Error {
  const error = new Error('The IndexedDB transaction was aborted')
  error.name = 'AbortError'
  return error
}
