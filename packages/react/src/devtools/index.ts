/**
 * @lastword/react/devtools — a panel showing a client's `inspect()` snapshot (scopes, pending records
 * and why each waits, refused records, errors, clock, tab role), refreshed on every client event.
 */
export { LastwordDevtools } from './panel.js'
export type { LastwordDevtoolsProps } from './panel.js'
export { useInspection, INSPECTION_EVENTS } from './use-inspection.js'
export type { InspectionState } from './use-inspection.js'
