/**
 * One load: read the manifest's files straight into the target table the way the
 * mode asks, all inside one transaction so a failure changes nothing.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { LoadContext, LoadResult, Logger } from "@xo-foundry/core";
import { inTransaction, openOptions, resolveDatabase, withConnection, type Connections } from "./database.js";
import { DuckDbSinkError } from "./errors.js";
import { localFiles, type LocalFile } from "./files.js";
import { parseOptions, resolveTarget, sinkOptions, type ResolvedTarget, type SinkOptions } from "./options.js";
import { qualify, quoteIdent, sameName } from "./sql.js";
import { countRows, incoming, rowsWritten, type Column, type Incoming, type Metadata } from "./incoming.js";

const STAGE = quoteIdent("_xo_stage");

export async function load(ctx: LoadContext): Promise<LoadResult> {
  const options = parseOptions(sinkOptions, ctx.options, "sink options");
  const target = resolveTarget(ctx.target, ctx.stream.name, ctx.strategy);
  const database = resolveDatabase(options.database, ctx.projectDir);
  const meta: Metadata = {
    partition: ctx.manifest.partition || ctx.manifest.logicalDate,
    logicalDate: ctx.manifest.logicalDate,
    runId: ctx.runId,
    loadedAt: new Date(),
  };
  // Fetch remote files before taking the database lock, so waiting tasks wait less.
  const local = await localFiles(ctx);
  try {
    const result = await withConnection(database, openOptions(options, ctx.projectDir, ctx.signal), async (conn, more) => {
      try {
        return await inTransaction(conn, () => loadInto(conn, { schema: options.schema, target, files: local.files, meta, log: ctx.log, more }));
      } catch (error) {
        if (!(error instanceof NothingToLoad)) throw outOfMemory(error, options) ?? badData(error) ?? error;
        // A source that returned nothing is far more often an outage than a real deletion.
        ctx.log.warn(`no rows to load; ${error.tableName} is left unchanged`, { mode: target.mode });
        return { table: error.tableName, rowsLoaded: 0, rowsInTable: await countRows(conn, error.relation) };
      }
    });
    ctx.log.info(`loaded ${result.rowsLoaded} rows into ${result.table} (${target.mode})`, {
      database,
      rowsLoaded: result.rowsLoaded,
      rowsInTable: result.rowsInTable,
    });
    return result;
  } finally {
    await local.cleanup();
  }
}

interface Plan {
  readonly schema: string;
  readonly target: ResolvedTarget;
  readonly files: readonly LocalFile[];
  readonly meta: Metadata;
  readonly log: Logger;
  readonly more: Connections;
}

/**
 * Thrown inside the load's transaction when the files held no rows, so the rollback
 * undoes whatever ran before the count was known (deletes, added columns, a replaced table).
 */
class NothingToLoad extends Error {
  constructor(
    readonly relation: string,
    readonly tableName: string,
  ) {
    super(`no rows to load into ${tableName}`);
  }
}

async function loadInto(conn: DuckDBConnection, plan: Plan): Promise<LoadResult> {
  const { schema, target, meta, log } = plan;
  // Fully qualified, so a schema named like an attached catalog (`temp`, `system`) stays a schema.
  const catalog = await currentCatalog(conn);
  const table = qualify(catalog, schema, target.table);
  const name = `${schema}.${target.table}`;
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${qualify(catalog, schema)}`);
  // A table has no row order; holding the files' order back costs a load twice the time at
  // the same memory_limit. Merge turns it back on for the one step that needs it.
  await conn.run("SET preserve_insertion_order = false");

  const rows = await incoming(conn, plan.files, meta, { keys: target.mode === "merge" ? target.keys : [], log, more: plan.more });
  const existing = await tableColumns(conn, catalog, schema, target.table);
  if (!existing && !target.create) {
    throw new DuckDbSinkError(
      "XO_DUCKDB_TABLE_MISSING",
      `table ${name} does not exist and the target has \`create: false\``,
      "create the table first, or remove `create: false` to let the load create it from the files' columns",
    );
  }
  if (existing && !rows.hasFiles) throw new NothingToLoad(table, name);
  // Merge needs the incoming rows twice (to delete what they replace, then to insert) and
  // reduced to one row per key, so only merge keeps them in a temporary table, which
  // DuckDB spills to its temp_directory beyond memory_limit.
  const source = target.mode === "merge" && rows.hasFiles ? await lastRowPerKey(conn, rows, target.keys) : rows;

  let loaded: number;
  if (!existing) {
    // Even with no rows, an empty table with the known columns lets downstream models run.
    loaded = await rowsWritten(conn, `CREATE TABLE ${table} AS ${source.sql}`, source.params);
    return { table: name, rowsLoaded: loaded, rowsInTable: loaded };
  }
  if (target.mode === "replace" && target.create) {
    loaded = await rowsWritten(conn, `CREATE OR REPLACE TABLE ${table} AS ${source.sql}`, source.params);
  } else {
    await addMissingColumns(conn, table, existing, rows.columns, log);
    await clearIncoming(conn, table, target, meta, source);
    loaded = await rowsWritten(conn, `INSERT INTO ${table} BY NAME ${source.sql}`, source.params);
  }
  if (loaded === 0) throw new NothingToLoad(table, name);
  return { table: name, rowsLoaded: loaded, rowsInTable: await countRows(conn, table) };
}

/**
 * The incoming rows in a temporary table, one row per key: the last one read (files in
 * manifest order, rows in file order), which the table's rowid order preserves.
 */
async function lastRowPerKey(conn: DuckDBConnection, rows: Incoming, keys: readonly string[]): Promise<Incoming> {
  await conn.run("SET preserve_insertion_order = true");
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${STAGE} AS ${rows.sql}`, rows.params);
  await conn.run("SET preserve_insertion_order = false");
  const grouped = keys.map(quoteIdent).join(", ");
  await conn.run(`DELETE FROM ${STAGE} WHERE rowid NOT IN (SELECT max(rowid) FROM ${STAGE} GROUP BY ${grouped})`);
  return { ...rows, sql: `SELECT * FROM ${STAGE}`, params: {} };
}

/** DuckDB's "Out of Memory Error" as the setting to change, or undefined for any other error. */
function outOfMemory(error: unknown, options: SinkOptions): DuckDbSinkError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!/^Out of Memory Error/m.test(message)) return undefined;
  return new DuckDbSinkError(
    "XO_DUCKDB_OUT_OF_MEMORY",
    `DuckDB ran out of memory loading at memory_limit ${options.memory_limit}${options.threads ? ` with ${options.threads} threads` : ""}: ${message.split("\n")[0]}`,
    "raise `memory_limit` in the sink block (DuckDB's JSON reader alone takes 32 MB per thread), or lower `threads`",
    { cause: error },
  );
}

/** DuckDB's refusal of a file's content or of a value's type, as the code that says so; undefined for any other error. */
function badData(error: unknown): DuckDbSinkError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!/^(Invalid Input|Conversion) Error/m.test(message)) return undefined;
  return new DuckDbSinkError(
    "XO_DUCKDB_BAD_DATA",
    `DuckDB could not load the landed files, and the table is unchanged: ${message.split("\n")[0]}`,
    "re-run the extract if a file is damaged; if a value does not fit its column's type, fix the source or the table's column",
    { cause: error },
  );
}

/** Deletes the rows the incoming rows take the place of, so re-runs never duplicate. */
async function clearIncoming(conn: DuckDBConnection, table: string, target: ResolvedTarget, meta: Metadata, source: Incoming): Promise<void> {
  switch (target.mode) {
    case "replace":
      // Only reached with `create: false`: the table's definition belongs to the user, so keep it.
      await conn.run(`DELETE FROM ${table}`);
      return;
    case "append":
      await conn.run(`DELETE FROM ${table} WHERE ${quoteIdent("_xo_logical_date")} = CAST($logical_date AS DATE)`, {
        logical_date: meta.logicalDate,
      });
      return;
    case "merge": {
      // IS NOT DISTINCT FROM: a NULL key is a key like any other, as in the staging dedupe.
      const match = target.keys.map((k) => `existing.${quoteIdent(k)} IS NOT DISTINCT FROM incoming.${quoteIdent(k)}`).join(" AND ");
      await conn.run(`DELETE FROM ${table} AS existing USING (${source.sql}) AS incoming WHERE ${match}`, source.params);
      return;
    }
  }
}

async function addMissingColumns(conn: DuckDBConnection, table: string, existing: readonly Column[], incoming: readonly Column[], log: Logger): Promise<void> {
  const missing = incoming.filter((c) => !existing.some((e) => sameName(e.name, c.name)));
  for (const column of missing) {
    // The type text is DuckDB's own rendering of the incoming column's type (it quotes
    // struct field names itself), not text from the config or the files.
    await conn.run(`ALTER TABLE ${table} ADD COLUMN ${quoteIdent(column.name)} ${column.type}`);
  }
  if (missing.length > 0) log.info("added columns", { table, columns: missing.map((c) => `${c.name} ${c.type}`) });
}

async function currentCatalog(conn: DuckDBConnection): Promise<string> {
  const reader = await conn.runAndReadAll("SELECT current_database() AS name");
  return String(reader.getRowObjectsJS()[0]?.name);
}

/** The table's columns, or undefined when there is no such table. */
async function tableColumns(conn: DuckDBConnection, catalog: string, schema: string, table: string): Promise<Column[] | undefined> {
  const reader = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_catalog = $catalog AND lower(table_schema) = lower($schema) AND lower(table_name) = lower($table)
     ORDER BY ordinal_position`,
    { catalog, schema, table },
  );
  const rows = reader.getRowObjectsJS();
  return rows.length === 0 ? undefined : rows.map((r) => ({ name: String(r.column_name), type: String(r.data_type) }));
}
