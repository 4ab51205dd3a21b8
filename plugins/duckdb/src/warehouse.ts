/**
 * The `warehouse` service of the DuckDB sink: what SQL, check and export steps of any
 * plugin use. Every call opens the database file through the same lock queue as the
 * loads, and closes it before returning, so a step never keeps the file from a load
 * (or from a DuckDB shell) longer than its own statement runs.
 *
 * Bare table names in the SQL resolve in the sink's `schema` first, then in `main`,
 * the same way they do for `describe`, so a step can write `select * from orders`.
 */
import { access } from "node:fs/promises";
import path from "node:path";
import { StatementType, type DuckDBConnection } from "@duckdb/node-api";
import type { JsonObject, TableDescription, Warehouse, WarehouseContext } from "@xo-foundry/core";
import { IN_MEMORY, inTransaction, openOptions, resolveDatabase, withConnection } from "./database.js";
import { DuckDbSinkError } from "./errors.js";
import { jsonValue } from "./json.js";
import { parseOptions, sinkOptions } from "./options.js";
import { qualify, quoteIdent, quoteLiteral, sameName, splitQualifiedName } from "./sql.js";
import { countRows } from "./incoming.js";
import { exportToFolder } from "./export.js";
import { bindParams, excerpt, prepareOne } from "./statements.js";

export const DIALECT = "duckdb";

export function duckdbWarehouse(ctx: WarehouseContext): Warehouse {
  const options = parseOptions(sinkOptions, ctx.options, `options of sink ${JSON.stringify(ctx.sink)}`);
  const database = resolveDatabase(options.database, ctx.projectDir);
  const schema = options.schema;

  /** Runs `fn` on a fresh connection; anything DuckDB throws becomes XO_DUCKDB_QUERY_FAILED. */
  async function connected<T>(call: string, sql: string | undefined, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    try {
      return await withConnection(database, openOptions(options, ctx.projectDir, ctx.signal), fn);
    } catch (error) {
      if (error instanceof DuckDbSinkError) throw error;
      // An interrupted statement fails with DuckDB's "Interrupted!"; the caller wants to know why.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw queryFailed(call, database, sql, error);
    }
  }

  /** Steps address the sink's tables by bare name, as the loads create them. */
  async function useSinkSchema(conn: DuckDBConnection): Promise<void> {
    if (sameName(schema, "main")) return;
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    // SET schema reads its value as a qualified name, so a quoted identifier inside the literal.
    await conn.run(`SET schema = ${quoteLiteral(quoteIdent(schema))}`);
  }

  return {
    dialect: DIALECT,

    async query(sql, params = {}) {
      return connected("query", sql, async (conn) => {
        await useSinkSchema(conn);
        const statement = await prepareOne(conn, sql, "query");
        bindParams(statement, params);
        const reader = await statement.runAndReadAll();
        ctx.log.debug("query", { database, rows: reader.currentRowCount });
        return reader.convertRowObjects(jsonValue) as JsonObject[];
      });
    },

    async execute(statements) {
      if (statements.length === 0) return;
      await connected("execute", undefined, async (conn) => {
        await useSinkSchema(conn);
        await inTransaction(conn, async () => {
          for (const [index, sql] of statements.entries()) {
            ctx.signal.throwIfAborted();
            await runStatements(conn, sql).catch((error: unknown) => {
              if (error instanceof DuckDbSinkError || ctx.signal.aborted) throw error;
              throw queryFailed(`execute (statement ${index + 1} of ${statements.length}, rolled back)`, database, sql, error);
            });
          }
        });
      });
      ctx.log.debug("executed statements", { database, statements: statements.length });
    },

    async exportQuery(sql, dir, format, exportOptions = {}) {
      const folder = path.resolve(ctx.projectDir, dir);
      const files = await exportToFolder(
        { sql, params: exportOptions.params ?? {}, folder, format, maxFileBytes: exportOptions.maxFileBytes, signal: ctx.signal },
        (fn) =>
          connected("exportQuery", sql, async (conn) => {
            await useSinkSchema(conn);
            return fn(conn);
          }),
      );
      const rows = files.reduce((n, f) => n + f.rows, 0);
      ctx.log.info(`exported ${rows} rows to ${files.length} file(s) in ${folder}`, { database, format, rows, files: files.length });
      return files;
    },

    async describe(table) {
      const parts = splitQualifiedName(table);
      if (!parts || parts.length > 2) {
        throw new DuckDbSinkError(
          "XO_DUCKDB_TABLE_NAME_INVALID",
          `${JSON.stringify(table)} is not a table name: expected \`table\` or \`schema.table\``,
          'quote a part that contains dots or quotes with double quotes, doubling the quotes inside: `"my.schema"."my ""table"""`',
        );
      }
      const [schemaName, tableName] = parts.length === 2 ? [parts[0]!, parts[1]!] : [schema, parts[0]!];
      // Asking about a table must not create the database file.
      if (database !== IN_MEMORY && !(await exists(database))) return undefined;
      return connected("describe", undefined, (conn) => describeTable(conn, schemaName, tableName));
    },
  };
}

/** Runs every statement of `sql` in order, refusing transaction control: execute() owns the transaction. */
async function runStatements(conn: DuckDBConnection, sql: string): Promise<void> {
  const extracted = await conn.extractStatements(sql);
  for (let i = 0; i < extracted.count; i++) {
    // Prepared one at a time, so a statement may use a table the previous one created.
    const statement = await extracted.prepare(i);
    if (statement.statementType === StatementType.TRANSACTION) {
      throw new DuckDbSinkError(
        "XO_DUCKDB_QUERY_FAILED",
        `execute runs its statements in one transaction of its own; remove BEGIN, COMMIT and ROLLBACK from: ${excerpt(sql)}`,
        "pass only the statements; they all take effect or none do",
      );
    }
    await statement.run();
  }
}

async function describeTable(conn: DuckDBConnection, schema: string, table: string): Promise<TableDescription | undefined> {
  // DuckDB resolves names case-insensitively, so look them up that way and report its own spelling.
  const found = await conn.runAndReadAll(
    `SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables
     WHERE table_catalog = current_database() AND lower(table_schema) = lower($schema) AND lower(table_name) = lower($table)`,
    { schema, table },
  );
  const match = found.getRowObjectsJS()[0];
  if (!match) return undefined;
  const [catalogName, schemaName, tableName] = [String(match.table_catalog), String(match.table_schema), String(match.table_name)];
  const columns = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_catalog = $catalog AND table_schema = $schema AND table_name = $table ORDER BY ordinal_position`,
    { catalog: catalogName, schema: schemaName, table: tableName },
  );
  // Counting a table is cheap in DuckDB; counting a view runs its query, which may not be.
  const rows = match.table_type === "BASE TABLE" ? await countRows(conn, qualify(catalogName, schemaName, tableName)) : undefined;
  return {
    table: `${schemaName}.${tableName}`,
    columns: columns.getRowObjectsJS().map((c) => ({ name: String(c.column_name), type: String(c.data_type) })),
    ...(rows === undefined ? {} : { rows }),
  };
}

function queryFailed(call: string, database: string, sql: string | undefined, error: unknown): DuckDbSinkError {
  const detail = error instanceof Error ? error.message : String(error);
  return new DuckDbSinkError(
    "XO_DUCKDB_QUERY_FAILED",
    `${call} failed on the DuckDB database ${database}: ${detail}${sql === undefined ? "" : `\n  sql: ${excerpt(sql)}`}`,
    hintFor(detail),
    { cause: error },
  );
}

/** DuckDB starts each message with its error class; each class has its usual fix. */
function hintFor(detail: string): string {
  const kind = /^(?:Failed to extract statements: )?([A-Za-z ]+?) Error:/.exec(detail)?.[1];
  switch (kind) {
    case "Parser":
      return "fix the SQL syntax at the position DuckDB marks; steps speak DuckDB's SQL dialect";
    case "Catalog":
      return "check the table, schema and function names: bare table names resolve in the sink's `schema`, then in `main`";
    case "Binder":
      return "check the column names and types the statement uses (`describe` lists a table's columns)";
    case "Conversion":
    case "Invalid Input":
    case "Out of Range":
      return "a value does not fit the type it is used as; cast it explicitly or check the data and the parameters";
    case "Constraint":
      return "the statement breaks a table constraint (NOT NULL, PRIMARY KEY, UNIQUE); fix the data or the statement";
    case "IO":
    case "Permission":
      return "check that the files and directories the statement reads or writes exist and are accessible";
    default:
      return "fix the statement using DuckDB's message above";
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
