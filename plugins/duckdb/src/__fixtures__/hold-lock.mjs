// Holds the DuckDB file lock from a separate process, as a DuckDB shell or a
// concurrent Airflow task would. Usage: node hold-lock.mjs <db-file> [release-after-ms]
import { DuckDBInstance } from "@duckdb/node-api";

const [file, releaseAfter] = process.argv.slice(2);
const instance = await DuckDBInstance.create(file);
const conn = await instance.connect();
await conn.run("CREATE TABLE IF NOT EXISTS held_by_other_process AS SELECT 1 AS x");
process.stdout.write("locked\n");

const release = () => {
  conn.closeSync();
  instance.closeSync();
  process.exit(0);
};
if (releaseAfter) setTimeout(release, Number(releaseAfter));
process.on("SIGTERM", release);
// Stay alive until released or killed; the parent closing stdin also releases.
process.stdin.on("end", release).resume();
