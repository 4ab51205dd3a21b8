/**
 * The `warehouse` service against real DuckDB database files in a temp dir: what
 * SQL, check and export steps see. Nothing is emulated.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Warehouse } from "@xo-foundry/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DUCKDB_ERRORS, duckdb } from "./index.js";
import { loadContext, ndjson, query, testdir, warehouseContext, type TestDir } from "./__fixtures__/context.js";
import { quoteLiteral } from "./sql.js";

const sink = duckdb().sinks![0]!;
let t: TestDir;
let db: string;

beforeEach(async () => {
  t = await testdir();
  db = path.join(t.dir, "warehouse.duckdb");
});
afterEach(() => t.cleanup());

const warehouse = (options: Record<string, unknown> = {}, signal?: AbortSignal): Warehouse =>
  sink.warehouse!(warehouseContext(t.dir, options, signal));

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e as Error & { code?: string },
  );
}

/** Reads a file back with DuckDB itself, in a throwaway in-memory database. */
const readBack = (reader: string, file: string, select = "count(*) AS n") => query(":memory:", `SELECT ${select} FROM ${reader}(${quoteLiteral(file)})`);

describe("the plugin", () => {
  it("offers the warehouse on its sink and declares every error code with a description", () => {
    const plugin = duckdb();
    expect(warehouse().dialect).toBe("duckdb");
    expect(plugin.errors).toEqual(DUCKDB_ERRORS);
    expect(Object.keys(plugin.errors!)).toEqual(expect.arrayContaining(["XO_DUCKDB_LOCKED", "XO_DUCKDB_QUERY_FAILED"]));
    for (const [code, description] of Object.entries(plugin.errors!)) {
      expect(code).toMatch(/^XO_DUCKDB_[A-Z_]+$/);
      expect(description.length).toBeGreaterThan(40);
    }
  });

  it("refuses invalid sink options when a step asks for the warehouse, before opening anything", () => {
    expect(() => warehouse({ lock_timeout_ms: -1 })).toThrow(expect.objectContaining({ code: "XO_DUCKDB_INVALID_OPTIONS" }));
    expect(existsSync(db)).toBe(false);
  });
});

describe("query", () => {
  it("binds $name parameters and returns the rows", async () => {
    const w = warehouse();
    await w.execute(["CREATE TABLE orders (id INTEGER, customer VARCHAR, paid BOOLEAN)", "INSERT INTO orders VALUES (1, 'ann', true), (2, 'bob', false), (3, 'ann', NULL)"]);
    const rows = await w.query("SELECT id, paid FROM orders WHERE customer = $customer AND id >= $min ORDER BY id", { customer: "ann", min: 1 });
    expect(rows).toEqual([
      { id: 1, paid: true },
      { id: 3, paid: null },
    ]);
    expect(await w.query("SELECT $flag AS f, $nothing AS n, $x * 2 AS x", { flag: false, nothing: null, x: 1.25 })).toEqual([{ f: false, n: null, x: 2.5 }]);
    expect(await w.query("SELECT count(*) AS n FROM orders WHERE customer = $c", { c: "nobody" })).toEqual([{ n: 0 }]);
  });

  it("returns JSON values: safe integers as numbers, the rest as exact strings, times as ISO 8601", async () => {
    const [row] = await warehouse().query(`SELECT
      count(*) AS n,
      9007199254740993::BIGINT AS big,
      170141183460469231731687303715884105727::HUGEINT AS huge,
      12.50::DECIMAL(10, 2) AS price,
      12345678901234567.89::DECIMAL(38, 2) AS money,
      DATE '2024-01-02' AS day,
      TIMESTAMP '2024-01-02 03:04:05.123456' AS at,
      TIMESTAMP_MS '2024-01-02 03:04:05' AS at_ms,
      TIMESTAMPTZ '2024-01-02 03:04:05+02' AS at_tz,
      'infinity'::TIMESTAMP AS forever,
      [1::BIGINT, 2] AS list,
      {'id': 42::BIGINT, 'at': TIMESTAMP '2024-01-01 00:00:00'} AS nested,
      'NaN'::DOUBLE AS nan
      FROM range(3)`);
    expect(row).toEqual({
      n: 3,
      big: "9007199254740993",
      huge: "170141183460469231731687303715884105727",
      price: 12.5,
      money: "12345678901234567.89",
      day: "2024-01-02",
      at: "2024-01-02T03:04:05.123456",
      at_ms: "2024-01-02T03:04:05",
      at_tz: "2024-01-02T01:04:05Z",
      forever: "infinity",
      list: [1, 2],
      nested: { id: 42, at: "2024-01-01T00:00:00" },
      nan: "NaN",
    });
    expect(JSON.parse(JSON.stringify(row))).toEqual(row);
  });

  it("reports bad SQL with DuckDB's own message, a code and a hint", async () => {
    const syntax = await rejection(warehouse().query("SELEC 1"));
    expect(syntax).toMatchObject({ name: "DuckDbSinkError", code: "XO_DUCKDB_QUERY_FAILED", hint: expect.stringContaining("syntax") });
    expect(syntax.message).toContain('syntax error at or near "SELEC"');
    expect(syntax.message).toContain(db);

    const missing = await rejection(warehouse().query("SELECT * FROM no_such_table"));
    expect(missing).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED", hint: expect.stringContaining("table") });
    expect(missing.message).toContain("Table with name no_such_table does not exist");
    expect(missing.message).toContain("sql: SELECT * FROM no_such_table");
  });

  it("names missing and unused parameters, and runs one statement only", async () => {
    const w = warehouse();
    const params = await rejection(w.query("SELECT $a + $b AS s", { a: 1, c: 2 }));
    expect(params).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED" });
    expect(params.message).toMatch(/no value for \$b; \$c is not in the statement/);
    expect(params.hint).toContain("$a, $b");
    const two = await rejection(w.query("SELECT 1; SELECT 2"));
    expect(two).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED", message: expect.stringContaining("exactly one SQL statement; got 2") });
  });

  it("resolves bare table names in the sink's schema, then in main", async () => {
    const w = warehouse({ schema: "raw" });
    await w.execute(["CREATE TABLE orders AS SELECT 1 AS id", "CREATE TABLE main.currencies AS SELECT 'EUR' AS code"]);
    expect(await w.query("SELECT count(*) AS n FROM orders")).toEqual([{ n: 1 }]);
    expect(await w.query("SELECT code FROM currencies")).toEqual([{ code: "EUR" }]);
    expect(await query(db, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2")).toEqual([
      { table_schema: "main", table_name: "currencies" },
      { table_schema: "raw", table_name: "orders" },
    ]);
  });

  it("stops with the abort reason when the step is cancelled", async () => {
    const controller = new AbortController();
    controller.abort(new Error("task killed"));
    await expect(warehouse({}, controller.signal).query("SELECT 1")).rejects.toThrow("task killed");
  });
});

describe("execute", () => {
  it("runs the statements in one transaction: a failure rolls back all of them", async () => {
    const w = warehouse();
    await w.execute(["CREATE TABLE orders (id INTEGER PRIMARY KEY, v VARCHAR)", "INSERT INTO orders VALUES (1, 'a')"]);
    const error = await rejection(
      w.execute([
        "UPDATE orders SET v = 'changed'",
        "CREATE TABLE side_effect AS SELECT 1 AS x",
        "INSERT INTO orders VALUES (2, 'b'); INSERT INTO orders VALUES (3, 'c')",
        "INSERT INTO orders VALUES (1, 'duplicate key')",
      ]),
    );
    expect(error).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED", hint: expect.stringContaining("constraint") });
    expect(error.message).toContain("statement 4 of 4, rolled back");
    expect(error.message).toContain('Constraint Error: Duplicate key "id: 1" violates primary key constraint');
    expect(await query(db, "SELECT id, v FROM orders")).toEqual([{ id: 1, v: "a" }]);
    expect(await query(db, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'side_effect'")).toEqual([{ n: 0 }]);
  });

  it("refuses transaction control, which would break all-or-nothing", async () => {
    const w = warehouse();
    await w.execute(["CREATE TABLE t (x INTEGER)"]);
    const error = await rejection(w.execute(["INSERT INTO t VALUES (1)", "COMMIT", "INSERT INTO t VALUES (2)"]));
    expect(error).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED", message: expect.stringContaining("remove BEGIN, COMMIT and ROLLBACK") });
    expect(await query(db, "SELECT count(*) AS n FROM t")).toEqual([{ n: 0 }]);
  });

  it("does nothing for no statements", async () => {
    await warehouse().execute([]);
    expect(existsSync(db)).toBe(false);
  });
});

describe("exportQuery", () => {
  const ROWS = 2_500;
  const SELECT = `SELECT i AS id, 'item ' || i AS name, i * 0.5 AS amount, DATE '2024-01-01' + CAST(i % 30 AS INTEGER) AS day FROM range(${ROWS}) t(i)`;

  it.each([
    ["ndjson", ".ndjson", "read_ndjson"],
    ["csv", ".csv", "read_csv"],
    ["parquet", ".parquet", "read_parquet"],
  ] as const)("writes %s files that DuckDB reads back, with the row count DuckDB wrote", async (format, extension, reader) => {
    const w = warehouse();
    const files = await w.exportQuery(SELECT, path.join(t.dir, "out", format), format);
    expect(files).toEqual([{ path: path.join(t.dir, "out", format, `part-00000${extension}`), rows: ROWS }]);
    expect(await readdir(path.join(t.dir, "out", format))).toEqual([`part-00000${extension}`]);
    expect(await readBack(reader, files[0]!.path, "count(*) AS n, sum(id) AS ids, count(DISTINCT day) AS days, max(name) AS last")).toEqual([
      { n: ROWS, ids: (ROWS * (ROWS - 1)) / 2, days: 30, last: "item 999" },
    ]);
  });

  it("writes a csv header, resolves a relative dir against the project and replaces an earlier export", async () => {
    const w = warehouse();
    await w.exportQuery("SELECT 1 AS a, 'x' AS b", "exports", "csv");
    const files = await w.exportQuery("SELECT 2 AS a, 'it''s' AS b\nUNION ALL SELECT 3, NULL -- a trailing comment\n;\n", "exports", "csv");
    expect(files).toEqual([{ path: path.join(t.dir, "exports", "part-00000.csv"), rows: 2 }]);
    expect(await readFile(files[0]!.path, "utf8")).toBe("a,b\n2,it's\n3,\n");
  });

  it.each(["csv", "ndjson", "parquet"] as const)("writes no %s file for an empty result, and removes the parts of an earlier export", async (format) => {
    const w = warehouse();
    const dir = path.join(t.dir, "empty");
    await w.exportQuery("SELECT i FROM range(3) t(i)", dir, format);
    expect(await w.exportQuery("SELECT 1 AS a WHERE false", dir, format)).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("binds $name parameters as query() does, in the exported query", async () => {
    const w = warehouse();
    await w.execute(["CREATE TABLE orders AS SELECT i AS id, TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1000001) AS created_at FROM range(10) t(i)"]);
    const files = await w.exportQuery("SELECT id, created_at FROM orders WHERE created_at > $from AND id <= $max ORDER BY id DESC", path.join(t.dir, "p"), "csv", {
      params: { from: "2024-01-01T00:00:06.000006", max: 8 },
    });
    expect(files).toEqual([{ path: path.join(t.dir, "p", "part-00000.csv"), rows: 2 }]);
    expect(await readFile(files[0]!.path, "utf8")).toBe("id,created_at\n8,2024-01-01 00:00:08.000008\n7,2024-01-01 00:00:07.000007\n");

    const mismatch = await rejection(w.exportQuery("SELECT $a AS a, $b AS b", path.join(t.dir, "mismatch"), "csv", { params: { a: 1, c: 2 } }));
    expect(mismatch).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED", message: expect.stringContaining("no value for $b; $c is not in the statement") });
    expect(await readdir(path.join(t.dir, "mismatch"))).toEqual([]);
  });

  it("leaves no file behind when the query fails while it runs", async () => {
    const dir = path.join(t.dir, "failed");
    const error = await rejection(warehouse().exportQuery("SELECT CAST('x' || i AS INTEGER) AS n FROM range(10) t(i)", dir, "ndjson"));
    expect(error).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED", message: expect.stringContaining("Conversion Error") });
    expect(await readdir(dir)).toEqual([]);
  });

  it("stops with the abort reason and leaves no file when the step is cancelled", async () => {
    const controller = new AbortController();
    const dir = path.join(t.dir, "cancelled");
    const running = warehouse({}, controller.signal).exportQuery("SELECT count(*) AS n FROM range(4000000000) t(i)", dir, "csv");
    setTimeout(() => controller.abort(new Error("task killed")), 200);
    await expect(running).rejects.toThrow("task killed");
    expect(await readdir(dir)).toEqual([]);
  });

  it("exports only queries, never a statement smuggled in", async () => {
    const w = warehouse();
    await w.execute(["CREATE TABLE keep AS SELECT 1 AS x"]);
    const notAQuery = await rejection(w.exportQuery("DELETE FROM keep", t.dir, "csv"));
    expect(notAQuery).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED", message: expect.stringContaining("needs a query that returns rows") });
    const smuggled = await rejection(w.exportQuery("SELECT 1) TO '/tmp/x.csv'; DROP TABLE keep; SELECT (1", t.dir, "csv"));
    expect(smuggled).toMatchObject({ code: "XO_DUCKDB_QUERY_FAILED" });
    expect(await query(db, "SELECT x FROM keep")).toEqual([{ x: 1 }]);
  });
});

describe("exportQuery with maxFileBytes", () => {
  const ROWS = 3_000;
  // Not in id order, with the text a CSV writer must quote: newlines, quotes, commas, non-ASCII.
  const HOSTILE = `SELECT i AS id, 'line ' || i || E'\n"quoted", ü 🎉' AS note, i * 0.25 AS amount
    FROM range(${ROWS}) t(i) ORDER BY hash(i)`;
  const LIMIT = 40_000;

  const sha = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");
  const expectedIds = async () => (await query(":memory:", `SELECT id FROM (${HOSTILE})`)).map((r) => r.id);

  it.each([
    ["csv", ".csv", "id,note,amount\n"],
    ["ndjson", ".ndjson", ""],
  ] as const)("cuts %s into ordered parts at rows, each within the limit, that join into the one-file export", async (format, extension, header) => {
    const w = warehouse();
    const [whole] = await w.exportQuery(HOSTILE, path.join(t.dir, "whole"), format);
    const files = await w.exportQuery(HOSTILE, path.join(t.dir, "parts"), format, { maxFileBytes: LIMIT });

    expect(files.length).toBeGreaterThan(3);
    const names = files.map((_, i) => `part-${String(i).padStart(5, "0")}${extension}`);
    expect(files.map((f) => f.path)).toEqual(names.map((n) => path.join(t.dir, "parts", n)));
    expect((await readdir(path.join(t.dir, "parts"))).sort()).toEqual(names);
    const texts = await Promise.all(files.map((f) => readFile(f.path, "utf8")));
    for (const text of texts) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(LIMIT);
      expect(text.startsWith(header)).toBe(true);
    }
    // Byte for byte the single file, less the header each part repeats: same rows, same order, same formatting.
    expect(header + texts.map((text) => text.slice(header.length)).join("")).toBe(await readFile(whole!.path, "utf8"));
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(ROWS);
    const reader = format === "csv" ? "read_csv" : "read_ndjson";
    for (const f of files) expect(await readBack(reader, f.path)).toEqual([{ n: f.rows }]);
  });

  it("cuts parquet into ordered row windows of about the limit", async () => {
    const w = warehouse();
    const [whole] = await w.exportQuery(HOSTILE, path.join(t.dir, "whole"), "parquet");
    const wholeBytes = (await stat(whole!.path)).size;
    const limit = Math.ceil(wholeBytes / 4);
    const files = await w.exportQuery(HOSTILE, path.join(t.dir, "parts"), "parquet", { maxFileBytes: limit });

    expect(files.map((f) => path.basename(f.path))).toEqual(["part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "part-00003.parquet"]);
    expect(files.map((f) => f.rows)).toEqual([750, 750, 750, 750]);
    for (const f of files) expect((await stat(f.path)).size).toBeLessThanOrEqual(limit * 1.25);
    const ids = [];
    for (const f of files) ids.push(...(await query(":memory:", `SELECT id FROM read_parquet(${quoteLiteral(f.path)})`)).map((r) => r.id));
    expect(ids).toEqual(await expectedIds());
    expect(await readBack("read_parquet", files[2]!.path, "min(note) AS note")).toEqual([{ note: expect.stringContaining('"quoted", ü 🎉') }]);
  });

  it.each(["csv", "ndjson", "parquet"] as const)("writes the same %s parts, byte for byte, every time, and removes parts an earlier export had beyond them", async (format) => {
    const w = warehouse();
    const dir = path.join(t.dir, format);
    const first = await w.exportQuery(HOSTILE, dir, format, { maxFileBytes: LIMIT });
    const again = await w.exportQuery(HOSTILE, dir, format, { maxFileBytes: LIMIT });
    expect(again).toEqual(first);
    const firstSums = await Promise.all(first.map((f) => sha(f.path)));
    const other = await w.exportQuery(HOSTILE, path.join(t.dir, "other"), format, { maxFileBytes: LIMIT });
    expect(await Promise.all(other.map((f) => sha(f.path)))).toEqual(firstSums);

    const fewer = await w.exportQuery(HOSTILE, dir, format, { maxFileBytes: LIMIT * 3 });
    expect(fewer.length).toBeLessThan(first.length);
    expect((await readdir(dir)).sort()).toEqual(fewer.map((f) => path.basename(f.path)));
  });

  it("writes one part when the result fits, and gives a row larger than the limit a part of its own", async () => {
    const w = warehouse();
    expect(await w.exportQuery("SELECT 1 AS a", path.join(t.dir, "small"), "csv", { maxFileBytes: 1_000 })).toEqual([
      { path: path.join(t.dir, "small", "part-00000.csv"), rows: 1 },
    ]);
    const files = await w.exportQuery("SELECT i, repeat('x', CASE WHEN i = 1 THEN 500 ELSE 5 END) AS s FROM range(3) t(i) ORDER BY i", path.join(t.dir, "big"), "csv", {
      maxFileBytes: 100,
    });
    expect(files.map((f) => f.rows)).toEqual([1, 1, 1]);
    expect(await readFile(files[1]!.path, "utf8")).toBe(`i,s\n1,${"x".repeat(500)}\n`);
    expect(await readFile(files[2]!.path, "utf8")).toBe("i,s\n2,xxxxx\n");
  });

  it("refuses a size that is not a positive number of bytes", async () => {
    for (const maxFileBytes of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await rejection(warehouse().exportQuery("SELECT 1 AS a", path.join(t.dir, "bad"), "csv", { maxFileBytes }));
      expect(error).toMatchObject({ code: "XO_DUCKDB_INVALID_OPTIONS", message: expect.stringContaining("maxFileBytes") });
    }
    expect(existsSync(path.join(t.dir, "bad"))).toBe(false);
  });
});

describe("describe", () => {
  it("returns the columns and row count of a table, bare or schema-qualified, in DuckDB's spelling", async () => {
    const w = warehouse({ schema: "raw" });
    await w.execute(["CREATE TABLE Orders (id BIGINT, name VARCHAR, amount DECIMAL(10, 2), created_at TIMESTAMP)", "INSERT INTO Orders VALUES (1, 'a', 1.5, NULL), (2, 'b', 2, NULL)"]);
    const expected = {
      table: "raw.Orders",
      columns: [
        { name: "id", type: "BIGINT" },
        { name: "name", type: "VARCHAR" },
        { name: "amount", type: "DECIMAL(10,2)" },
        { name: "created_at", type: "TIMESTAMP" },
      ],
      rows: 2,
    };
    expect(await w.describe("orders")).toEqual(expected);
    expect(await w.describe("RAW.ORDERS")).toEqual(expected);
    expect(await w.describe('"raw"."Orders"')).toEqual(expected);
    expect(await warehouse().describe("raw.orders")).toEqual(expected);
  });

  it("is undefined for a missing table, schema or database file, without creating the file", async () => {
    expect(await warehouse().describe("orders")).toBeUndefined();
    expect(existsSync(db)).toBe(false);
    const w = warehouse();
    await w.execute(["CREATE TABLE orders AS SELECT 1 AS id"]);
    expect(await w.describe("order")).toBeUndefined();
    expect(await w.describe("nope.orders")).toBeUndefined();
  });

  it("reads quoted names with dots and quotes, omits the row count of views, and rejects malformed names", async () => {
    const w = warehouse();
    await w.execute(['CREATE SCHEMA "eu.sales"', 'CREATE TABLE "eu.sales"."order ""lines""" AS SELECT 1 AS x', "CREATE VIEW v AS SELECT 1 AS x"]);
    expect(await w.describe('"eu.sales"."order ""lines"""')).toMatchObject({ table: 'eu.sales.order "lines"', rows: 1 });
    expect(await w.describe("v")).toEqual({ table: "main.v", columns: [{ name: "x", type: "INTEGER" }] });
    for (const bad of ["", "a.b.c", 'a."b', "a..b", 'a"b']) {
      await expect(w.describe(bad)).rejects.toMatchObject({ code: "XO_DUCKDB_TABLE_NAME_INVALID" });
    }
  });
});

describe("sharing the file", () => {
  it("runs concurrent calls on the same file one after another, alongside a load", async () => {
    const w = warehouse();
    await w.execute(["CREATE TABLE t AS SELECT range AS i FROM range(100)"]);
    const other = warehouse();
    const file = await ndjson(t.dir, "a.ndjson", [{ id: 1 }]);
    const results = await Promise.all([
      w.query("SELECT count(*) AS n FROM t"),
      other.query("SELECT sum(i) AS s FROM t"),
      w.describe("t"),
      other.exportQuery("SELECT * FROM t", path.join(t.dir, "out"), "parquet"),
      sink.load(loadContext({ projectDir: t.dir, files: [file] })),
      w.query("SELECT count(*) AS n FROM t WHERE i < $max", { max: 10 }),
    ]);
    expect(results[0]).toEqual([{ n: 100 }]);
    expect(results[1]).toEqual([{ s: 4950 }]);
    expect(results[2]).toMatchObject({ rows: 100 });
    expect(results[3]).toMatchObject([{ rows: 100 }]);
    expect(results[4]).toMatchObject({ rowsLoaded: 1 });
    expect(results[5]).toEqual([{ n: 10 }]);
  });

  describe("with another process", () => {
    let child: ChildProcess | undefined;
    afterEach(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill();
        await once(child, "exit");
      }
    });

    it("waits at most lock_timeout_ms for the file, then names the lock", async () => {
      const holder = fileURLToPath(new URL("./__fixtures__/hold-lock.mjs", import.meta.url));
      child = spawn(process.execPath, [holder, db], { stdio: ["pipe", "pipe", "inherit"] });
      const [line] = (await once(child.stdout!, "data")) as [Buffer];
      expect(line.toString()).toBe("locked\n");
      const started = Date.now();
      const error = await rejection(warehouse({ lock_timeout_ms: 300 }).query("SELECT 1"));
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(error).toMatchObject({ code: "XO_DUCKDB_LOCKED", message: expect.stringContaining(`locked by process ${child.pid}`) });
    });
  });
});
