/**
 * Which dirty records one `lw:push` carries, and how (SPEC.md section 12): every dirty record of every
 * table, in write order (`seq`; records dirty from before sequence numbers, or marked dirty by a page,
 * first), a transaction's records together as one atomic unit placed where its first record is, single
 * writes in non-atomic units between them, and each unit's consecutive records of one table in one
 * group. A unit is never split across requests; the request stops before the unit that would take it
 * past `max` records (one unit alone may reach `max`: a transaction is bounded by it when written).
 */
import type { PushRequest, TableDescriptor } from '@lastword/core'
import type { StoredRecord } from '../store/types.js'
import { toWireRecord } from './records.js'

/** A unit as planned: its records in order. */
export interface PlannedUnit {
  atomic: boolean
  records: StoredRecord[]
}

/** A planned push: its units, and whether eligible records were left for a next request. */
export interface PushPlan {
  units: PlannedUnit[]
  more: boolean
}

/** Orders dirty records for pushing: by write sequence, then table and uid. */
export function writeOrder(a: StoredRecord, b: StoredRecord): number {
  return (a.seq ?? 0) - (b.seq ?? 0) || (a.table < b.table ? -1 : a.table > b.table ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0)
}

/**
 * Plans the units of one push from the dirty records (any order). `waits(record)`: the record may not go
 * now (being pushed already, or its table's schema refused, P8) — a unit with such a record waits whole.
 */
export function planPush(dirty: readonly StoredRecord[], max: number, waits: (record: StoredRecord) => boolean): PushPlan {
  const sorted = [...dirty].sort(writeOrder)
  const byUnit = new Map<string, StoredRecord[]>()
  for (const r of sorted) {
    if (r.unit === undefined) continue
    const members = byUnit.get(r.unit)
    if (members === undefined) byUnit.set(r.unit, [r])
    else members.push(r)
  }
  const units: PlannedUnit[] = []
  const done = new Set<string>()
  let total = 0
  let more = false
  for (const r of sorted) {
    if (r.unit !== undefined) {
      if (done.has(r.unit)) continue
      done.add(r.unit)
      const members = byUnit.get(r.unit) as StoredRecord[]
      if (members.some(waits)) continue
      if (total > 0 && total + members.length > max) {
        more = true
        break
      }
      units.push({ atomic: true, records: members })
      total += members.length
      continue
    }
    if (waits(r)) continue
    if (total + 1 > max) {
      more = true
      break
    }
    const last = units.at(-1)
    if (last !== undefined && !last.atomic) last.records.push(r)
    else units.push({ atomic: false, records: [r] })
    total++
  }
  return { units, more }
}

/** The `lw:push` request of a plan: each unit's consecutive records of one table in one group. */
export function pushRequestOf(plan: PushPlan, descriptor: (table: string) => TableDescriptor | undefined): PushRequest {
  return {
    units: plan.units.map((unit) => {
      const groups: PushRequest['units'][number]['groups'] = []
      for (const record of unit.records) {
        const table = descriptor(record.table)
        let group = groups.at(-1)
        if (group === undefined || group.table !== record.table) {
          groups.push((group = { table: record.table, records: [] }))
          // The schema version the rows are written under (SPEC.md section 11): columns they leave out keep their stored values.
          if (table?.schemaVersion !== undefined) group.schemaVersion = table.schemaVersion
        }
        group.records.push(toWireRecord(record, table))
      }
      return { atomic: unit.atomic, groups }
    }),
  }
}
