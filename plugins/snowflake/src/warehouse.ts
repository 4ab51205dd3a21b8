/**
 * The `warehouse` service of the Snowflake sink: what SQL, check, export and reverse-ETL
 * steps of any plugin use. Every call logs in with the sink's connection, runs, and logs out
 * before returning. Bare table names resolve in the sink's database and schema (the
 * session's), as the loads write them.
 *
 * Parameters are written `$name` and sent as positional binds (statements.ts); values never
 * become SQL text. Rows come back as JSON with Snowflake's types kept (values.ts).
 *
 * execute() runs its statements between BEGIN and COMMIT and rolls back on the first failure.
 * Snowflake commits the open transaction before every DDL statement (CREATE, ALTER, DROP,
 * UNDROP, GRANT, REVOKE, COMMENT) and runs the DDL in a transaction of its own, so only the
 * other statements are all-or-nothing: after a DDL statement a new transaction is opened for
 * the ones that follow, and a failure reports which statements had already been committed.
 *
 * exportQuery() streams the result set through snowflake-sdk (`streamRows`, which downloads
 * the result chunk by chunk) into NDJSON or CSV files on the local disk, split at
 * `maxFileBytes` (export.ts), with the same row encoding as query(). It does not unload with
 * `COPY INTO @stage` + `GET`: nothing this plugin is tested against can run that (fakesnow
 * 0.12.1 refuses `COPY INTO @stage` with "invalid URL prefix" and cannot parse `GET`), and
 * an untested unload path would be a guess. That path would need CREATE STAGE privileges, a
 * temporary internal stage per export, `COPY INTO @stage/prefix FROM (query) FILE_FORMAT =
 * (...) MAX_FILE_SIZE = ... HEADER = TRUE`, then `GET` of each file with the driver's
 * client-side download, and Snowflake's own value formatting (its JSON unload writes
 * timestamps in the session's output format, not ISO 8601). Parquet is refused for the same
 * reason (no Parquet writer here): the error names ndjson/csv or a COPY INTO unload in SQL.
 */
import path from "node:path";
import type { JsonObject, Logger, TableDescription, Warehouse, WarehouseContext } from "@xo-foundry/core";
import { driverOptions, openSession, rejected, resolveLocation, type ResultStream, type Session } from "./client.js";
import { SnowflakeSinkError } from "./errors.js";
import { checkMaxFileBytes, writeParts } from "./export.js";
import { parseOptions, sinkOptions, type SinkOptions } from "./options.js";
import { normalizeName, quoteLiteral } from "./sql.js";
import { bindNamed, excerpt, firstKeyword, isQuery, oneStatement, splitStatements } from "./statements.js";
import { jsonValue, uniqueNames } from "./values.js";

export const DIALECT = "snowflake";

/** DDL commits the open transaction in Snowflake ("Transactions", DDL). */
const DDL = new Set(["CREATE", "ALTER", "DROP", "UNDROP", "GRANT", "REVOKE", "COMMENT"]);
const TRANSACTION_CONTROL = new Set(["BEGIN", "START", "COMMIT", "ROLLBACK"]);

const SNOWFLAKE_HINT = "the message above is Snowflake's; fix the statement, the objects it names, or the role's privileges";

export function snowflakeWarehouse(ctx: WarehouseContext): Warehouse {
  const options = parseOptions(sinkOptions, ctx.options, `options of sink ${JSON.stringify(ctx.sink)}`);
  const log = ctx.log;

  /** A session for one call, with the settings that keep values exact; always closed. */
  async function withSession<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    ctx.signal.throwIfAborted();
    const session = await openSession(await driverOptions(options, ctx.connection));
    try {
      await session.run({ step: "query_tag", sql: sessionSettings(options, ctx.sink), binds: [] });
      return await fn(session);
    } finally {
      await session.close();
    }
  }

  /** Rows of one statement as JSON objects, all of them. */
  async function readAll(session: Session, what: string, sql: string, binds: Parameters<Session["stream"]>[1]): Promise<JsonObject[]> {
    const result = await streamOf(session, what, sql, binds);
    const rows: JsonObject[] = [];
    for await (const row of jsonRows(result, what, sql, ctx.signal)) rows.push(row);
    return rows;
  }

  async function streamOf(session: Session, what: string, sql: string, binds: Parameters<Session["stream"]>[1]): Promise<ResultStream> {
    try {
      return await session.stream(sql, binds, ctx.signal);
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw rejected(what, sql, error, SNOWFLAKE_HINT);
    }
  }

  return {
    dialect: DIALECT,

    async query(sql, params = {}) {
      const statement = oneStatement(sql, "query");
      const bound = bindNamed(statement, params, "query");
      const rows = await withSession((session) => readAll(session, "the query", bound.sql, bound.binds));
      log.debug("query", { rows: rows.length });
      return rows;
    },

    async execute(statements) {
      const all = statements.flatMap((sql) => splitStatements(sql));
      for (const sql of all) refuseTransactionControl(sql);
      if (all.length === 0) return;
      await withSession((session) => runInTransaction(session, all, ctx.signal, log));
      log.debug("executed statements", { statements: all.length });
    },

    async exportQuery(sql, dir, format, exportOptions = {}) {
      if (format === "parquet") {
        throw new SnowflakeSinkError(
          "XO_SNOWFLAKE_EXPORT_FORMAT_UNSUPPORTED",
          `exportQuery cannot write parquet from the Snowflake sink ${JSON.stringify(ctx.sink)}: its exports stream the result into ndjson or csv files`,
          "ask for format ndjson or csv; for Parquet, unload it with Snowflake's COPY INTO @stage ... FILE_FORMAT = (TYPE = PARQUET) from an execute() / sql.run step",
        );
      }
      const statement = oneStatement(sql, "exportQuery");
      if (!isQuery(statement)) {
        throw new SnowflakeSinkError(
          "XO_SNOWFLAKE_SQL_INVALID",
          `exportQuery needs a query that returns rows; got a ${firstKeyword(statement) || "non-SELECT"} statement: ${excerpt(statement)}`,
          "pass a SELECT (or WITH ... SELECT) query; run statements that change data with execute()",
        );
      }
      const bound = bindNamed(statement, exportOptions.params ?? {}, "exportQuery");
      checkMaxFileBytes(exportOptions.maxFileBytes);
      const folder = path.resolve(ctx.projectDir, dir);
      const files = await withSession(async (session) => {
        const result = await streamOf(session, "the export query", bound.sql, bound.binds);
        const columns = uniqueNames(result.columns.map((c) => c.name));
        return writeParts(jsonRows(result, "the export query", bound.sql, ctx.signal), { folder, format, maxFileBytes: exportOptions.maxFileBytes, columns });
      });
      const rows = files.reduce((n, f) => n + f.rows, 0);
      log.info(`exported ${rows} rows to ${files.length} file(s) in ${folder}`, { format, rows, files: files.length });
      return files;
    },

    async describe(table) {
      const location = resolveLocation(options, ctx.connection);
      const [database, schema, name] = tableParts(table, normalizeName(location.database), normalizeName(location.schema));
      return withSession((session) => describeTable(database, schema, name, (what, sql, binds) => readAll(session, what, sql, binds)));
    },
  };
}

/** The session's settings: TIME values with every fraction digit (values.ts reads them), and a query tag. */
export function sessionSettings(options: SinkOptions, sink: string): string {
  const tag = JSON.stringify({ ...options.query_tag, sink, service: "warehouse" });
  return `ALTER SESSION SET TIME_OUTPUT_FORMAT = 'HH24:MI:SS.FF9', QUERY_TAG = ${quoteLiteral(tag)}`;
}

/** The result's rows as JSON objects, keyed by (de-duplicated) column names. */
async function* jsonRows(result: ResultStream, what: string, sql: string, signal: AbortSignal): AsyncGenerator<JsonObject> {
  const names = uniqueNames(result.columns.map((c) => c.name));
  try {
    for await (const values of result.rows) {
      const row: Record<string, ReturnType<typeof jsonValue>> = {};
      result.columns.forEach((column, i) => (row[names[i]!] = jsonValue(values[i], column)));
      yield row;
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw rejected(`${what} (reading its result)`, sql, error, SNOWFLAKE_HINT);
  }
}

function refuseTransactionControl(sql: string): void {
  if (!TRANSACTION_CONTROL.has(firstKeyword(sql))) return;
  throw new SnowflakeSinkError(
    "XO_SNOWFLAKE_SQL_INVALID",
    `execute runs its statements in one transaction of its own; remove BEGIN, COMMIT and ROLLBACK from: ${excerpt(sql)}`,
    "pass only the statements; they all take effect or none do (DDL aside: Snowflake commits each DDL statement at once). Wrap a Snowflake Scripting block in EXECUTE IMMEDIATE $$ ... $$",
  );
}

async function runInTransaction(session: Session, statements: readonly string[], signal: AbortSignal, log: Logger): Promise<void> {
  const run = (step: "begin" | "commit" | "rollback", sql: string) => session.run({ step, sql, binds: [] });
  /** Statements (1-based) that Snowflake has committed: everything up to the last DDL statement run. */
  let committedThrough = 0;
  let open = false;
  try {
    await run("begin", "BEGIN");
    open = true;
    for (const [index, sql] of statements.entries()) {
      signal.throwIfAborted();
      const ddl = DDL.has(firstKeyword(sql));
      if (ddl) log.debug("DDL commits the open transaction in Snowflake", { statement: index + 1 });
      try {
        const result = await session.stream(sql, [], signal);
        // Read to its end, so a failure while the driver fetches the result surfaces here.
        for await (const row of result.rows) void row;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw rejected(`statement ${index + 1} of ${statements.length} of execute()`, sql, error, SNOWFLAKE_HINT);
      }
      if (ddl) {
        committedThrough = index + 1;
        await run("begin", "BEGIN");
      }
    }
    await run("commit", "COMMIT");
    open = false;
  } catch (error) {
    if (open) await run("rollback", "ROLLBACK").catch(() => undefined);
    throw withRollbackNote(error, committedThrough);
  }
}

/** Adds to a failed execute() what was rolled back and what Snowflake had already committed. */
function withRollbackNote(error: unknown, committedThrough: number): unknown {
  if (!(error instanceof SnowflakeSinkError)) return error;
  const [message = "", hint = ""] = error.message.split(/\n {2}hint: /);
  const note =
    committedThrough === 0
      ? "the transaction was rolled back: no statement of this execute() took effect"
      : `the transaction was rolled back, but statements 1 to ${committedThrough} had been committed already (Snowflake commits at each DDL statement)`;
  return new SnowflakeSinkError(error.code, `${message}\n  ${note}`, hint || error.hint, { cause: error.cause ?? error });
}

/**
 * `table`, `schema.table` or `database.schema.table`. An unquoted part is upper-cased (the sink's
 * naming rule, so `orders` is the table a load of `orders` created); a double-quoted part is
 * taken as written, `""` for a quote, so mixed-case names made elsewhere can be described.
 */
export function tableParts(table: string, database: string, schema: string): [string, string, string] {
  const parts: string[] = [];
  const pattern = /\s*(?:"((?:[^"]|"")*)"|([^."]+))\s*(\.|$)/gy;
  let match: RegExpExecArray | null;
  let ended = false;
  while (!ended && (match = pattern.exec(table)) !== null) {
    const quoted = match[1];
    const bare = match[2]?.trim();
    if (quoted === undefined && !bare) break;
    parts.push(quoted !== undefined ? quoted.replaceAll('""', '"') : normalizeName(bare!));
    ended = match[3] === "";
  }
  if (!ended || parts.length === 0 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new SnowflakeSinkError(
      "XO_SNOWFLAKE_TABLE_NAME_INVALID",
      `${JSON.stringify(table)} is not a table name: expected \`table\`, \`schema.table\` or \`database.schema.table\``,
      'quote a part that contains dots or quotes with double quotes, doubling the quotes inside: `"my.schema"."my ""table"""`',
    );
  }
  if (parts.length === 3) return [parts[0]!, parts[1]!, parts[2]!];
  if (parts.length === 2) return [database, parts[0]!, parts[1]!];
  return [database, schema, parts[0]!];
}

type Read = (what: string, sql: string, binds: readonly (string | number)[]) => Promise<JsonObject[]>;

async function describeTable(database: string, schema: string, table: string, read: Read): Promise<TableDescription | undefined> {
  const infoSchema = `"${database.replaceAll('"', '""')}".INFORMATION_SCHEMA`;
  // INFORMATION_SCHEMA lists only what the role may see; a table it cannot see is one it cannot use.
  const [found] = await read(
    "the table lookup",
    `SELECT TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ROW_COUNT FROM ${infoSchema}.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
    [schema, table],
  );
  if (!found) return undefined;
  const columns = await read(
    "the column lookup",
    `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH FROM ${infoSchema}.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [schema, table],
  );
  // ROW_COUNT is kept by Snowflake for tables (no scan); views have none.
  const rows = typeof found.ROW_COUNT === "number" ? found.ROW_COUNT : undefined;
  return {
    table: `${String(found.TABLE_CATALOG)}.${String(found.TABLE_SCHEMA)}.${String(found.TABLE_NAME)}`,
    columns: columns.map((c) => ({ name: String(c.COLUMN_NAME), type: columnType(c) })),
    ...(rows === undefined ? {} : { rows }),
  };
}

/** INFORMATION_SCHEMA's DATA_TYPE with its size, spelled as DESCRIBE TABLE spells it: `NUMBER(38,0)`, `VARCHAR(16777216)`. */
function columnType(column: JsonObject): string {
  const type = String(column.DATA_TYPE);
  const { NUMERIC_PRECISION: precision, NUMERIC_SCALE: scale, CHARACTER_MAXIMUM_LENGTH: length } = column;
  if (type === "NUMBER" && typeof precision === "number") return `NUMBER(${precision},${typeof scale === "number" ? scale : 0})`;
  if (type === "TEXT") return typeof length === "number" ? `VARCHAR(${length})` : "VARCHAR";
  if (type === "BINARY" && typeof length === "number") return `BINARY(${length})`;
  return type;
}
