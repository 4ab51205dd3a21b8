import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";
import { duckdb } from "./index.js";
import { loadContext, ndjson, testdir, type TestDir } from "./__fixtures__/context.js";

const holder = fileURLToPath(new URL("./__fixtures__/hold-lock.mjs", import.meta.url));
const sink = duckdb().sinks![0]!;
let t: TestDir;
let child: ChildProcess | undefined;

beforeEach(async () => {
  t = await testdir();
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill();
    await once(child, "exit");
  }
  await t.cleanup();
});

/** Starts another process that holds the database file lock, as a DuckDB shell would. */
async function holdLock(database: string, releaseAfterMs?: number): Promise<ChildProcess> {
  const args = [holder, database, ...(releaseAfterMs === undefined ? [] : [String(releaseAfterMs)])];
  child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  expect(line.toString()).toBe("locked\n");
  return child;
}

it("fails with a clear message when another process keeps the file locked", async () => {
  const database = path.join(t.dir, "warehouse.duckdb");
  const other = await holdLock(database);
  const ctx = loadContext({
    projectDir: t.dir,
    files: [await ndjson(t.dir, "a.ndjson", [{ id: 1 }])],
    options: { database: "warehouse.duckdb", lock_timeout_ms: 300 },
  });

  const started = Date.now();
  const error = await sink.load(ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  expect(error).toMatchObject({ code: "XO_DUCKDB_LOCKED" });
  const message = (error as Error).message;
  expect(message).toContain(`the DuckDB database file ${database} is locked by process ${other.pid}`);
  expect(message).toContain("after waiting 300 ms");
  expect(message).toContain("lock_timeout_ms");
});

it("waits for the lock and loads once the other process lets go", async () => {
  await holdLock(path.join(t.dir, "warehouse.duckdb"), 400);
  const ctx = loadContext({
    projectDir: t.dir,
    files: [await ndjson(t.dir, "a.ndjson", [{ id: 1 }])],
    options: { database: "warehouse.duckdb", lock_timeout_ms: 10_000 },
  });
  await expect(sink.load(ctx)).resolves.toMatchObject({ rowsLoaded: 1, rowsInTable: 1 });
});
