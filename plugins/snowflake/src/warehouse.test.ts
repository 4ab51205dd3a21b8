/**
 * The Snowflake sink's `warehouse` service, as SQL, check and export steps use it.
 *
 * Real: snowflake-sdk 3.3.0 (login, positional binds, JSON result sets decoded by its own
 * column code, `streamRows` downloading result chunks, logout), and the SQL engine, fakesnow
 * 0.12.1 (Snowflake's dialect translated by sqlglot, run by DuckDB) executing every query,
 * transaction and INFORMATION_SCHEMA lookup the warehouse sends.
 * Emulated (__fixtures__/snowflake_server.ts, stateful_snowflake.ts): the REST protocol, the
 * session (database, schema, ALTER SESSION parameters), results longer than 40 rows sent as
 * chunks downloaded from the server, values encoded as Snowflake's JSON result sets encode
 * them, and Snowflake's implicit commit before DDL.
 * fakesnow limits seen here: TIMESTAMP_TZ keeps no offset (values come back in UTC), NUMBER
 * holds 64-bit integers only, and INFORMATION_SCHEMA.TABLES lists no views. The offsets,
 * wider numbers and the other encodings are checked in "value encoding" below, against
 * scripted replies in Snowflake's wire format.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { clearSecrets, type Connection, type JsonObject, type Warehouse } from "@xo-foundry/core";
import { recordingLogger, testdir, type TestDir } from "@xo-foundry/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SNOWFLAKE_ERRORS, snowflake } from "./index.js";
import { parseCsv, startStatefulSnowflake, type StatefulSnowflake } from "./__fixtures__/stateful_snowflake.js";
import { startFakeSnowflake, type FakeSnowflake } from "./__fixtures__/snowflake_server.js";

const sink = snowflake().sinks![0]!;
const PASSWORD = "warehouse-Secret-42";

let dir: TestDir;
beforeEach(async () => {
  dir = await testdir();
});
afterEach(async () => {
  await dir.remove();
  clearSecrets();
});

const connectionTo = (port: number): Connection => ({
  id: "snowflake_wh",
  type: "snowflake",
  host: "127.0.0.1",
  port,
  login: "analyst",
  password: PASSWORD,
  extra: { account: "acme-wh", warehouse: "QUERY_WH", protocol: "http" },
});

function warehouseOn(port: number, options: Record<string, unknown>, signal = new AbortController().signal): Warehouse {
  return sink.warehouse!({ sink: "main", options: sink.options.parse(options), connection: connectionTo(port), projectDir: dir.dir, log: recordingLogger(), signal });
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e as Error & { code?: string },
  );
}

describe("the plugin", () => {
  it("offers the warehouse on its sink and declares every error code with a description", () => {
    const plugin = snowflake();
    expect(warehouseOn(1, { database: "RAW" }).dialect).toBe("snowflake");
    expect(plugin.errors).toEqual(SNOWFLAKE_ERRORS);
    for (const [code, description] of Object.entries(plugin.errors!)) {
      expect(code).toMatch(/^XO_SNOWFLAKE_[A-Z_]+$/);
      expect(description.length).toBeGreaterThan(40);
    }
  });

  it("refuses invalid sink options when a step asks for the warehouse", () => {
    const ctx = { sink: "main", options: { on_error: "IGNORE" }, connection: connectionTo(1), projectDir: dir.dir, log: recordingLogger(), signal: new AbortController().signal };
    expect(() => sink.warehouse!(ctx)).toThrow(expect.objectContaining({ code: "XO_SNOWFLAKE_INVALID_OPTIONS" }));
  });
});

describe("on fakesnow through snowflake-sdk", () => {
  let service: StatefulSnowflake;
  let schemas = 0;
  let schema: string;
  let wh: Warehouse;
  /** Called on each result chunk download; a test sets it to act in the middle of a stream. */
  let onChunk: (count: number) => void = () => undefined;

  beforeAll(async () => {
    service = await startStatefulSnowflake({ chunkRows: 40, onChunkDownload: (count) => onChunk(count) });
  }, 60_000);
  afterAll(async () => {
    await service?.close();
  });

  beforeEach(async () => {
    schema = `WH_${++schemas}`;
    await service.query(`CREATE SCHEMA "RAW"."${schema}"`);
    // Lower case as a YAML file would say it: Snowflake resolves unquoted names upper-cased.
    wh = warehouseOn(service.port, { database: "raw", schema: schema.toLowerCase() });
  });

  /** A table with one column of each type, in the test's schema. */
  async function typedTable(): Promise<void> {
    await service.query(
      `CREATE TABLE "RAW"."${schema}"."TYPED" (ID NUMBER(38,0), AMOUNT NUMBER(10,2), BIG NUMBER(38,0), RATIO FLOAT, FLAG BOOLEAN, NAME VARCHAR(20),
        DAY DATE, AT_NTZ TIMESTAMP_NTZ, AT_TZ TIMESTAMP_TZ, CLOCK TIME, DOC VARIANT, TAGS ARRAY, BYTES BINARY, NOTHING VARCHAR)`,
    );
    await service.query(
      `INSERT INTO "RAW"."${schema}"."TYPED" SELECT 1, 12.30, 9007199254740993, 1.5, TRUE, 'hé, "you"', '2024-01-02', '2024-01-02 03:04:05.123456',
        TO_TIMESTAMP_TZ('2024-01-02 03:04:05.5 +0200'), '12:34:56.789', PARSE_JSON('{"a":1,"b":[true,null],"c":"x"}'), ARRAY_CONSTRUCT(1, 'two'),
        TO_BINARY('abcd', 'HEX'), NULL`,
    );
  }

  /** ORDERS with `n` rows: ID 1..n, STATUS cycling through values that need CSV quoting. */
  async function orders(n: number): Promise<void> {
    await service.query(`CREATE TABLE "RAW"."${schema}"."ORDERS" (ID NUMBER(38,0), STATUS VARCHAR, NOTE VARCHAR, CREATED DATE)`);
    const notes = ["plain", "a,b", 'say "hi"', "two\nlines", "", null];
    const values: (string | number | null)[] = [];
    for (let id = 1; id <= n; id++) values.push(id, id % 2 === 0 ? "open" : "closed", notes[id % notes.length]!, `2024-01-${String((id % 28) + 1).padStart(2, "0")}`);
    for (let start = 0; start < n; start += 100) {
      const count = Math.min(100, n - start);
      await service.query(`INSERT INTO "RAW"."${schema}"."ORDERS" VALUES ${Array(count).fill("(?, ?, ?, ?)").join(", ")}`, values.slice(start * 4, (start + count) * 4));
    }
  }

  describe("query", () => {
    it("returns rows as JSON with Snowflake's types kept, resolving bare names in the sink's schema", async () => {
      await typedTable();
      const rows = await wh.query("SELECT * FROM typed");
      expect(rows).toEqual([
        {
          ID: 1,
          AMOUNT: 12.3,
          BIG: "9007199254740993",
          RATIO: 1.5,
          FLAG: true,
          NAME: 'hé, "you"',
          DAY: "2024-01-02",
          AT_NTZ: "2024-01-02T03:04:05.123456",
          // fakesnow stores the instant in UTC (DuckDB's TIMESTAMPTZ); Snowflake would keep +02:00.
          AT_TZ: "2024-01-02T01:04:05.5Z",
          CLOCK: "12:34:56.789",
          DOC: { a: 1, b: [true, null], c: "x" },
          TAGS: [1, "two"],
          BYTES: "ABCD",
          NOTHING: null,
        },
      ]);
    });

    it("binds $name parameters as values, never as SQL text", async () => {
      await orders(5);
      const hostile = `x'); DROP TABLE "RAW"."${schema}"."ORDERS"; --`;
      const rows = await wh.query("SELECT ID, $label AS LABEL, $flag AS FLAG, $none AS NONE FROM orders WHERE ID >= $min AND ID < $min + 2 ORDER BY ID", {
        label: hostile,
        flag: false,
        none: null,
        min: 3,
      });
      expect(rows).toEqual([
        { ID: 3, LABEL: hostile, FLAG: false, NONE: null },
        { ID: 4, LABEL: hostile, FLAG: false, NONE: null },
      ]);
      const sent = service.queries.findLast((q) => q.sql.includes("FROM orders"))!;
      expect(sent.sql).toBe("SELECT ID, ? AS LABEL, ? AS FLAG, ? AS NONE FROM orders WHERE ID >= ? AND ID < ? + 2 ORDER BY ID");
      expect(sent.binds).toEqual([hostile, "false", null, "3", "3"]);
      expect(await wh.query("SELECT COUNT(*) AS N FROM orders")).toEqual([{ N: 5 }]);
    });

    it("refuses parameters that do not match before connecting", async () => {
      const logins = service.logins.length;
      const missing = await rejection(wh.query("SELECT $a, $b", { a: 1, extra: 2 }));
      expect(missing).toMatchObject({ code: "XO_SNOWFLAKE_PARAMS_INVALID" });
      expect(missing.message).toContain("no value for $b; $extra is not in the statement");
      expect(await rejection(wh.query("SELECT ?", {}))).toMatchObject({ code: "XO_SNOWFLAKE_PARAMS_INVALID" });
      expect(await rejection(wh.query("SELECT 1; SELECT 2"))).toMatchObject({ code: "XO_SNOWFLAKE_SQL_INVALID" });
      expect(service.logins.length).toBe(logins);
    });

    it("reports Snowflake's error with its code and the statement, never the password", async () => {
      const error = await rejection(wh.query(`SELECT * FROM missing_table WHERE note = '${PASSWORD}'`));
      expect(error).toMatchObject({ code: "XO_SNOWFLAKE_STATEMENT_FAILED" });
      expect(error.message).toMatch(/Snowflake rejected the query \(\d{6}\): .*MISSING_TABLE/s);
      expect(error.message).toContain("statement: SELECT * FROM missing_table");
      expect(error.message).not.toContain(PASSWORD);
      expect(service.logouts).toBe(service.logins.length);
    });
  });

  describe("execute", () => {
    it("runs the statements in one transaction that commits", async () => {
      await orders(2);
      const before = service.queries.length;
      await wh.execute(["INSERT INTO orders VALUES (3, 'new', 'n', '2024-02-01')", "UPDATE orders SET STATUS = 'done' WHERE ID <= 2; DELETE FROM orders WHERE ID = 1"]);
      expect(service.queries.slice(before).map((q) => q.sql.split(" ")[0])).toEqual(["ALTER", "BEGIN", "INSERT", "UPDATE", "DELETE", "COMMIT"]);
      expect(await wh.query("SELECT ID, STATUS FROM orders ORDER BY ID")).toEqual([
        { ID: 2, STATUS: "done" },
        { ID: 3, STATUS: "new" },
      ]);
    });

    it("rolls back every statement when one fails, and says so", async () => {
      await orders(2);
      const error = await rejection(wh.execute(["INSERT INTO orders VALUES (3, 'new', 'n', '2024-02-01')", "UPDATE orders SET STATUS = 'x'", "INSERT INTO orders VALUES ('not a number', 'x', 'x', '2024-02-01')"]));
      expect(error).toMatchObject({ code: "XO_SNOWFLAKE_STATEMENT_FAILED" });
      expect(error.message).toContain("Snowflake rejected statement 3 of 3 of execute()");
      expect(error.message).toContain("the transaction was rolled back: no statement of this execute() took effect");
      expect(service.queries.at(-1)!.sql).toBe("ROLLBACK");
      expect(await wh.query("SELECT ID, STATUS FROM orders ORDER BY ID")).toEqual([
        { ID: 1, STATUS: "closed" },
        { ID: 2, STATUS: "open" },
      ]);
    });

    it("DDL commits at once in Snowflake: the statements after it still roll back together, and the error says what was committed", async () => {
      const error = await rejection(
        wh.execute(["CREATE TABLE made (ID NUMBER)", "INSERT INTO made VALUES (1)", "INSERT INTO made VALUES ('not a number')"]),
      );
      expect(error.message).toContain("statements 1 to 1 had been committed already (Snowflake commits at each DDL statement)");
      expect(await wh.query("SELECT COUNT(*) AS N FROM made")).toEqual([{ N: 0 }]);
    });

    it("refuses transaction control of its own before connecting", async () => {
      const logins = service.logins.length;
      expect(await rejection(wh.execute(["BEGIN", "DELETE FROM orders"]))).toMatchObject({ code: "XO_SNOWFLAKE_SQL_INVALID" });
      expect(await rejection(wh.execute(["DELETE FROM orders; COMMIT"]))).toMatchObject({ code: "XO_SNOWFLAKE_SQL_INVALID" });
      expect(service.logins.length).toBe(logins);
    });
  });

  describe("exportQuery", () => {
    it("streams a result of many chunks into NDJSON parts of at most maxFileBytes, in the query's order", async () => {
      await orders(300);
      const downloads = service.chunkDownloads;
      const out = path.join(dir.dir, "out");
      const sql = "SELECT ID, STATUS, NOTE, CREATED FROM orders WHERE ID <= $last ORDER BY ID";
      const files = await wh.exportQuery(sql, "out", "ndjson", { params: { last: 250 }, maxFileBytes: 2000 });

      expect(files.length).toBeGreaterThan(5);
      expect(files.map((f) => path.basename(f.path))).toEqual(files.map((_, i) => `part-${String(i).padStart(5, "0")}.ndjson`));
      expect((await readdir(out)).sort()).toEqual(files.map((f) => path.basename(f.path)));
      expect(service.chunkDownloads - downloads).toBe(6); // 250 rows: 40 inline, six chunks of up to 40

      const read: JsonObject[] = [];
      for (const file of files) {
        const text = await readFile(file.path, "utf8");
        expect((await stat(file.path)).size).toBeLessThanOrEqual(2000);
        const lines = text.trimEnd().split("\n");
        expect(lines).toHaveLength(file.rows);
        read.push(...lines.map((l) => JSON.parse(l) as JsonObject));
      }
      expect(read).toEqual(await wh.query(sql, { last: 250 }));
      expect(read[0]).toEqual({ ID: 1, STATUS: "closed", NOTE: "a,b", CREATED: "2024-01-02" });
      expect(read.map((r) => r.ID)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    });

    it("writes CSV parts with the header atop each, values quoted as CSV needs, and one file without maxFileBytes", async () => {
      await orders(60);
      const sql = "SELECT ID, NOTE, OBJECT_CONSTRUCT('id', ID) AS DOC FROM orders ORDER BY ID";
      const parts = await wh.exportQuery(sql, "csv", "csv", { maxFileBytes: 600 });
      expect(parts.length).toBeGreaterThan(1);
      const records: string[][] = [];
      for (const part of parts) {
        const [header, ...rows] = parseCsv(await readFile(part.path, "utf8"));
        expect(header).toEqual(["ID", "NOTE", "DOC"]);
        expect(rows).toHaveLength(part.rows);
        records.push(...rows);
      }
      expect(records.slice(0, 6)).toEqual([
        ["1", "a,b", '{"id":1}'],
        ["2", 'say "hi"', '{"id":2}'],
        ["3", "two\nlines", '{"id":3}'],
        ["4", "", '{"id":4}'],
        ["5", "", '{"id":5}'],
        ["6", "plain", '{"id":6}'],
      ]);
      const raw = await readFile(parts[0]!.path, "utf8");
      // An empty string is "" and NULL an empty field, as DuckDB's CSV writer spells them.
      expect(raw.split("\n").slice(0, 7).join("\n")).toContain('4,"","{""id"":4}"\n5,,"{""id"":5}"');

      const whole = await wh.exportQuery(sql, "csv", "csv");
      expect(whole).toEqual([{ path: path.join(dir.dir, "csv", "part-00000.csv"), rows: 60 }]);
      // The earlier export's extra parts are gone: the folder holds exactly this export.
      expect(await readdir(path.join(dir.dir, "csv"))).toEqual(["part-00000.csv"]);
    });

    it("writes no file for a result without rows and leaves no work folder behind", async () => {
      await orders(3);
      const out = path.join(dir.dir, "empty");
      await mkdir(out);
      await writeFile(path.join(out, "part-00000.ndjson"), "stale\n");
      await writeFile(path.join(out, "keep.txt"), "not ours\n");
      expect(await wh.exportQuery("SELECT * FROM orders WHERE ID > $n", "empty", "ndjson", { params: { n: 10 } })).toEqual([]);
      expect(await readdir(out)).toEqual(["keep.txt"]);
    });

    it("refuses parquet and statements that are not queries before connecting", async () => {
      await orders(2);
      const logins = service.logins.length;
      const parquet = await rejection(wh.exportQuery("SELECT * FROM orders", "out", "parquet"));
      expect(parquet).toMatchObject({ code: "XO_SNOWFLAKE_EXPORT_FORMAT_UNSUPPORTED" });
      expect(parquet.hint).toContain("COPY INTO @stage");
      expect(await rejection(wh.exportQuery("DELETE FROM orders", "out", "csv"))).toMatchObject({ code: "XO_SNOWFLAKE_SQL_INVALID" });
      expect(await rejection(wh.exportQuery("SELECT 1", "out", "csv", { maxFileBytes: 0 }))).toMatchObject({ code: "XO_SNOWFLAKE_INVALID_OPTIONS" });
      expect(service.logins.length).toBe(logins);
      expect(await wh.query("SELECT COUNT(*) AS N FROM orders")).toEqual([{ N: 2 }]);
      expect(existsSync(path.join(dir.dir, "out"))).toBe(false);
    });

    it("cancelling the task in the middle of the stream stops the download and leaves no file", async () => {
      await orders(300);
      const controller = new AbortController();
      const cancelled = warehouseOn(service.port, { database: "RAW", schema }, controller.signal);
      const reason = new Error("task cancelled");
      const started = service.chunkDownloads;
      onChunk = (count) => {
        if (count === started + 2) controller.abort(reason);
      };
      try {
        expect(await rejection(cancelled.exportQuery("SELECT * FROM orders ORDER BY ID", "stopped", "ndjson", { maxFileBytes: 500 }))).toBe(reason);
      } finally {
        onChunk = () => undefined;
      }
      // 300 rows are 40 inline and 7 chunks; the stream stopped before it had fetched them all.
      expect(service.chunkDownloads - started).toBeLessThan(7);
      expect(await readdir(path.join(dir.dir, "stopped"))).toEqual([]);
      expect(service.logouts).toBe(service.logins.length);
      // An already cancelled task does not connect at all.
      const logins = service.logins.length;
      expect(await rejection(cancelled.query("SELECT 1"))).toBe(reason);
      expect(service.logins.length).toBe(logins);
    });

    it("a failed query or an unwritable folder fails with a code and leaves no file", async () => {
      expect(await rejection(wh.exportQuery("SELECT * FROM nowhere", "failed", "ndjson"))).toMatchObject({ code: "XO_SNOWFLAKE_STATEMENT_FAILED" });
      expect(existsSync(path.join(dir.dir, "failed"))).toBe(false);
      await orders(1);
      await writeFile(path.join(dir.dir, "a-file"), "x");
      const error = await rejection(wh.exportQuery("SELECT * FROM orders", "a-file/out", "ndjson"));
      expect(error).toMatchObject({ code: "XO_SNOWFLAKE_EXPORT_FAILED" });
      expect(error.message).toContain(path.join(dir.dir, "a-file", "out"));
    });
  });

  describe("describe", () => {
    it("lists a table's columns and rows, by bare, schema-qualified or quoted name", async () => {
      await orders(7);
      const described = await wh.describe("orders");
      expect(described).toEqual({
        table: `RAW.${schema}.ORDERS`,
        columns: [
          { name: "ID", type: "NUMBER(38,0)" },
          { name: "STATUS", type: expect.stringMatching(/^VARCHAR/) as string },
          { name: "NOTE", type: expect.stringMatching(/^VARCHAR/) as string },
          { name: "CREATED", type: "DATE" },
        ],
        rows: 7,
      });
      expect(await wh.describe(`${schema.toLowerCase()}.orders`)).toEqual(described);
      expect(await wh.describe(`raw."${schema}"."ORDERS"`)).toEqual(described);
    });

    it("is undefined for a table that does not exist, and refuses what is not a table name", async () => {
      expect(await wh.describe("no_such_table")).toBeUndefined();
      expect(await wh.describe('"orders"')).toBeUndefined(); // quoted: exactly `orders`, which no load creates
      const error = await rejection(wh.describe("a.b.c.d"));
      expect(error).toMatchObject({ code: "XO_SNOWFLAKE_TABLE_NAME_INVALID" });
      expect(await rejection(wh.describe('"open'))).toMatchObject({ code: "XO_SNOWFLAKE_TABLE_NAME_INVALID" });
    });
  });
});

describe("value encoding (Snowflake's JSON result format, scripted)", () => {
  let server: FakeSnowflake;
  beforeEach(async () => {
    server = await startFakeSnowflake();
  });
  afterEach(async () => {
    await server.close();
  });

  it("decodes what fakesnow cannot produce: offsets, LTZ, dates before 1970, wide numbers, special floats, non-JSON variants", async () => {
    server.reply(/FROM wire/, {
      columns: ["TZ", "TZ_NEG", "LTZ", "NTZ_OLD", "DAY_OLD", "HUGE", "EXACT", "SHORT", "INF", "NAN", "ODD", "TEXT_VARIANT", "OBJ", "DUP", "DUP", "CLOCK"],
      types: [
        { type: "timestamp_tz", scale: 9 },
        { type: "timestamp_tz", scale: 3 },
        { type: "timestamp_ltz", scale: 9 },
        { type: "timestamp_ntz", scale: 9 },
        { type: "date" },
        { type: "fixed", precision: 38, scale: 0 },
        { type: "fixed", precision: 38, scale: 10 },
        { type: "fixed", precision: 10, scale: 2 },
        { type: "real" },
        { type: "real" },
        { type: "variant" },
        { type: "variant" },
        { type: "object" },
        { type: "text" },
        { type: "text" },
        { type: "time", scale: 9 },
      ],
      rows: [
        [
          "1704157445.500000000 1560", // 01:04:05.5 UTC at +02:00
          "1704157445.250 1110", // at -05:30
          "1704157445.000000001",
          "-86399.999999000",
          "-1",
          "123456789012345678901234567890",
          "12345678.1234567890",
          "12.30",
          "inf",
          "NaN",
          "{a: 1}",
          '"just text"',
          '{\n  "nested": {"n": 1.25}\n}',
          "first",
          "second",
          "45296.789000000",
        ],
      ],
    });
    const wh = warehouseOn(server.port, { database: "RAW" });
    expect(await wh.query("SELECT * FROM wire")).toEqual([
      {
        TZ: "2024-01-02T03:04:05.5+02:00",
        TZ_NEG: "2024-01-01T19:34:05.25-05:30",
        LTZ: "2024-01-02T01:04:05.000000001Z",
        NTZ_OLD: "1969-12-31T00:00:00.000001",
        DAY_OLD: "1969-12-31",
        HUGE: "123456789012345678901234567890",
        EXACT: "12345678.1234567890",
        SHORT: 12.3,
        INF: "inf",
        NAN: "NaN",
        ODD: "{a: 1}",
        TEXT_VARIANT: "just text",
        OBJ: { nested: { n: 1.25 } },
        DUP: "first",
        DUP_2: "second",
        CLOCK: "12:34:56.789",
      },
    ]);
    // The session asked for every fraction digit of TIME values, and tagged its queries.
    expect(server.queries[0]!.sql).toBe(`ALTER SESSION SET TIME_OUTPUT_FORMAT = 'HH24:MI:SS.FF9', QUERY_TAG = '{"sink":"main","service":"warehouse"}'`);
    expect(server.logouts).toBe(1);
  });
});
