/**
 * D05 — two tabs on one IndexedDB (two client instances, one database), with Web Locks or the lease
 * fallback: both write; the owner tab closes mid-sync at a random moment and the other takes over (and
 * sometimes the closed one comes back as a new tab). One sync owner at a time (only one tab's link is
 * ever connected), no record version pushed by one tab once the other had it acknowledged, both converge
 * with a third client (I1, I2, I3).
 * The tabs keep different, often overlapping, scopes: one client database with two scopes (B1 once kept
 * a record both evicted: seed 694681907).
 */
import { IDBFactory } from 'fake-indexeddb'
import { it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import type { Violation } from '../../src/checkers.js'
import { Cluster, type SimClient } from '../../src/cluster.js'
import { openSqlite } from '../../src/databases.js'
import { scaledTimeout } from '../../src/random.js'
import { createBroadcastChannels, createLockManager } from '../../src/tabs.js'

it('D05: two tabs on one IndexedDB: one sync owner, no duplicate pushes, both converge (30 runs in CI)', async () => {
  await runCampaign({ row: 'D05', ciCount: 30, regressionSeeds: [694681907] }, async (seed) => {
    const cluster = await Cluster.start({ label: 'D05', seed, openDatabase: async () => openSqlite() })
    const { rng, vt, network } = cluster
    const violations: Violation[] = []
    try {
      const indexedDB = new IDBFactory()
      const locks = rng.chance(0.5) ? createLockManager() : null
      const tabs = { locks, BroadcastChannel: createBroadcastChannels(), leaseMs: 600, heartbeatMs: 200 }
      const tab = (name: string): SimClient => cluster.addClient({ name, dbName: 'app', indexedDB, tabs })
      let a = tab('tabA')
      let b = tab('tabB')
      const other = cluster.addClient({ name: 'other' })
      const scopeA = rng.int(8)
      const scopeB = rng.int(8)
      cluster.subscribe(a, scopeA)
      cluster.subscribe(b, scopeB)
      cluster.subscribe(other, 7)
      // One owner at a time: sampled all along.
      let owners = 0
      const sampler = setInterval(() => {
        const connected = ['tabA', 'tabB', 'tabA2', 'tabB2'].filter((n) => network.transport(n).connected).length
        owners = Math.max(owners, connected)
      }, 20)
      const write = async (c: SimClient): Promise<void> => {
        if (c.closed) return
        const roll = rng.next()
        if (roll < 0.5) await cluster.create(c)
        else if (roll < 0.9) await cluster.update(c)
        else await cluster.remove(c)
      }
      const closeAt = rng.between(300, 3_000)
      let closed = false
      for (let t = 0; t < 4_000; t += 100) {
        await vt.runFor(100)
        await vt.await(write(rng.chance(0.5) ? a : b))
        if (rng.chance(0.3)) await vt.await(write(other))
        if (!closed && t >= closeAt) {
          closed = true
          // Close the owner (if one is known yet) in the middle of whatever it is doing.
          const victim = a.client.isOwner ? a : b
          victim.closed = true
          await vt.await(victim.client.close())
          if (rng.chance(0.5)) {
            const again = tab(victim === a ? 'tabA2' : 'tabB2')
            cluster.subscribe(again, rng.int(8))
            if (victim === a) a = again
            else b = again
          }
        }
      }
      clearInterval(sampler)
      if (owners > 1) violations.push({ invariant: 'I10', message: 'both tabs were connected at once (two sync owners)' })
      // A version one tab pushed and got acknowledged is never pushed again by the other. (A push cut off
      // unanswered when its owner closed is pushed again by the next owner: at least once, I5 makes it harmless.)
      const ackedBy = new Map<string, string>()
      for (const e of network.events) {
        if (e.type === 'acked' && e.client.startsWith('tab')) ackedBy.set(`${e.record.uid}@${e.record.version}`, e.client)
        if (e.type !== 'push' || !e.client.startsWith('tab')) continue
        for (const r of e.records) {
          const key = `${r.uid}@${r.version}`
          const first = ackedBy.get(key)
          if (first !== undefined && first !== e.client) violations.push({ invariant: 'I5', uid: r.uid, message: `${key} pushed by ${e.client} after ${first} had it acknowledged` })
        }
      }
      violations.push(...(await cluster.heal(60_000)), ...(await cluster.check()))
      return { violations: violations.slice(0, 20) }
    } finally {
      await cluster.close()
    }
  })
}, scaledTimeout(600_000))
