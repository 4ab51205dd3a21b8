import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { duckdb } from "./index.js";
import { loadContext, ndjson, parquet, query, raw, testdir, warehouseContext, type ContextInput, type TestDir } from "./__fixtures__/context.js";

const sink = duckdb().sinks![0]!;
let t: TestDir;
let db: string;

beforeEach(async () => {
  t = await testdir();
  db = path.join(t.dir, "warehouse.duckdb");
});
afterEach(() => t.cleanup());

const run = (input: Omit<ContextInput, "projectDir">) => sink.load(loadContext({ projectDir: t.dir, ...input }));
const rows = (sql: string) => query(db, sql);

describe("replace", () => {
  it("creates the table with metadata columns, then replaces it on the next run", async () => {
    const first = await ndjson(t.dir, "a.ndjson", [{ id: 1, name: "a" }, { id: 2, name: "b" }]);
    const result = await run({ files: [first], strategy: "full_refresh", runId: "manual__1" });
    expect(result).toEqual({ table: "main.orders", rowsLoaded: 2, rowsInTable: 2 });

    const loaded = await rows(`SELECT id, name, _xo_partition, CAST(_xo_logical_date AS VARCHAR) AS d, _xo_run_id, typeof(_xo_loaded_at) AS ts FROM orders ORDER BY id`);
    expect(loaded[0]).toEqual({
      id: 1,
      name: "a",
      _xo_partition: `file://${t.dir}/stage/shop/orders/full_refresh/2024-01-01`,
      d: "2024-01-01",
      _xo_run_id: "manual__1",
      ts: "TIMESTAMP",
    });

    const second = await ndjson(t.dir, "b.ndjson", [{ id: 9, name: "z" }]);
    await run({ files: [second], strategy: "full_refresh", logicalDate: "2024-01-02" });
    expect(await rows("SELECT id, name FROM orders")).toEqual([{ id: 9, name: "z" }]);
  });

  it("keeps a user-defined table definition when create is false", async () => {
    await query(db, "CREATE TABLE orders (id INTEGER NOT NULL, name VARCHAR, note VARCHAR DEFAULT 'kept')");
    await query(db, "INSERT INTO orders (id, name) VALUES (1, 'old')");
    const file = await ndjson(t.dir, "a.ndjson", [{ id: 2, name: "new" }]);
    await run({ files: [file], strategy: "full_refresh", target: { create: false } });
    expect(await rows("SELECT id, name, note FROM orders")).toEqual([{ id: 2, name: "new", note: "kept" }]);
    expect(await rows("SELECT data_type FROM information_schema.columns WHERE column_name = 'id'")).toEqual([{ data_type: "INTEGER" }]);
  });
});

describe("append", () => {
  it("is idempotent per logical date and adds a second date", async () => {
    const day1 = await ndjson(t.dir, "d1.ndjson", [{ id: 1 }, { id: 2 }]);
    await run({ files: [day1], strategy: "incremental", logicalDate: "2024-01-01" });
    const rerun = await run({ files: [day1], strategy: "incremental", logicalDate: "2024-01-01" });
    expect(rerun).toMatchObject({ rowsLoaded: 2, rowsInTable: 2 });

    const day2 = await ndjson(t.dir, "d2.ndjson", [{ id: 3 }]);
    const result = await run({ files: [day2], strategy: "incremental", logicalDate: "2024-01-02" });
    expect(result).toMatchObject({ rowsLoaded: 1, rowsInTable: 3 });
    expect(await rows("SELECT CAST(_xo_logical_date AS VARCHAR) AS d, count(*) AS n FROM orders GROUP BY 1 ORDER BY 1")).toEqual([
      { d: "2024-01-01", n: 2 },
      { d: "2024-01-02", n: 1 },
    ]);
  });

  it("is the default of the historical strategy without keys", async () => {
    const file = await ndjson(t.dir, "h.ndjson", [{ id: 1 }, { id: 1 }]);
    await run({ files: [file], strategy: "historical" });
    expect(await rows("SELECT count(*) AS n FROM orders")).toEqual([{ n: 2 }]);
  });

  it("merges overlapping historical windows by key when keys are given", async () => {
    await run({ files: [await ndjson(t.dir, "h1.ndjson", [{ id: 1, v: "a" }, { id: 2, v: "a" }])], strategy: "historical", target: { keys: ["id"] }, logicalDate: "2024-01-01" });
    await run({ files: [await ndjson(t.dir, "h2.ndjson", [{ id: 2, v: "b" }, { id: 3, v: "b" }])], strategy: "historical", target: { keys: ["id"] }, logicalDate: "2024-01-02" });
    expect(await rows("SELECT id, v FROM orders ORDER BY id")).toEqual([
      { id: 1, v: "a" },
      { id: 2, v: "b" },
      { id: 3, v: "b" },
    ]);
  });

  it("adds columns that new files bring, typed as inferred, and inserts by name", async () => {
    await run({ files: [await ndjson(t.dir, "d1.ndjson", [{ id: 1, name: "a" }])], logicalDate: "2024-01-01" });
    // New column, and the old ones in another order.
    const day2 = await ndjson(t.dir, "d2.ndjson", [{ price: 9.5, name: "b", id: 2 }]);
    await run({ files: [day2], logicalDate: "2024-01-02" });
    expect(await rows("SELECT id, name, price FROM orders ORDER BY id")).toEqual([
      { id: 1, name: "a", price: null },
      { id: 2, name: "b", price: 9.5 },
    ]);
    expect(await rows("SELECT data_type FROM information_schema.columns WHERE column_name = 'price'")).toEqual([{ data_type: "DOUBLE" }]);
  });
});

describe("merge", () => {
  it("updates and inserts by key, keeping the last incoming row per key", async () => {
    const first = await ndjson(t.dir, "1.ndjson", [{ id: 1, v: "a" }, { id: 2, v: "b" }]);
    await run({ files: [first], target: { keys: ["id"] } });

    const early = await ndjson(t.dir, "2a.ndjson", [{ id: 2, v: "b1" }, { id: 3, v: "c1" }]);
    const late = await ndjson(t.dir, "2b.ndjson", [{ id: 3, v: "c2" }, { id: 2, v: "b2" }]);
    const result = await run({ files: [early, late], logicalDate: "2024-01-02", target: { mode: "merge", keys: ["id"] } });

    expect(result).toMatchObject({ rowsLoaded: 2, rowsInTable: 3 });
    expect(await rows("SELECT id, v, CAST(_xo_logical_date AS VARCHAR) AS d FROM orders ORDER BY id")).toEqual([
      { id: 1, v: "a", d: "2024-01-01" },
      { id: 2, v: "b2", d: "2024-01-02" },
      { id: 3, v: "c2", d: "2024-01-02" },
    ]);
  });

  it("matches composite keys, NULL included", async () => {
    await run({ files: [await ndjson(t.dir, "1.ndjson", [{ a: 1, b: null, v: 1 }, { a: 1, b: 2, v: 1 }])], target: { keys: ["a", "b"] } });
    await run({ files: [await ndjson(t.dir, "2.ndjson", [{ a: 1, b: null, v: 2 }])], target: { keys: ["a", "b"] } });
    expect(await rows("SELECT a, b, v FROM orders ORDER BY b NULLS FIRST")).toEqual([
      { a: 1, b: null, v: 2 },
      { a: 1, b: 2, v: 1 },
    ]);
  });

  it("refuses merge without keys with a clear error", async () => {
    const file = await ndjson(t.dir, "1.ndjson", [{ id: 1 }]);
    await expect(run({ files: [file], target: { mode: "merge" } })).rejects.toMatchObject({
      code: "XO_DUCKDB_MERGE_KEYS_MISSING",
      message: expect.stringContaining("mode merge needs `keys`"),
    });
  });

  it("names the missing column when a key is not in the files", async () => {
    const file = await ndjson(t.dir, "1.ndjson", [{ id: 1, name: "a" }]);
    await expect(run({ files: [file], target: { keys: ["order_id"] } })).rejects.toMatchObject({
      code: "XO_DUCKDB_KEY_NOT_FOUND",
      message: expect.stringMatching(/"order_id".*\n.*"id", "name"/),
    });
  });
});

describe("formats", () => {
  it("loads ndjson, csv and parquet of one manifest together by column name", async () => {
    const files = [
      await ndjson(t.dir, "a.ndjson", [{ id: 1, name: "json" }]),
      await raw(t.dir, "b.csv", "csv", "name,id,city\ncsv,2,Lyon\n"),
      await parquet(t.dir, "c.parquet", "SELECT 3 AS id, 'parquet' AS name"),
      await raw(t.dir, "d.json", "json", JSON.stringify([{ id: 4, name: "array" }])),
    ];
    const result = await run({ files, strategy: "full_refresh" });
    expect(result.rowsLoaded).toBe(4);
    expect(await rows("SELECT id, name, city FROM orders ORDER BY id")).toEqual([
      { id: 1, name: "json", city: null },
      { id: 2, name: "csv", city: "Lyon" },
      { id: 3, name: "parquet", city: null },
      { id: 4, name: "array", city: null },
    ]);
  });

  it.each([{ threads: 1 }, { threads: 2 }])("finds every column of every file of one load, sampled with %o", async (options) => {
    // Files are sampled side by side; a column that only a later file has must still arrive.
    const files = [
      await ndjson(t.dir, "p0.ndjson", [{ id: 1, name: "a" }]),
      await ndjson(t.dir, "p1.ndjson", [{ id: 2, name: "b" }]),
      await ndjson(t.dir, "p2.ndjson", [{ id: 3, name: "c", city: "Lyon" }]),
      await ndjson(t.dir, "p3.ndjson", [{ id: 4 }]),
      await ndjson(t.dir, "p4.ndjson", [{ id: 5, name: "e", amount: 1.5 }]),
    ];
    const result = await run({ files, strategy: "full_refresh", options: { database: db, ...options } });
    expect(result.rowsLoaded).toBe(5);
    expect(await rows("SELECT id, name, city, amount FROM orders ORDER BY id")).toEqual([
      { id: 1, name: "a", city: null, amount: null },
      { id: 2, name: "b", city: null, amount: null },
      { id: 3, name: "c", city: "Lyon", amount: null },
      { id: 4, name: null, city: null, amount: null },
      { id: 5, name: "e", city: null, amount: 1.5 },
    ]);
  });

  it("reads paths with quotes and glob characters literally", async () => {
    // Without care, DuckDB would read `it's [1].ndjson` as the glob `it's [1].ndjson` -> `it's 1.ndjson`.
    await ndjson(t.dir, "it's 1.ndjson", [{ id: 666 }]);
    const file = await ndjson(t.dir, "it's [1].ndjson", [{ id: 1 }]);
    await run({ files: [file], strategy: "full_refresh" });
    expect(await rows("SELECT id FROM orders")).toEqual([{ id: 1 }]);
  });
});

describe("failures and empty loads", () => {
  it("leaves the previous table content intact when a file is corrupt", async () => {
    await run({ files: [await ndjson(t.dir, "good.ndjson", [{ id: 1 }, { id: 2 }])], target: { keys: ["id"] } });
    const good = await ndjson(t.dir, "more.ndjson", [{ id: 3, extra: "x" }]);
    const corrupt = await raw(t.dir, "corrupt.ndjson", "ndjson", '{"id": 4}\n{"id": 5, "broken\n');
    for (const mode of ["replace", "append", "merge"]) {
      await expect(run({ files: [good, corrupt], target: { mode, keys: ["id"] } })).rejects.toMatchObject({
        code: "XO_DUCKDB_BAD_DATA",
        message: expect.stringMatching(/table is unchanged: Invalid Input Error: Malformed JSON/),
      });
    }
    expect(await rows("SELECT id FROM orders ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await rows("SELECT column_name FROM information_schema.columns WHERE column_name = 'extra'")).toEqual([]);
  });

  it("rolls back deletes and added columns when the insert fails half-way", async () => {
    await run({ files: [await ndjson(t.dir, "good.ndjson", [{ id: 1 }, { id: 2 }])], logicalDate: "2024-01-01" });
    // Stages fine (id becomes VARCHAR), then fails casting "abc" into the BIGINT column,
    // after the new column was added and the existing rows were deleted.
    const clash = await ndjson(t.dir, "clash.ndjson", [{ id: "abc", extra: "x" }]);
    for (const target of [{ mode: "append" }, { mode: "merge", keys: ["id"] }, { mode: "replace", create: false }]) {
      await expect(run({ files: [clash], logicalDate: "2024-01-01", target })).rejects.toThrow(/abc/);
      expect(await rows("SELECT id FROM orders ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
      expect(await rows("SELECT column_name FROM information_schema.columns WHERE column_name = 'extra'")).toEqual([]);
    }
  });

  it("never empties a table because a source returned nothing", async () => {
    await run({ files: [await ndjson(t.dir, "a.ndjson", [{ id: 1 }])], strategy: "full_refresh" });
    const empty = await raw(t.dir, "empty.ndjson", "ndjson", "");
    for (const strategy of ["full_refresh", "incremental"] as const) {
      expect(await run({ files: [empty], strategy })).toEqual({ table: "main.orders", rowsLoaded: 0, rowsInTable: 1 });
      expect(await run({ files: [], strategy })).toMatchObject({ rowsLoaded: 0, rowsInTable: 1 });
    }
  });

  it("creates an empty table from what it knows when there are no rows", async () => {
    await run({ files: [], stream: "nothing" });
    expect(await rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'nothing' ORDER BY ordinal_position")).toEqual([
      { column_name: "_xo_partition" },
      { column_name: "_xo_logical_date" },
      { column_name: "_xo_run_id" },
      { column_name: "_xo_loaded_at" },
    ]);
    await run({ files: [await raw(t.dir, "h.csv", "csv", "id,name\n")], stream: "header_only" });
    expect(await rows("SELECT count(*) AS n, count(DISTINCT column_name) AS c FROM information_schema.columns WHERE table_name = 'header_only'")).toEqual([
      { n: 6, c: 6 },
    ]);
  });

  it("refuses to create a table when create is false", async () => {
    const file = await ndjson(t.dir, "a.ndjson", [{ id: 1 }]);
    await expect(run({ files: [file], target: { create: false } })).rejects.toMatchObject({ code: "XO_DUCKDB_TABLE_MISSING" });
  });
});

describe("names and places", () => {
  it("quotes hostile schema, table and column names", async () => {
    const hostile = 'we"ird; DROP TABLE x; --';
    const file = await ndjson(t.dir, "a.ndjson", [{ 'col "q"': 1, "with space": "a", "it's": true }]);
    const target = { table: `order "lines" ${hostile}`, keys: ['col "q"'] };
    const options = { schema: 'sales "eu"' };
    await run({ files: [file], target, options });
    const second = await ndjson(t.dir, "b.ndjson", [{ 'col "q"': 1, "with space": "b", "new \"col\"": 2 }]);
    const result = await run({ files: [second], target, options, logicalDate: "2024-01-02" });
    expect(result).toEqual({ table: `sales "eu".order "lines" ${hostile}`, rowsLoaded: 1, rowsInTable: 1 });
    expect(await rows(`SELECT "col ""q""" AS q, "with space" AS s, "new ""col""" AS n FROM "sales ""eu"""."order ""lines"" we""ird; DROP TABLE x; --"`)).toEqual([
      { q: 1, s: "b", n: 2 },
    ]);
  });

  it("defaults the database to .xo-foundry/warehouse.duckdb under the project", async () => {
    const ctx = loadContext({ projectDir: t.dir, files: [await ndjson(t.dir, "a.ndjson", [{ id: 1 }])] });
    await sink.load({ ...ctx, options: {} });
    expect(await query(path.join(t.dir, ".xo-foundry", "warehouse.duckdb"), "SELECT count(*) AS n FROM orders")).toEqual([{ n: 1 }]);
  });

  it("accepts an in-memory database", async () => {
    const file = await ndjson(t.dir, "a.ndjson", [{ id: 1 }]);
    await expect(run({ files: [file], options: { database: ":memory:" } })).resolves.toMatchObject({ rowsLoaded: 1, rowsInTable: 1 });
  });

  it("serializes concurrent loads into one file from the same process", async () => {
    const loads = ["a", "b", "c", "d"].map(async (stream) =>
      run({ files: [await ndjson(t.dir, `${stream}.ndjson`, [{ id: 1 }])], stream }),
    );
    await expect(Promise.all(loads)).resolves.toHaveLength(4);
    expect(await rows("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'main'")).toEqual([{ n: 4 }]);
  });
});

describe("memory", () => {
  it("opens the database with the sink's memory_limit, temp_directory and threads", async () => {
    const settings = "SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t, current_setting('threads') AS n";
    const service = sink.warehouse!(warehouseContext(t.dir, { database: db }));
    const [defaults] = await service.query(settings);
    // DuckDB reports the limit in its own units (128MB -> 122.0 MiB).
    expect(defaults).toMatchObject({ m: "122.0 MiB", t: `${db}.tmp` });

    const tuned = sink.warehouse!(warehouseContext(t.dir, { database: db, memory_limit: "1GB", temp_directory: "spill", threads: 1 }));
    const [spill] = await tuned.query(settings);
    expect(spill).toMatchObject({ m: "953.6 MiB", n: 1 });
    expect(path.dirname(String(spill!.t))).toBe(path.join(t.dir, "spill"));

    // Two databases given one temp_directory never spill into the same folder.
    const other = sink.warehouse!(warehouseContext(t.dir, { database: path.join(t.dir, "other.duckdb"), temp_directory: "spill" }));
    const [otherSpill] = await other.query(settings);
    expect(path.dirname(String(otherSpill!.t))).toBe(path.join(t.dir, "spill"));
    expect(otherSpill!.t).not.toBe(spill!.t);
  });

  it("loads more rows than fit in memory_limit without a staging copy, and merges through a spilled stage", async () => {
    // About 75 MB of JSON against a 64 MB limit (the JSON reader alone takes 32 MB):
    // the insert streams, the merge's stage spills.
    const many = Array.from({ length: 300_000 }, (_, i) => ({ id: i % 200_000, text: `row ${i} `.padEnd(240, String(i % 10)) }));
    const file = await ndjson(t.dir, "many.ndjson", many);
    const options = { database: db, memory_limit: "64MB", threads: 1 };
    await expect(run({ files: [file], strategy: "full_refresh", options })).resolves.toMatchObject({ rowsLoaded: 300_000 });
    await expect(run({ files: [file], target: { keys: ["id"] }, stream: "merged", options })).resolves.toMatchObject({ rowsLoaded: 200_000, rowsInTable: 200_000 });
    expect(await rows("SELECT text FROM merged WHERE id = 1")).toEqual([{ text: "row 200001 ".padEnd(240, "1") }]);
  });

  it("says which setting to raise when DuckDB runs out of memory", async () => {
    const file = await ndjson(t.dir, "a.ndjson", [{ id: 1 }]);
    await expect(run({ files: [file], options: { database: db, memory_limit: "8MB" } })).rejects.toMatchObject({
      code: "XO_DUCKDB_OUT_OF_MEMORY",
      message: expect.stringMatching(/memory_limit 8MB[\s\S]*raise `memory_limit`/),
    });
  });

  it("refuses a memory_limit that is not a size", async () => {
    const file = await ndjson(t.dir, "a.ndjson", [{ id: 1 }]);
    await expect(run({ files: [file], options: { database: db, memory_limit: "lots" } })).rejects.toMatchObject({
      code: "XO_DUCKDB_INVALID_OPTIONS",
      message: expect.stringContaining('a size such as "128MB"'),
    });
  });
});

describe("landing layout", () => {
  it("does not turn the partition folders of the landing zone into columns", async () => {
    const dir = path.join(t.dir, "stage", "shop", "orders", "full_refresh", "snapshot_date=2024-01-01");
    await mkdir(dir, { recursive: true });
    const file = await ndjson(dir, "part-00000.ndjson", [{ id: 1 }]);
    await run({ files: [file], strategy: "full_refresh" });
    expect(await rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' AND column_name NOT LIKE '\\_xo\\_%' ESCAPE '\\'")).toEqual([
      { column_name: "id" },
    ]);
  });
});
