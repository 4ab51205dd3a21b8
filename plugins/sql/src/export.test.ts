/**
 * `sql.export` against a real DuckDB warehouse (the DuckDB sink's, a file in a temp dir) and
 * a real file landing zone (the runtime's), with state committed the way the runtime does
 * once the tasks after the export succeeded.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readStepPartition, silentLogger, type Manifest, type StepResult, type Warehouse } from "@xo-foundry/core";
import { duckdb } from "@xo-foundry/plugin-duckdb";
import { fileLanding } from "@xo-foundry/runtime";
import { memoryStateStore, rejectionOf, stepContext, testdir, type TestDir } from "@xo-foundry/testkit";
import { sqlExport, sqlExportOptions } from "./index.js";

const TASK = "changed_orders";
const KEY = "export__changed_orders";
let dir: TestDir;
let w: Warehouse;
let state: ReturnType<typeof memoryStateStore>;
const landing = () => ({ root: pathToFileURL(dir.path("landing")).href, store: fileLanding() });

beforeEach(async () => {
  dir = await testdir();
  w = duckdb().sinks![0]!.warehouse!({
    sink: "main",
    options: { database: "warehouse.duckdb" },
    connection: undefined,
    projectDir: dir.dir,
    log: silentLogger,
    signal: new AbortController().signal,
  });
  state = memoryStateStore();
});
afterEach(() => dir.remove());

function run(options: Record<string, unknown>, logicalDate = "2026-01-15"): Promise<StepResult> {
  return sqlExport.run(
    stepContext({ options: sqlExportOptions.parse(options), warehouses: { main: w }, landing: landing(), state, logicalDate, projectDir: dir.dir, taskId: TASK }),
  );
}

/** What the runtime does once the tasks after the export succeeded. */
async function commit(result: StepResult, logicalDate = "2026-01-15"): Promise<void> {
  for (const [key, value] of Object.entries(result.state ?? {})) await state.set(key, value, { runId: "test", logicalDate });
}

async function published(result: StepResult): Promise<{ manifest: Manifest; texts: string[]; sums: string[] }> {
  const manifest = (await readStepPartition(fileLanding(), result.summary!.partition as string))!;
  const bodies = await Promise.all(manifest.files.map((f) => readFile(fileURLToPath(f.uri))));
  return { manifest, texts: bodies.map((b) => b.toString("utf8")), sums: bodies.map((b) => createHash("sha256").update(b).digest("hex")) };
}

const csvRows = (texts: readonly string[]) => texts.flatMap((t) => t.trimEnd().split("\n").slice(1));

describe("sql.export of a query", () => {
  beforeEach(async () => {
    await w.execute([
      "CREATE TABLE orders (id INTEGER, customer VARCHAR, total DECIMAL(10, 2), day DATE)",
      "INSERT INTO orders VALUES (1, 'ann', 10.5, DATE '2026-01-14'), (2, 'bob, jr', 20, DATE '2026-01-15'), (3, 'cé \"q\"', 30, DATE '2026-01-15')",
    ]);
  });

  it("publishes the rows as one CSV file in the task's partition and names it in the summary", async () => {
    const result = await run({ query: "select id, customer, total from orders order by id desc;" });
    const partition = `${landing().root}/stage/test_pipeline/_steps/${TASK}/incremental/date=2026-01-15`;
    const { manifest, texts } = await published(result);
    expect(texts).toEqual(['id,customer,total\n3,"cé ""q""",30.00\n2,"bob, jr",20.00\n1,ann,10.50\n']);
    expect(manifest).toMatchObject({ partition, rows: 3, files: [{ uri: `${partition}/part-00000.csv`, format: "csv", rows: 3 }] });
    expect(result).toEqual({
      summary: { rows: 3, files: 1, bytes: Buffer.byteLength(texts[0]!), partition },
      reads: [{ uri: "xo-sink://main/query" }],
      writes: [{ uri: partition }],
    });
  });

  it("writes NDJSON and Parquet", async () => {
    const ndjson = await published(await run({ query: "select id, customer, total, day from orders order by id", format: "ndjson" }));
    expect(ndjson.texts.join("").trimEnd().split("\n").map((line) => JSON.parse(line) as unknown)).toEqual([
      { id: 1, customer: "ann", total: 10.5, day: "2026-01-14" },
      { id: 2, customer: "bob, jr", total: 20, day: "2026-01-15" },
      { id: 3, customer: 'cé "q"', total: 30, day: "2026-01-15" },
    ]);
    expect(ndjson.manifest.files[0]!.uri).toMatch(/\/part-00000\.ndjson$/);

    const parquet = await published(await run({ table: "orders", format: "parquet" }));
    const file = fileURLToPath(parquet.manifest.files[0]!.uri);
    expect(file).toMatch(/part-00000\.parquet$/);
    expect(await w.query(`select id, customer, total, day from read_parquet('${file}') order by id`)).toEqual([
      { id: 1, customer: "ann", total: 10.5, day: "2026-01-14" },
      { id: 2, customer: "bob, jr", total: 20, day: "2026-01-15" },
      { id: 3, customer: 'cé "q"', total: 30, day: "2026-01-15" },
    ]);
  });

  it("exports a table named by `table`, in the sink's schema resolution", async () => {
    await w.execute(["CREATE SCHEMA raw", "CREATE TABLE raw.customers AS SELECT 'ann' AS name"]);
    const result = await run({ table: "raw.customers" });
    expect((await published(result)).texts).toEqual(["name\nann\n"]);
    expect(result.reads).toEqual([{ uri: "xo-sink://main/table/raw.customers" }]);
  });

  it("binds $ds, $window_start and $window_end where the query uses them, in any case, and nothing else", async () => {
    await w.execute(["CREATE TABLE events AS SELECT * FROM (VALUES (1, TIMESTAMP '2026-01-14 23:59:59.999999'), (2, TIMESTAMP '2026-01-15 00:00:00'), (3, TIMESTAMP '2026-01-15 23:59:59.999999'), (4, TIMESTAMP '2026-01-16 00:00:00')) t(id, happened)"]);
    const byWindow = await run({ query: "select id from events where happened >= $Window_Start and happened < $WINDOW_END and $window_start <> '$ds' -- $nope\norder by id" });
    expect((await published(byWindow)).texts).toEqual(["id\n2\n3\n"]);
    const byDate = await run({ query: "select id, $ds as ds from orders where day = $DS::date order by id" });
    expect((await published(byDate)).texts).toEqual(["id,ds\n2,2026-01-15\n3,2026-01-15\n"]);
  });

  it("refuses a query with a parameter it does not bind, naming it", async () => {
    const error = await rejectionOf(() => run({ query: "select * from orders where customer = $customer and day = $ds" }));
    expect(error).toMatchObject({ code: "XO_SQL_EXPORT_PARAMETER_UNKNOWN", message: expect.stringContaining(`task ${TASK} uses $customer; sql.export binds only $window_start, $window_end and $ds`) });
  });

  it("publishes an empty partition for an empty result, replacing the date's earlier files", async () => {
    await run({ query: "select * from orders" });
    const result = await run({ query: "select * from orders where false" });
    const { manifest } = await published(result);
    expect(manifest.files).toEqual([]);
    expect(result.summary).toMatchObject({ rows: 0, files: 0, bytes: 0 });
    expect(result.state).toBeUndefined();
  });

  it("cuts the result into ordered files of about max_file_mb", async () => {
    await w.execute(["CREATE TABLE lines AS SELECT i AS id, repeat('x', 90) AS pad FROM range(100) t(i)"]);
    const result = await run({ query: "select id, pad from lines order by id desc", max_file_mb: 0.001 });
    const { manifest, texts } = await published(result);
    expect(manifest.files.map((f) => f.uri.slice(f.uri.lastIndexOf("/") + 1))).toEqual(Array.from({ length: manifest.files.length }, (_, i) => `part-0000${i}.csv`));
    expect(manifest.files.length).toBeGreaterThan(5);
    for (const text of texts) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1_000);
    expect(csvRows(texts).map((row) => Number(row.split(",")[0]))).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    expect(result.summary).toMatchObject({ rows: 100, files: manifest.files.length });
  });
});

describe("sql.export with a watermark", () => {
  const QUERY = "select id, status, updated_at from orders";
  const WATERMARK = { query: QUERY, watermark: { column: "updated_at" } };

  beforeEach(async () => {
    await w.execute([
      "CREATE TABLE orders (id INTEGER, status VARCHAR, updated_at TIMESTAMP)",
      // Three rows share the last timestamp: ties must come out in the same order every time.
      `INSERT INTO orders VALUES
        (1, 'new', TIMESTAMP '2026-01-15 08:00:00.000001'),
        (2, 'paid', TIMESTAMP '2026-01-15 09:30:00.123456'),
        (5, 'b', TIMESTAMP '2026-01-15 10:00:00.999999'),
        (4, 'c', TIMESTAMP '2026-01-15 10:00:00.999999'),
        (3, 'a', TIMESTAMP '2026-01-15 10:00:00.999999')`,
    ]);
  });

  it("exports every row the first time, in the column's order, and stages the watermark without saving it", async () => {
    const result = await run(WATERMARK);
    expect((await published(result)).texts).toEqual([
      "id,status,updated_at\n1,new,2026-01-15 08:00:00.000001\n2,paid,2026-01-15 09:30:00.123456\n3,a,2026-01-15 10:00:00.999999\n4,c,2026-01-15 10:00:00.999999\n5,b,2026-01-15 10:00:00.999999\n",
    ]);
    const range = { from: null, to: "2026-01-15T10:00:00.999999" };
    expect(result.summary).toMatchObject({ rows: 5, files: 1, watermark: { column: "updated_at", ...range } });
    expect(result.state).toEqual({ [KEY]: { column: "updated_at", watermark: range.to, dates: { "2026-01-15": range } } });
    expect(await state.list()).toEqual([]);
  });

  it("sends the same rows in the same files when a date runs again, and only newer rows on the next date", async () => {
    const first = await run(WATERMARK);
    const firstFiles = await published(first);
    await commit(first);
    // Newer rows, one a microsecond above the watermark.
    await w.execute(["INSERT INTO orders VALUES (7, 'next', TIMESTAMP '2026-01-15 10:00:01'), (8, 'next', TIMESTAMP '2026-01-16 07:00:00.5')"]);

    const again = await run(WATERMARK);
    expect((await published(again)).sums).toEqual(firstFiles.sums);
    expect(again.state).toEqual(first.state);
    expect(again.summary).toEqual(first.summary);

    // A row that arrives late at the watermark itself is not the next date's: the column must only grow.
    await w.execute(["INSERT INTO orders VALUES (6, 'late', TIMESTAMP '2026-01-15 10:00:00.999999')"]);

    const next = await run(WATERMARK, "2026-01-16");
    expect((await published(next)).texts).toEqual(["id,status,updated_at\n7,next,2026-01-15 10:00:01\n8,next,2026-01-16 07:00:00.5\n"]);
    const nextRange = { from: "2026-01-15T10:00:00.999999", to: "2026-01-16T07:00:00.5" };
    expect(next.summary).toMatchObject({ rows: 2, watermark: { column: "updated_at", ...nextRange } });
    expect(next.state).toEqual({
      [KEY]: { column: "updated_at", watermark: nextRange.to, dates: { "2026-01-15": { from: null, to: "2026-01-15T10:00:00.999999" }, "2026-01-16": nextRange } },
    });
    await commit(next, "2026-01-16");

    // An earlier date run again after a later one: its range as it is now (with the late row,
    // which falls in it), and the watermark stays ahead.
    const old = await run(WATERMARK);
    expect(csvRows((await published(old)).texts).map((row) => row.split(",")[0])).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(old.state).toEqual(next.state);
  });

  it("exports the same rows again when the delivery failed and nothing was committed", async () => {
    const first = await run(WATERMARK, "2026-01-15"); // its delivery failed: nothing committed
    const retried = await run(WATERMARK, "2026-01-16");
    expect(retried.summary).toMatchObject({ rows: 5, watermark: { from: null, to: "2026-01-15T10:00:00.999999" } });
    expect((await published(retried)).sums).toEqual((await published(first)).sums);
  });

  it("publishes an empty partition and stages nothing when no row is newer", async () => {
    await commit(await run(WATERMARK));
    const result = await run(WATERMARK, "2026-01-16");
    expect((await published(result)).manifest.files).toEqual([]);
    expect(result.summary).toMatchObject({ rows: 0, files: 0, bytes: 0, watermark: { column: "updated_at", from: "2026-01-15T10:00:00.999999", to: null } });
    expect(result.state).toBeUndefined();
  });

  it("starts above `initial`, and works on integer and TIMESTAMPTZ columns", async () => {
    const byId = await run({ query: "select id, status from orders", watermark: { column: "id", initial: 3 } });
    expect((await published(byId)).texts).toEqual(["id,status\n4,c\n5,b\n"]);
    expect(byId.state).toEqual({ [KEY]: { column: "id", watermark: 5, dates: { "2026-01-15": { from: 3, to: 5 } } } });
    await commit(byId);
    await w.execute(["INSERT INTO orders VALUES (9, 'z', NULL)"]);
    expect((await published(await run({ query: "select id, status from orders", watermark: { column: "id" } }, "2026-01-16"))).texts).toEqual(["id,status\n9,z\n"]);

    state = memoryStateStore();
    const tz = { query: "select id, updated_at::timestamptz as changed from orders where updated_at is not null", watermark: { column: "changed", initial: "2026-01-15T09:00:00Z" } };
    const byTime = await run(tz);
    expect(byTime.summary).toMatchObject({ rows: 4, watermark: { from: "2026-01-15T09:00:00Z", to: "2026-01-15T10:00:00.999999Z" } });
    await commit(byTime);
    expect((await run(tz, "2026-01-16")).summary).toMatchObject({ rows: 0 });
  });

  it("cuts an increment into ordered files, the same ones on a re-run", async () => {
    await w.execute(["INSERT INTO orders SELECT 100 + i, repeat('s', 50), TIMESTAMP '2026-01-15 11:00:00' + to_microseconds(i % 7) FROM range(60) t(i)"]);
    const options = { ...WATERMARK, max_file_mb: 0.0005, format: "csv" };
    const first = await run(options);
    const files = await published(first);
    expect(files.manifest.files.length).toBeGreaterThan(4);
    const times = csvRows(files.texts).map((row) => row.split(",")[2]!);
    expect(times).toHaveLength(65);
    expect([...times].sort()).toEqual(times);
    await commit(first);
    expect((await published(await run(options))).sums).toEqual(files.sums);
  });

  it("names the columns there are when the watermark column is not in the query's result", async () => {
    const error = await rejectionOf(() => run({ query: QUERY, watermark: { column: "updatedat" } }));
    expect(error).toMatchObject({
      code: "XO_SQL_EXPORT_COLUMN_MISSING",
      message: expect.stringContaining(`the watermark column "updatedat" of task ${TASK} is not in its query's result, whose columns are "id", "status", "updated_at"`),
    });
  });

  it("refuses a saved state for another column", async () => {
    await commit(await run(WATERMARK));
    const error = await rejectionOf(() => run({ query: QUERY, watermark: { column: "id" } }, "2026-01-16"));
    expect(error).toMatchObject({ code: "XO_SQL_EXPORT_STATE_INVALID", message: expect.stringContaining('is for column "updated_at"') });
  });

  it("refuses a watermark column whose values cannot be compared again", async () => {
    const error = await rejectionOf(() => run({ query: "select [id] as ids from orders", watermark: { column: "ids" } }));
    expect(error).toMatchObject({ code: "XO_SQL_EXPORT_WATERMARK_INVALID" });
  });
});

describe("sql.export options", () => {
  const problems = (options: Record<string, unknown>) => {
    const parsed = sqlExportOptions.strict().safeParse(options);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("defaults to CSV and needs exactly one of `query` and `table`", () => {
    expect(sqlExportOptions.parse({ table: "orders" })).toEqual({ table: "orders", format: "csv" });
    expect(problems({})).toEqual([": give `query` or `table`, exactly one of them"]);
    expect(problems({ query: "select 1", table: "orders" })).toEqual([": give `query` or `table`, exactly one of them"]);
  });

  it("names the option that is wrong", () => {
    expect(problems({ table: "orders; drop table x" })).toEqual(["table: a table name such as `orders` or `raw.orders`; use `query` for other names"]);
    expect(problems({ table: "orders", format: "xlsx" })[0]).toMatch(/^format: /);
    expect(problems({ table: "orders", max_file_mb: 0 })[0]).toMatch(/^max_file_mb: /);
    expect(problems({ table: "orders", watermark: { colum: "x" } })).toEqual(expect.arrayContaining([expect.stringMatching(/^watermark\.column: /), expect.stringMatching(/^watermark: .*colum/)]));
    expect(problems({ table: "orders", watermark: { column: "a\u0000b" } })[0]).toMatch(/^watermark\.column: /);
    expect(problems({ table: "orders", sink: "Main" })[0]).toMatch(/^sink: /);
  });

  it("describes every option", () => {
    const shape = sqlExportOptions.shape;
    for (const [key, schema] of Object.entries(shape)) expect(schema.description, key).toBeTruthy();
    expect(Object.keys(shape).sort()).toEqual(["format", "max_file_mb", "query", "sink", "table", "watermark"]);
  });
});
