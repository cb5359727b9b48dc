/**
 * The demo, end to end, in Debian's Chromium: two devices go offline, edit the same and different
 * records, one deletes what the other edited earlier, the page is reloaded while offline, both come
 * back — and both devices and the server's pane converge on the last-writer-wins result. Then a list
 * deleted offline on one device wins over an offline edit of its todo on the other (core's SPEC.md
 * section 4a): the edit is refused with a readable line in the log and the todo leaves every pane.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer, type DemoServer } from '../server/index.js'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
const RESULTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'test-results')
const LIVENESS = { timeout: 30_000, interval: 200 }

if (!hasChromium && !process.env.CI) {
  console.warn(`demo.browser.test: skipped — ${CHROMIUM} is missing (apt-get install -y chromium)`)
}

type Device = 'laptop' | 'phone'
type Item = [title: string, done: boolean]

describe.runIf(hasChromium || process.env.CI)('the demo in a real browser', () => {
  let dir: string
  let server: DemoServer
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
    dir = mkdtempSync(join(tmpdir(), 'lastword-demo-'))
    server = await startDemoServer({
      port: 0,
      host: '127.0.0.1',
      databasePath: join(dir, 'demo.db'),
      outDir: join(dir, 'web'),
    })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(`http://127.0.0.1:${server.port}/`)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const item = (device: Device, title: string) => page.locator(`[data-testid="${device}-todo"][data-title="${title}"]`)

  const items = (device: Device): Promise<Item[]> =>
    page.$$eval(`[data-testid="${device}-todo"]`, (els) =>
      els.map((el) => [el.getAttribute('data-title') ?? '', el.getAttribute('data-done') === 'true'] as Item).sort(),
    )

  const serverItems = (): Promise<Item[]> =>
    page.$$eval('[data-testid="server-row"]', (els) =>
      els.map((el) => [el.getAttribute('data-title') ?? '', el.getAttribute('data-done') === 'true'] as Item).sort(),
    )

  const status = (device: Device) => page.getAttribute(`[data-testid="${device}-status"]`, 'data-status')
  const pending = async (device: Device) => Number(await page.getAttribute(`[data-testid="${device}-pending"]`, 'data-count'))

  async function rename(device: Device, from: string, to: string) {
    await item(device, from).getByTestId('todo-title').click()
    const input = item(device, from).getByTestId('todo-title-input')
    await input.fill(to)
    await input.press('Enter')
    await item(device, to).waitFor()
  }

  async function setOnline(device: Device, online: boolean) {
    await page.getByTestId(`${device}-online-toggle`).setChecked(online)
    if (!online) await expect.poll(() => status(device), LIVENESS).toBe('offline')
  }

  const SEEDED: Item[] = [
    ['Book train tickets', false],
    ['Buy oat milk', false],
    ['Water the plants', false],
  ]

  it('reconciles offline edits, deletes and a reload on last-writer-wins', async () => {
    // Both devices start online and pull the server's seeded rows.
    for (const device of ['laptop', 'phone'] as const) {
      await expect.poll(() => items(device), LIVENESS).toEqual(SEEDED)
      await expect.poll(() => status(device), LIVENESS).toBe('online')
    }
    await expect.poll(serverItems, LIVENESS).toEqual(SEEDED)

    await setOnline('laptop', false)
    await setOnline('phone', false)

    // Laptop first: it edits what the Phone will delete, the record both edit, and one of its own.
    await rename('laptop', 'Water the plants', 'Water the plants and the herbs')
    await rename('laptop', 'Buy oat milk', 'Buy oat milk from the laptop')
    await item('laptop', 'Book train tickets').getByTestId('todo-done').check()
    await expect.poll(async () => (await items('laptop')).find(([t]) => t === 'Book train tickets')?.[1], LIVENESS).toBe(true)
    await page.waitForTimeout(50)

    // Then the Phone: a later edit of the same record, a later delete, and an offline create.
    await rename('phone', 'Buy oat milk', 'Buy oat milk from the phone')
    await item('phone', 'Water the plants').getByTestId('todo-delete').click()
    await item('phone', 'Water the plants').waitFor({ state: 'detached' })
    await page.getByTestId('phone-new-title').fill('Call the plumber')
    await page.getByTestId('phone-add').click()
    await item('phone', 'Call the plumber').waitFor()

    const laptopOffline: Item[] = [
      ['Book train tickets', true],
      ['Buy oat milk from the laptop', false],
      ['Water the plants and the herbs', false],
    ]
    const phoneOffline: Item[] = [
      ['Book train tickets', false],
      ['Buy oat milk from the phone', false],
      ['Call the plumber', false],
    ]
    expect(await items('laptop')).toEqual(laptopOffline)
    expect(await items('phone')).toEqual(phoneOffline)
    await expect.poll(() => pending('laptop'), LIVENESS).toBeGreaterThan(0)
    await expect.poll(() => pending('phone'), LIVENESS).toBeGreaterThan(0)
    // Nothing reached the server.
    expect(await serverItems()).toEqual(SEEDED)

    // Reload while offline: the edits come back from IndexedDB, the devices come back offline.
    await page.reload()
    for (const device of ['laptop', 'phone'] as const) {
      await expect.poll(() => status(device), LIVENESS).toBe('offline')
      expect(await page.getByTestId(`${device}-online-toggle`).isChecked()).toBe(false)
    }
    await expect.poll(() => items('laptop'), LIVENESS).toEqual(laptopOffline)
    await expect.poll(() => items('phone'), LIVENESS).toEqual(phoneOffline)
    await expect.poll(() => pending('laptop'), LIVENESS).toBeGreaterThan(0)
    await expect.poll(() => pending('phone'), LIVENESS).toBeGreaterThan(0)
    await expect.poll(serverItems, LIVENESS).toEqual(SEEDED)
    await page.waitForTimeout(500)
    expect(await serverItems()).toEqual(SEEDED)

    // Back online: everything converges on the latest write per record.
    await setOnline('laptop', true)
    await setOnline('phone', true)
    const converged: Item[] = [
      ['Book train tickets', true], // only the Laptop touched it
      ['Buy oat milk from the phone', false], // the Phone's edit is later
      ['Call the plumber', false], // created offline on the Phone
      // 'Water the plants' is gone: the Phone's delete is later than the Laptop's edit
    ]
    for (const device of ['laptop', 'phone'] as const) {
      await expect.poll(() => items(device), LIVENESS).toEqual(converged)
      await expect.poll(() => pending(device), LIVENESS).toBe(0)
      await expect.poll(() => status(device), LIVENESS).toBe('online')
    }
    await expect.poll(serverItems, LIVENESS).toEqual(converged)
    // The Laptop's log says its edits lost, and to what (pulled over, or superseded when pushed late).
    await expect.poll(() => page.getByTestId('laptop-log').innerText(), LIVENESS).toMatch(/so it wins|lost to/)

    mkdirSync(RESULTS, { recursive: true })
    await page.screenshot({ path: join(RESULTS, 'converged.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  })

  it('"Make a conflict" keeps both edits (a rename and a tick: the todos table merges field by field)', async () => {
    await page.getByTestId('make-conflict').click()
    const card = page.getByTestId('conflict-result')
    await expect.poll(() => card.getAttribute('data-phase'), LIVENESS).toBe('done')
    expect(await card.getAttribute('data-kept')).toBe('both')
    expect(await page.getByTestId('conflict-verdict').innerText()).toMatch(/Both edits were kept/)
    await expect.poll(() => page.getByTestId('laptop-log').innerText(), LIVENESS).toMatch(/both edits kept/)
    const laptop = await items('laptop')
    expect(await items('phone')).toEqual(laptop)
    expect(laptop.some(([title]) => title.endsWith('renamed on the Laptop'))).toBe(true)
    await expect.poll(serverItems, LIVENESS).toEqual(laptop)
    await page.screenshot({ path: join(RESULTS, 'conflict.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  })

  it('deleting a list offline wins over an offline edit of its todo on the other device (PARENT_DELETED)', async () => {
    for (const device of ['laptop', 'phone'] as const) await setOnline(device, true)
    const list = (device: Device, name: string) => page.locator(`[data-testid="${device}-list"][data-name="${name}"]`)
    // The Laptop makes a list and a todo in it; the Phone renames the list; both see everything.
    await page.getByTestId('laptop-new-list-name').fill('Weekend trip')
    await page.getByTestId('laptop-add-list').click()
    await list('phone', 'Weekend trip').waitFor(LIVENESS)
    const listUid = await list('laptop', 'Weekend trip').getAttribute('data-uid')
    await page.getByTestId('laptop-new-todo-list').selectOption(listUid ?? '')
    await page.getByTestId('laptop-new-title').fill('Pack the tent')
    await page.getByTestId('laptop-add').click()
    await list('phone', 'Weekend trip').locator('[data-title="Pack the tent"]').waitFor(LIVENESS)
    await list('phone', 'Weekend trip').getByTestId('list-name').click()
    await list('phone', 'Weekend trip').getByTestId('list-name-input').fill('Camping trip')
    await list('phone', 'Weekend trip').getByTestId('list-name-input').press('Enter')
    await list('laptop', 'Camping trip').waitFor(LIVENESS)
    await expect.poll(() => page.locator('[data-testid="server-row"][data-title="Pack the tent"]').getByTestId('server-row-list').innerText(), LIVENESS).toBe('Camping trip')

    // Offline: the Laptop deletes the list (its todo goes at once), then the Phone renames the todo.
    await setOnline('laptop', false)
    await setOnline('phone', false)
    await list('laptop', 'Camping trip').getByTestId('list-delete').click()
    await list('laptop', 'Camping trip').waitFor({ state: 'detached' })
    expect(await item('laptop', 'Pack the tent').count()).toBe(0)
    await rename('phone', 'Pack the tent', 'Pack the big tent')

    // The Laptop syncs first: the list and its todo are deleted on the server.
    await setOnline('laptop', true)
    await expect.poll(() => pending('laptop'), LIVENESS).toBe(0)
    await expect.poll(async () => (await serverItems()).some(([title]) => title === 'Pack the tent'), LIVENESS).toBe(false)
    // Then the Phone: its edit is refused, its log says why, and the todo and the list leave it too.
    await setOnline('phone', true)
    await expect.poll(() => page.getByTestId('phone-log').innerText(), LIVENESS).toMatch(/edit “Pack the big tent” was refused: its list was deleted on another device, so the todo is gone/)
    await expect.poll(() => item('phone', 'Pack the big tent').count(), LIVENESS).toBe(0)
    await expect.poll(() => list('phone', 'Camping trip').count(), LIVENESS).toBe(0)
    await expect.poll(() => pending('phone'), LIVENESS).toBe(0)
    for (const device of ['laptop', 'phone'] as const) await expect.poll(() => items(device), LIVENESS).toEqual(await serverItems())
    expect((await serverItems()).some(([title]) => title.startsWith('Pack the'))).toBe(false)
    mkdirSync(RESULTS, { recursive: true })
    await page.screenshot({ path: join(RESULTS, 'parent-deleted.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  })

  it('the devtools toggle shows each device’s inspect() snapshot, with an offline edit waiting for a connection', async () => {
    const dock = page.getByTestId('devtools-dock')
    expect(await dock.count()).toBe(0)
    await page.getByTestId('devtools-toggle').click()
    await dock.waitFor()
    const panels = dock.getByTestId('lastword-devtools')
    expect(await panels.count()).toBe(2)
    const laptopPanel = panels.nth(0)
    await expect.poll(() => laptopPanel.getByTestId('lastword-devtools-status').getAttribute('data-status'), LIVENESS).toBe('online')

    // An offline edit on the Laptop: its panel lists it as waiting for a connection.
    await setOnline('laptop', false)
    await page.getByTestId('laptop-new-title').fill('Pack the charger')
    await page.getByTestId('laptop-add').click()
    await item('laptop', 'Pack the charger').waitFor()
    const waiting = laptopPanel.locator('[data-testid="lastword-devtools-pending-record"][data-state="waiting-for-connection"]')
    await expect.poll(() => waiting.count(), LIVENESS).toBe(1)
    expect(await laptopPanel.getByTestId('lastword-devtools-scope').count()).toBeGreaterThan(0)
    mkdirSync(RESULTS, { recursive: true })
    await dock.screenshot({ path: join(RESULTS, 'devtools.png') })

    // Back online: the record is pushed and the panel empties; the toggle hides the panels.
    await setOnline('laptop', true)
    await expect.poll(() => laptopPanel.getByTestId('lastword-devtools-pending').getAttribute('data-count'), LIVENESS).toBe('0')
    await page.getByTestId('devtools-toggle').click()
    await dock.waitFor({ state: 'detached' })
    expect(pageErrors).toEqual([])
  })
})
