/** Server-side change hooks: every committed change of the synced tables, at least once, in rev order (`runner.ts`). */
export { checkHooks, createHookRunners } from './runner.js'
export type { ChangeHandler, ChangeHook, ChangeHookRetry, ChangeHookStats, HookRunners } from './runner.js'
