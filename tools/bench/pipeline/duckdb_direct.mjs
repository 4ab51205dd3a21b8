// "DuckDB direct" of the pipeline benchmark: the least work that turns landed NDJSON files
// into a DuckDB table, one statement through the same @duckdb/node-api that plugin-duckdb
// uses. run.mjs times this whole process against xo-foundry's load task on the same files.
//
// With --same-table it builds the table xo-foundry's load builds: the same four metadata
// columns (constants, as in the load) and CREATE OR REPLACE inside one transaction. That is
// the least a load that writes those columns can cost; plain "direct" writes fewer columns.
//
//   node duckdb_direct.mjs --database FILE [--same-table] FILE.ndjson...
//
// Prints one JSON line: {rows, duckdb}.
import { parseArgs } from "node:util";
import { withDatabase } from "./duckdb.mjs";

const { values, positionals } = parseArgs({
  options: { database: { type: "string" }, "same-table": { type: "boolean", default: false } },
  allowPositionals: true,
  strict: true,
});
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const files = `read_ndjson([${positionals.map(quote).join(", ")}])`;
const METADATA =
  "'direct' AS _xo_partition, DATE '2026-01-15' AS _xo_logical_date, 'direct' AS _xo_run_id, TIMESTAMP '2026-01-16 00:00:00' AS _xo_loaded_at";

const result = await withDatabase(values.database, {}, async (c) => {
  if (values["same-table"]) {
    await c.run("BEGIN TRANSACTION");
    await c.run(`CREATE OR REPLACE TABLE t AS SELECT *, ${METADATA} FROM ${files}`);
    await c.run("COMMIT");
  } else {
    await c.run(`CREATE TABLE t AS SELECT * FROM ${files}`);
  }
  const rows = (await c.runAndReadAll("SELECT count(*)::BIGINT AS n, version() AS v FROM t")).getRowObjects()[0];
  return { rows: Number(rows.n), duckdb: rows.v };
});
process.stdout.write(`${JSON.stringify(result)}\n`);
