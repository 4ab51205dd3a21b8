// "DuckDB direct" of the pipeline benchmark: the least work that turns landed NDJSON files
// into a DuckDB table, one statement through the same @duckdb/node-api that plugin-duckdb
// uses. run.mjs times this whole process against xo-foundry's load task on the same files.
//
//   node duckdb_direct.mjs --database FILE FILE.ndjson...
//
// Prints one JSON line: {rows, duckdb}.
import { parseArgs } from "node:util";
import { withDatabase } from "./duckdb.mjs";

const { values, positionals } = parseArgs({ options: { database: { type: "string" } }, allowPositionals: true, strict: true });
const quote = (s) => `'${s.replaceAll("'", "''")}'`;

const result = await withDatabase(values.database, {}, async (c) => {
  await c.run(`CREATE TABLE t AS SELECT * FROM read_ndjson([${positionals.map(quote).join(", ")}])`);
  const rows = (await c.runAndReadAll("SELECT count(*)::BIGINT AS n, version() AS v FROM t")).getRowObjects()[0];
  return { rows: Number(rows.n), duckdb: rows.v };
});
process.stdout.write(`${JSON.stringify(result)}\n`);
