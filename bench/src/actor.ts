/**
 * A child process that hosts one side of a benchmark (a server, a set of clients, the raw limits…),
 * driven by the orchestrator over IPC. Usage (by `lib/actors.ts`): actor.ts <system module>.
 * Every call's answer carries the process's peak RSS since the last `resetPeak`.
 */
import { peakRss, resetPeak } from './lib/mem.js'

type Handler = (...args: unknown[]) => unknown
interface Msg {
  id: number
  method: string
  args: unknown[]
}

const name = process.argv[2]
if (!name || !/^[a-z0-9-]+$/.test(name)) throw new Error(`bad actor module ${name}`)
const mod = (await import(`./systems/${name}.js`)) as { createActor: () => Promise<Record<string, Handler>> | Record<string, Handler> }
const actor = await mod.createActor()
const builtins: Record<string, Handler> = {
  resetPeak: () => {
    resetPeak()
    return null
  },
  peakRss: () => peakRss(),
  exit: () => {
    setTimeout(() => process.exit(0), 10)
    return null
  },
}

process.on('message', (raw) => {
  const msg = raw as Msg
  const fn = actor[msg.method] ?? builtins[msg.method]
  void (async () => {
    try {
      if (!fn) throw new Error(`${name}: no method ${msg.method}`)
      const result = await fn(...msg.args)
      process.send?.({ id: msg.id, ok: true, result, peak: peakRss() })
    } catch (e) {
      const err = e as Error
      process.send?.({ id: msg.id, ok: false, error: `${err?.message ?? String(e)}`, stack: err?.stack })
    }
  })()
})
// The orchestrator went away (interrupted): clean up what this side made (schemas, files), then exit.
process.on('disconnect', () => {
  const stop = actor.stop as Handler | undefined
  void Promise.race([Promise.resolve(stop?.()).catch(() => null), new Promise((r) => setTimeout(r, 5_000))]).finally(() => process.exit(0))
})
process.on('unhandledRejection', (e) => {
  console.error(`[${name}] unhandled rejection:`, e)
})
resetPeak()
process.send?.({ ready: true })
