// DuckDB for the pipeline benchmark: the very @duckdb/node-api that plugin-duckdb loads with
// (resolved from that package, not from wherever this file sits), so "DuckDB direct" and the
// checks run the same engine as xo-foundry's load.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const require = createRequire(path.join(REPO, "plugins/duckdb/package.json"));

/** The @duckdb/node-api module of plugin-duckdb. */
export async function duckdbApi() {
  return import(pathToFileURL(require.resolve("@duckdb/node-api")).href);
}

/** Runs `fn(connection)` on the database file `file`, then closes it (the file stays unlocked for the next process). */
export async function withDatabase(file, options, fn) {
  const { DuckDBInstance } = await duckdbApi();
  const instance = await DuckDBInstance.create(file, options);
  const connection = await instance.connect();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
