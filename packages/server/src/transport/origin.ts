/**
 * Cross-site WebSocket hijacking guard (row S09, docs/test-matrix.md). socket.io's `cors` option only shapes the
 * CORS headers of HTTP long-polling; a WebSocket handshake is not subject to CORS at all, so a page on
 * any site could open a socket carrying the user's cookies. The server therefore checks `Origin` itself,
 * on every HTTP request and upgrade engine.io receives (an engine.io middleware), and again in the
 * socket.io handshake middleware.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { LastwordError } from '@lastword/core'

/** Decides whether a request's `Origin` header may connect. */
export type OriginCheck = (origin: string | undefined) => boolean

/**
 * Builds the check from the allow-list. Entries are normalised through `URL` (`https://App.example/` →
 * `https://app.example`); an entry that is not a URL is a configuration error, thrown at startup.
 *
 * A request without `Origin` is accepted: browsers send it on every WebSocket handshake and every
 * cross-origin request, so its absence means a same-origin GET or a non-browser client — neither is the
 * cross-site attack this guards against (non-browser clients can forge any header anyway). The opaque
 * origin `null` (sandboxed frames, `file:`) is refused.
 */
export function createOriginCheck(allowedOrigins: readonly string[]): OriginCheck {
  const allowed = new Set(
    allowedOrigins.map((entry) => {
      let origin: string
      try {
        origin = new URL(entry).origin
      } catch (error) {
        throw new LastwordError('BAD_REQUEST', `allowedOrigins entry ${JSON.stringify(entry)} is not a URL such as "https://app.example"`, undefined, {
          cause: error,
        })
      }
      if (origin === 'null') throw new LastwordError('BAD_REQUEST', `allowedOrigins entry ${JSON.stringify(entry)} has no origin (use scheme://host[:port])`)
      return origin
    }),
  )
  return (origin) => origin === undefined || allowed.has(origin.toLowerCase())
}

/** The engine.io middleware form: refuses the HTTP request or upgrade before any session exists. */
export function createOriginMiddleware(check: OriginCheck) {
  return (req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void => {
    const origin = req.headers.origin
    if (check(origin)) next()
    else next(new LastwordError('FORBIDDEN', 'Origin not allowed', { origin: String(origin).slice(0, 200) }))
  }
}
