/** The browser bundle for the Chromium scenarios: lastword's client, as an app would import it. */
import { createSyncClient } from '@lastword/client'

;(globalThis as unknown as { lastword: unknown }).lastword = { createSyncClient }
