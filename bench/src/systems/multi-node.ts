/** The multi-node scenario in its own process (an actor): `run(options)` is `runMultiNode` (../scenarios/multi-node.ts). */
import { runMultiNode, type MultiNodeOptions, type MultiNodeResult } from '../scenarios/multi-node.js'

export function createActor() {
  return {
    run: (options: MultiNodeOptions): Promise<MultiNodeResult> => runMultiNode(options),
  }
}
