/**
 * One load: stage the manifest's files, then move the rows into the target table
 * the way the mode asks, all inside one transaction so a failure changes nothing.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { LoadContext, LoadResult, Logger } from "@xo-foundry/core";
import { inTransaction, resolveDatabase, withConnection } from "./database.js";
import { DuckDbSinkError } from "./errors.js";
import { localFiles, type LocalFile } from "./files.js";
import { parseOptions, resolveTarget, sinkOptions, type ResolvedTarget } from "./options.js";
import { qualify, quoteIdent, sameName } from "./sql.js";
import { countRows, STAGE, stageFiles, type Column, type Metadata, type Staged } from "./stage.js";

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
    const result = await withConnection(database, { lockTimeoutMs: options.lock_timeout_ms, signal: ctx.signal }, (conn) =>
      inTransaction(conn, () => loadInto(conn, { schema: options.schema, target, files: local.files, meta, log: ctx.log })),
    );
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
}

async function loadInto(conn: DuckDBConnection, plan: Plan): Promise<LoadResult> {
  const { schema, target, meta, log } = plan;
  // Fully qualified, so a schema named like an attached catalog (`temp`, `system`) stays a schema.
  const catalog = await currentCatalog(conn);
  const table = qualify(catalog, schema, target.table);
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${qualify(catalog, schema)}`);

  const staged = await stageFiles(conn, plan.files, meta, { keys: target.mode === "merge" ? target.keys : [], log });
  const existing = await tableColumns(conn, catalog, schema, target.table);
  if (!existing && !target.create) {
    throw new DuckDbSinkError(
      "XO_DUCKDB_TABLE_MISSING",
      `table ${schema}.${target.table} does not exist and the target has \`create: false\``,
      "create the table first, or remove `create: false` to let the load create it from the files' columns",
    );
  }

  if (!existing) {
    // Even with no rows, an empty table with the known columns lets downstream models run.
    await conn.run(`CREATE TABLE ${table} AS SELECT * FROM ${STAGE}`);
  } else if (staged.rows === 0) {
    // A source that returned nothing is far more often an outage than a real deletion.
    log.warn(`no rows to load; ${schema}.${target.table} is left unchanged`, { mode: target.mode });
  } else if (target.mode === "replace" && target.create) {
    await conn.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${STAGE}`);
  } else {
    await addMissingColumns(conn, table, existing, staged, log);
    await clearIncoming(conn, table, target, meta);
    await conn.run(`INSERT INTO ${table} BY NAME SELECT * FROM ${STAGE}`);
  }

  return { table: `${schema}.${target.table}`, rowsLoaded: staged.rows, rowsInTable: await countRows(conn, table) };
}

/** Deletes the rows the incoming rows take the place of, so re-runs never duplicate. */
async function clearIncoming(conn: DuckDBConnection, table: string, target: ResolvedTarget, meta: Metadata): Promise<void> {
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
      await conn.run(`DELETE FROM ${table} AS existing USING ${STAGE} AS incoming WHERE ${match}`);
      return;
    }
  }
}

async function addMissingColumns(conn: DuckDBConnection, table: string, existing: readonly Column[], staged: Staged, log: Logger): Promise<void> {
  const missing = staged.columns.filter((c) => !existing.some((e) => sameName(e.name, c.name)));
  for (const column of missing) {
    // The type text is DuckDB's own rendering of the staged column's type (it quotes
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
