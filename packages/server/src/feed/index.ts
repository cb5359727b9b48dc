/** The change feed of a node: every committed rev to the local fan-out, once (`feed.ts`). */
export { createChangeFeed, DEFAULT_CHECK_INTERVAL_MS, DEFAULT_FEED_BATCH, DEFAULT_POLL_INTERVAL_MS } from './feed.js'
export type { ChangeFeed, FeedOptions, FeedSource, FeedStats } from './feed.js'
export { createRevTracker } from './revs.js'
export type { RevTracker } from './revs.js'
export { systemTimers, backoff } from './timers.js'
export type { FeedTimers } from './timers.js'
