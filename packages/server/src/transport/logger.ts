/**
 * Logging: lastword takes any pino-compatible logger (`logger.warn({ ...fields }, 'message')`) and is
 * silent without one.
 */
import type { Logger } from '../types.js'

const noop = (): void => {}

/** The default logger: drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
