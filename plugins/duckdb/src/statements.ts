/**
 * One statement from a step, checked before it runs: exactly one statement, a query where
 * rows are expected, and `$name` parameters that match the values given, named when they
 * do not (DuckDB's own message names neither).
 */
import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from "@duckdb/node-api";
import { DuckDbSinkError } from "./errors.js";

export type Params = Readonly<Record<string, string | number | boolean | null>>;

/** Parses `sql` as exactly one statement, so one call never runs more than it says. */
export async function prepareOne(conn: DuckDBConnection, sql: string, call: string): Promise<DuckDBPreparedStatement> {
  const extracted = await conn.extractStatements(sql);
  if (extracted.count !== 1) {
    throw new DuckDbSinkError(
      "XO_DUCKDB_QUERY_FAILED",
      `${call} runs exactly one SQL statement; got ${extracted.count}: ${excerpt(sql)}`,
      call === "query" ? "split the SQL into one query() call per statement, or use execute() for statements that return no rows" : "pass a single query",
    );
  }
  return extracted.prepare(0);
}

/** Refuses a statement that returns no rows where a query's rows are about to be written out. */
export function requireQuery(statement: DuckDBPreparedStatement, sql: string, call: string): void {
  if (statement.statementType === StatementType.SELECT) return;
  throw new DuckDbSinkError(
    "XO_DUCKDB_QUERY_FAILED",
    `${call} needs a query that returns rows; got a ${StatementType[statement.statementType] ?? "non-SELECT"} statement: ${excerpt(sql)}`,
    "pass a SELECT (or FROM, WITH, VALUES, TABLE) query; run statements that change data with execute()",
  );
}

/** Binds `$name` parameters by name, naming any that are missing or unused. */
export function bindParams(statement: DuckDBPreparedStatement, params: Params): void {
  const names = Array.from({ length: statement.parameterCount }, (_, i) => statement.parameterName(i + 1));
  const missing = names.filter((name) => !Object.hasOwn(params, name));
  const unused = Object.keys(params).filter((name) => !names.includes(name));
  if (missing.length > 0 || unused.length > 0) {
    const problems = [
      missing.length > 0 ? `no value for ${missing.map((n) => `$${n}`).join(", ")}` : "",
      unused.length > 0 ? `${unused.map((n) => `$${n}`).join(", ")} ${unused.length === 1 ? "is" : "are"} not in the statement` : "",
    ].filter(Boolean);
    throw new DuckDbSinkError(
      "XO_DUCKDB_QUERY_FAILED",
      `the query's parameters do not match: ${problems.join("; ")}`,
      `the statement uses ${names.length > 0 ? names.map((n) => `$${n}`).join(", ") : "no parameters"}; pass exactly those names in params`,
    );
  }
  if (names.length > 0) statement.bind(Object.fromEntries(names.map((name) => [name, params[name] ?? null])));
}

/** The statement as it appears in messages: one line, at most 200 characters. */
export function excerpt(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

export function withoutTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, "");
}
