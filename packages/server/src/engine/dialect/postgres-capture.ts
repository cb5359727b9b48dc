/**
 * Capture on PostgreSQL (ARCHITECTURE.md, "Capture").
 *
 * A row trigger per captured table (generated from its columns) records each change in
 * `lastword_pending`: the table, the uid, the image before and after, encoded as the engine encodes
 * images. It takes no lock of lastword's: a long foreign transaction holds nothing but its own rows.
 * At commit a `CONSTRAINT TRIGGER … DEFERRABLE INITIALLY DEFERRED` on `lastword_pending` runs
 * `lastword_capture_commit()` once per transaction (its first firing does the work; the others find
 * their rows done): it holds the records' metadata in (tbl, uid) order — a placeholder where there is
 * none, as the engine's writes do — stamps each record from the database clock (core's
 * `nextDatabaseStamp`, in SQL as `lastword_stamp`), and writes the metadata and the change log in the
 * statement that takes the version row, the last thing before commit: revs follow commit order (trap 1),
 * so a foreign transaction that commits late is never skipped by a client that pulled meanwhile.
 *
 * The engine's own writes are skipped: its write transaction sets `lastword.capture` to
 * `off:<table>` with `set_config(…, true)` (transaction-local) before it writes the app's rows.
 */
import { DATABASE_NODE, hashString } from '@lastword/core'
import { getTableName, sql } from 'drizzle-orm'
import type { SyncedColumn, SyncedTable } from '../tables.js'
import { all, run, type Tx } from '../tx.js'

const PREFIX = 'lastword_capture_'
/** Arguments of one `json_build_object` call (PostgreSQL allows 100). */
const PAIRS_PER_CALL = 50

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/** The trigger function of a synced table: named after it, within PostgreSQL's 63 bytes. */
function functionName(table: SyncedTable): string {
  const name = `${PREFIX}t_${table.name}`
  return name.length <= 63 ? name : `${name.slice(0, 48)}_${hashString(table.name)}`
}

/** The app table, qualified by its Drizzle schema when it has one. */
function tableRef(table: SyncedTable): string {
  const schema = (table.table as unknown as Record<symbol, unknown>)[Symbol.for('drizzle:Schema')]
  const name = quoteIdent(getTableName(table.table))
  return typeof schema === 'string' && schema !== '' ? `${quoteIdent(schema)}.${name}` : name
}

/**
 * One column of a row as core's normalised value, for `json_build_object`, read from the row as jsonb
 * (`row`, `to_jsonb(NEW)`): a column dropped by the app's DDL since `migrate()` reads as null instead of
 * failing the app's writes until the next `migrate()` regenerates the function.
 */
function valueSql(row: string, column: SyncedColumn): string {
  const key = literal(column.sqlName)
  if (column.descriptor.type !== 'timestamp') return `${row} -> ${key}`
  // Core's form is ISO with ms and Z; a `timestamp` without zone holds UTC (drizzle writes it so).
  const zoned = (column.column as unknown as { withTimezone?: boolean }).withTimezone === true
  const value = zoned ? `(${row} ->> ${key})::timestamptz AT TIME ZONE 'UTC'` : `(${row} ->> ${key})::timestamp`
  return `to_char(${value}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

/** The row's image as JSON text, keyed by the descriptor's names: the JSON value the engine stores. */
function imageSql(table: SyncedTable, row: string): string {
  const pairs = table.columns.map((c) => `${literal(c.descriptor.name)}, ${valueSql(row, c)}`)
  if (pairs.length <= PAIRS_PER_CALL) return `json_build_object(${pairs.join(', ')})::text`
  const calls: string[] = []
  for (let i = 0; i < pairs.length; i += PAIRS_PER_CALL) calls.push(`json_build_object(${pairs.slice(i, i + PAIRS_PER_CALL).join(', ')})::jsonb`)
  return `(${calls.join(' || ')})::text`
}

/** `create`, unless the trigger `name` is on `target` already. */
function ensureTrigger(name: string, target: string, create: string): string {
  return `DO $lw$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = ${literal(name)} AND tgrelid = ${literal(target)}::regclass) THEN
    ${create};
  END IF;
END $lw$`
}

/** The row trigger function and triggers of one captured table (replaced on every `migrate()`: they follow its columns). */
function tableCapture(table: SyncedTable, schema: string): string[] {
  const fn = `${quoteIdent(schema)}.${quoteIdent(functionName(table))}`
  const pending = `${quoteIdent(schema)}.lastword_pending`
  const tbl = literal(table.name)
  const uid = quoteIdent(table.uidSqlName)
  const fm = table.descriptor.merge === 'field' ? 'true' : 'false'
  const insert = (rows: string[]): string => `INSERT INTO ${pending} (tbl, uid, before, image, fm) VALUES ${rows.join(', ')};`
  const newImage = imageSql(table, 'n')
  const oldImage = imageSql(table, 'o')
  const target = tableRef(table)
  return [
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $lw$
DECLARE
  n jsonb;
  o jsonb;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    -- Row triggers do not see a TRUNCATE: clients would keep every row for ever.
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
      MESSAGE = ${literal(`lastword: TRUNCATE of the synced table "${table.name}" cannot be captured; DELETE its rows instead (or declare it capture: false)`)};
  END IF;
  IF current_setting('lastword.capture', true) = ${literal(`off:${table.name}`)} THEN RETURN NULL; END IF;
  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
  IF TG_OP = 'INSERT' THEN
    ${insert([`(${tbl}, NEW.${uid}, NULL, ${newImage}, ${fm})`])}
  ELSIF TG_OP = 'DELETE' THEN
    ${insert([`(${tbl}, OLD.${uid}, ${oldImage}, NULL, ${fm})`])}
  ELSIF NEW.${uid} IS DISTINCT FROM OLD.${uid} THEN
    ${insert([`(${tbl}, OLD.${uid}, ${oldImage}, NULL, ${fm})`, `(${tbl}, NEW.${uid}, NULL, ${newImage}, ${fm})`])}
  -- An update that changes nothing changes nothing a client holds.
  ELSIF o IS DISTINCT FROM n THEN
    ${insert([`(${tbl}, NEW.${uid}, ${oldImage}, ${newImage}, ${fm})`])}
  END IF;
  RETURN NULL;
END $lw$`,
    // The triggers call the function by name, so replacing it above is enough once they exist (creating a
    // trigger takes a lock that would stop the app's writers on every migrate()).
    ensureTrigger('lastword_capture_ins', target, `CREATE TRIGGER lastword_capture_ins AFTER INSERT ON ${target} FOR EACH ROW EXECUTE FUNCTION ${fn}()`),
    ensureTrigger('lastword_capture_upd', target, `CREATE TRIGGER lastword_capture_upd AFTER UPDATE ON ${target} FOR EACH ROW EXECUTE FUNCTION ${fn}()`),
    ensureTrigger('lastword_capture_del', target, `CREATE TRIGGER lastword_capture_del AFTER DELETE ON ${target} FOR EACH ROW EXECUTE FUNCTION ${fn}()`),
    ensureTrigger('lastword_capture_truncate', target, `CREATE TRIGGER lastword_capture_truncate BEFORE TRUNCATE ON ${target} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`),
  ]
}

/** What every captured table shares: the stamp function and the commit-time trigger. */
function sharedCapture(schema: string): string[] {
  const s = quoteIdent(schema)
  const node = literal(`-${DATABASE_NODE}`)
  const hex12 = (text: string) => `('x' || lpad(substr(${text}, 1, 12), 16, '0'))::bit(64)::bigint`
  return [
    // Core's nextDatabaseStamp(previous, now), in SQL.
    `CREATE OR REPLACE FUNCTION ${s}.lastword_stamp(previous text, now_ms bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $lw$
  SELECT CASE
    WHEN previous IS NULL OR now_ms > ${hex12('previous')} THEN lpad(to_hex(now_ms), 12, '0') || '-0000' || ${node}
    WHEN substr(previous, 14, 4) <> 'ffff' THEN substr(previous, 1, 13) || lpad(to_hex(('x' || lpad(substr(previous, 14, 4), 8, '0'))::bit(32)::int + 1), 4, '0') || ${node}
    ELSE lpad(to_hex(${hex12('previous')} + 1), 12, '0') || '-0000' || ${node} END
$lw$`,
    `CREATE OR REPLACE FUNCTION ${s}.lastword_capture_commit() RETURNS trigger LANGUAGE plpgsql AS $lw$
DECLARE
  upto bigint;
  now_ms bigint;
  left_tbls text[];
  left_uids text[];
BEGIN
  -- The first firing of a commit takes every pending row; the others find theirs done. Events fire in the
  -- order they were queued, so this transaction's rows are those from NEW.id on: a range of the key, never
  -- a scan of what other transactions left dead in the table.
  IF NEW.id <= coalesce(nullif(current_setting('lastword.captured', true), ''), '0')::bigint THEN RETURN NULL; END IF;
  SELECT max(id) INTO upto FROM ${s}.lastword_pending WHERE id >= NEW.id;
  IF upto IS NULL THEN RETURN NULL; END IF;
  PERFORM set_config('lastword.captured', upto::text, true);
  -- Statistics of lastword_pending are never representative (empty between transactions): planning these
  -- statements afresh at every commit, or JIT-compiling them on the planner's guesses, costs more than
  -- running them. One generic plan each, interpreted.
  PERFORM set_config('jit', 'off', true);
  PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
  -- Hold the records' metadata in (tbl, uid) order, as the engine's writes do: a placeholder (rev 0, never
  -- committed) where there is none, so that a concurrent writer of the same new uid waits for this one.
  INSERT INTO ${s}.lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image)
    SELECT DISTINCT tbl, uid, '', '', NULL::text, 0, NULL::text FROM ${s}.lastword_pending WHERE id BETWEEN NEW.id AND upto ORDER BY tbl, uid
    ON CONFLICT (tbl, uid) DO NOTHING;
  -- Each by its key (LATERAL): never a scan of lastword_meta, whatever its size.
  PERFORM 1 FROM (SELECT DISTINCT tbl, uid FROM ${s}.lastword_pending WHERE id BETWEEN NEW.id AND upto ORDER BY tbl, uid) p,
    LATERAL (SELECT 1 FROM ${s}.lastword_meta m WHERE m.tbl = p.tbl AND m.uid = p.uid FOR UPDATE) l;
  now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  -- Per record: the transaction's net change (the last image, or a delete) against what lastword holds.
  WITH p AS (SELECT tbl, uid, min(id) AS head, max(id) AS tail FROM ${s}.lastword_pending WHERE id BETWEEN NEW.id AND upto GROUP BY tbl, uid),
  e AS (SELECT p.tbl, p.uid, p.head, l.image, l.image IS NULL AS deleted, l.before AS last_before, l.fm,
      m.created_at AS mc, m.updated_at AS mu, m.deleted_at AS md, m.image AS mi, m.fields AS mf, coalesce(m.rev, 0) > 0 AS known
    FROM p JOIN ${s}.lastword_pending l ON l.id = p.tail
      LEFT JOIN LATERAL (SELECT * FROM ${s}.lastword_meta x WHERE x.tbl = p.tbl AND x.uid = p.uid) m ON true),
  w AS (SELECT e.*, ${s}.lastword_stamp(CASE WHEN known THEN coalesce(md, mu) END, now_ms) AS st, row_number() OVER (ORDER BY head) AS o FROM e
    WHERE CASE WHEN deleted THEN known AND md IS NULL
      ELSE NOT known OR md IS NOT NULL OR mi IS NULL OR mi::jsonb IS DISTINCT FROM image::jsonb END),
  cnt AS (SELECT count(*) AS k FROM w),
  v AS (UPDATE ${s}.lastword_state SET rev = rev + (SELECT k FROM cnt) WHERE id = 1 AND (SELECT k FROM cnt) > 0 RETURNING rev),
  wm AS (INSERT INTO ${s}.lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image, fields)
    SELECT w.tbl, w.uid,
      -- A row table's re-create takes the new stamp as its creation (R5); a field-merge record keeps its least (section 3a).
      CASE WHEN deleted OR (known AND (md IS NULL OR fm)) THEN mc ELSE st END,
      CASE WHEN deleted THEN mu ELSE st END,
      CASE WHEN deleted THEN st END,
      v.rev - cnt.k + w.o,
      -- A tombstone keeps the last image (trap 2).
      CASE WHEN deleted THEN coalesce(mi, last_before) ELSE image END,
      CASE WHEN NOT fm THEN NULL
        WHEN deleted THEN mf
        WHEN NOT known OR md IS NOT NULL THEN (SELECT json_object_agg(col, st)::text FROM json_object_keys(image::json) AS col)
        -- Only the columns that changed take the new stamp; the others keep theirs (none stored: updated_at).
        ELSE (SELECT json_object_agg(col, CASE WHEN (image::jsonb -> col) IS DISTINCT FROM (mi::jsonb -> col) THEN st
            WHEN mf IS NULL THEN mu ELSE coalesce(mf::jsonb ->> col, mc) END)::text FROM json_object_keys(image::json) AS col) END
    FROM w CROSS JOIN v CROSS JOIN cnt
    ON CONFLICT (tbl, uid) DO UPDATE SET created_at = excluded.created_at, updated_at = excluded.updated_at,
      deleted_at = excluded.deleted_at, rev = excluded.rev, image = excluded.image, fields = excluded.fields),
  c AS (INSERT INTO ${s}.lastword_changes (rev, tbl, uid, before, at)
    SELECT v.rev - cnt.k + w.o, w.tbl, w.uid, CASE WHEN known AND md IS NULL THEN mi END, now_ms FROM w CROSS JOIN v CROSS JOIN cnt)
  -- The placeholders nothing was written over: a record created and deleted within the transaction.
  SELECT array_agg(e.tbl), array_agg(e.uid) INTO left_tbls, left_uids FROM e WHERE deleted AND NOT known;
  FOR i IN 1 .. coalesce(array_length(left_uids, 1), 0) LOOP
    DELETE FROM ${s}.lastword_meta WHERE tbl = left_tbls[i] AND uid = left_uids[i] AND rev = 0;
  END LOOP;
  DELETE FROM ${s}.lastword_pending WHERE id BETWEEN NEW.id AND upto;
  RETURN NULL;
END $lw$`,
    ensureTrigger(
      'lastword_capture_commit',
      `${s}.lastword_pending`,
      `CREATE CONSTRAINT TRIGGER lastword_capture_commit AFTER INSERT ON ${s}.lastword_pending DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ${s}.lastword_capture_commit()`,
    ),
  ]
}

/** The schema lastword's tables were created in (the connection's current schema). */
function* currentSchema(): Tx<string> {
  const rows = yield* all(sql`SELECT current_schema() AS s`)
  return String(rows[0]?.['s'])
}

/** Drops lastword's trigger functions, with their triggers, from every table but those of `keep`. */
export function* dropCapture(keep: readonly SyncedTable[]): Tx<void> {
  const schema = yield* currentSchema()
  const kept = new Set(keep.map(functionName))
  const installed = yield* all(sql`SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${schema} AND p.proname LIKE ${`${PREFIX}t\\_%`}`)
  for (const row of installed) {
    const name = String(row['name'])
    if (!kept.has(name)) yield* run(sql.raw(`DROP FUNCTION IF EXISTS ${quoteIdent(schema)}.${quoteIdent(name)}() CASCADE`))
  }
}

/** Installs the capture of `tables` and drops lastword's triggers of every other table. */
export function* installCapture(tables: readonly SyncedTable[]): Tx<void> {
  yield* dropCapture(tables)
  const schema = yield* currentSchema()
  for (const statement of sharedCapture(schema)) yield* run(sql.raw(statement))
  for (const table of tables) for (const statement of tableCapture(table, schema)) yield* run(sql.raw(statement))
}

/**
 * Marks the rest of the transaction's writes of `table` as the engine's own, and drops what this
 * transaction captured of `uids` so far (the engine writes their rows next; B27). One statement.
 */
export function* captureOff(table: string, uids: readonly string[]): Tx<void> {
  if (uids.length === 0) {
    yield* run(sql`SELECT set_config('lastword.capture', ${`off:${table}`}, true)`)
    return
  }
  yield* run(
    sql`WITH dropped AS (DELETE FROM lastword_pending WHERE tbl = ${table} AND uid IN (${sql.join(uids.map((u) => sql`${u}`), sql`, `)}) RETURNING 1) SELECT set_config('lastword.capture', ${`off:${table}`}, true), (SELECT count(*) FROM dropped)`,
  )
}

/**
 * Ends the mark: nothing to do, the commit ends it (set with `is_local`), and nothing the engine writes
 * after the app's rows fires a capture trigger — one round trip saved on every push.
 */
export function* captureOn(): Tx<void> {}
