/**
 * Statement generation, asserted exactly. Pure functions: nothing here talks to a
 * warehouse (fakesnow.test.ts and sdk.test.ts execute these same plans).
 */
import { describe, expect, it } from "vitest";
import { SnowflakeSinkError } from "./errors.js";
import { resolveTarget } from "./options.js";
import { planApply, planLoad, planStaging, runSuffix, type Statement } from "./plan.js";
import { quoteIdent, quoteLiteral } from "./sql.js";
import { planInputFor, STAGED_COLUMNS } from "./__fixtures__/inputs.js";

const RUN = "scheduled__2024-01-02T00:00:00+00:00";
const H = runSuffix(RUN);
const T = `"ANALYTICS"."RAW"."ORDERS"`;
const S = `"ANALYTICS"."RAW"."ORDERS__XO_STAGE_${H}"`;
const STAGE = `"ANALYTICS"."RAW"."ORDERS__XO_FILES_${H}"`;
const FF = `"ANALYTICS"."RAW"."XO_FOUNDRY_JSON"`;
const COLS = `"ID", "STATUS", "CREATED_AT", "_XO_SOURCE_FILE", "_XO_SOURCE_ROW", "_XO_LOGICAL_DATE", "_XO_RUN_ID", "_XO_LOADED_AT"`;
const META = [`"_XO_SOURCE_FILE" VARCHAR`, `"_XO_SOURCE_ROW" NUMBER(38,0)`, `"_XO_LOGICAL_DATE" DATE`, `"_XO_RUN_ID" VARCHAR`, `"_XO_LOADED_AT" TIMESTAMP_TZ`];
const addMeta = (table: string) => META.map((c) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${c}`);

const sql = (statements: readonly Statement[]) => statements.map((s) => s.sql);
/** The statements after the `columns` question: what differs between modes. */
const applied = (statements: readonly Statement[]) => statements.slice(statements.findIndex((s) => s.step === "columns") + 1);

const staging = (kind: "TABLE" | "TRANSIENT TABLE") => [
  `ALTER SESSION SET QUERY_TAG = '{"pipeline":"shop","task":"load_orders","run_id":"${RUN}","stream":"orders"}'`,
  `CREATE FILE FORMAT IF NOT EXISTS ${FF} TYPE = JSON STRIP_OUTER_ARRAY = TRUE`,
  `CREATE OR REPLACE TEMPORARY STAGE ${STAGE}`,
  `PUT 'file:///landing/stage/shop/orders/incremental/2024-01-02/part-0.ndjson' @${STAGE} AUTO_COMPRESS = FALSE OVERWRITE = TRUE`,
  `PUT 'file:///landing/stage/shop/orders/incremental/2024-01-02/part-1.ndjson' @${STAGE} AUTO_COMPRESS = FALSE OVERWRITE = TRUE`,
  `CREATE OR REPLACE ${kind} ${S} USING TEMPLATE (SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) WITHIN GROUP (ORDER BY ORDER_ID) FROM TABLE(INFER_SCHEMA(LOCATION => '@${STAGE}', FILES => ('part-0.ndjson', 'part-1.ndjson'), FILE_FORMAT => '${FF}', IGNORE_CASE => TRUE)))`,
  ...addMeta(S),
  `COPY INTO ${S} FROM @${STAGE} FILES = ('part-0.ndjson', 'part-1.ndjson') FILE_FORMAT = (FORMAT_NAME = '${FF}') MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE INCLUDE_METADATA = ("_XO_SOURCE_FILE" = METADATA$FILENAME, "_XO_SOURCE_ROW" = METADATA$FILE_ROW_NUMBER) ON_ERROR = ABORT_STATEMENT`,
  `UPDATE ${S} SET "_XO_LOGICAL_DATE" = CAST(? AS DATE), "_XO_RUN_ID" = ?, "_XO_LOADED_AT" = CURRENT_TIMESTAMP()`,
  `SELECT COLUMN_NAME FROM "ANALYTICS".INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
];
const cleanup = [`DROP TABLE IF EXISTS ${S}`, `DROP STAGE IF EXISTS ${STAGE}`];

describe("statement sequence per mode", () => {
  it("append: stage, then delete the logical date and insert, in one transaction", () => {
    const plan = planLoad(planInputFor({ target: { mode: "append" } }), STAGED_COLUMNS);
    expect(sql(plan)).toEqual([
      ...staging("TRANSIENT TABLE"),
      `CREATE TABLE IF NOT EXISTS ${T} LIKE ${S}`,
      ...addMeta(T),
      "BEGIN",
      `DELETE FROM ${T} WHERE "_XO_LOGICAL_DATE" = CAST(? AS DATE)`,
      `INSERT INTO ${T} (${COLS}) SELECT ${COLS} FROM ${S}`,
      "COMMIT",
      ...cleanup,
    ]);
    expect(plan.filter((s) => s.binds.length > 0).map((s) => [s.step, s.binds])).toEqual([
      ["stamp", ["2024-01-02", RUN]],
      ["columns", ["RAW", `ORDERS__XO_STAGE_${H}`]],
      ["delete", ["2024-01-02"]],
    ]);
  });

  it("replace: a permanent staging table swapped in atomically", () => {
    const plan = planLoad(planInputFor({ target: { mode: "replace" } }), STAGED_COLUMNS);
    expect(sql(plan)).toEqual([...staging("TABLE"), `CREATE TABLE IF NOT EXISTS ${T} LIKE ${S}`, `ALTER TABLE ${T} SWAP WITH ${S}`, ...cleanup]);
  });

  it("replace with create: false stages into a copy of the user's table", () => {
    const plan = planStaging(planInputFor({ target: { mode: "replace", create: false } }));
    expect(plan.find((s) => s.step === "create_staging")?.sql).toBe(`CREATE OR REPLACE TABLE ${S} LIKE ${T}`);
    expect(sql(applied(planLoad(planInputFor({ target: { mode: "replace", create: false } }), STAGED_COLUMNS)))).toEqual([
      `ALTER TABLE ${T} SWAP WITH ${S}`,
      ...cleanup,
    ]);
  });

  it("merge: the last row per key wins, then one MERGE", () => {
    const plan = planLoad(planInputFor({ target: { mode: "merge", keys: ["id"] } }), STAGED_COLUMNS);
    expect(sql(plan).slice(0, staging("TRANSIENT TABLE").length)).toEqual(staging("TRANSIENT TABLE"));
    const set = ["STATUS", "CREATED_AT", "_XO_SOURCE_FILE", "_XO_SOURCE_ROW", "_XO_LOGICAL_DATE", "_XO_RUN_ID", "_XO_LOADED_AT"].map((c) => `"${c}" = s."${c}"`);
    const values = COLS.split(", ").map((c) => `s.${c}`).join(", ");
    expect(sql(applied(plan))).toEqual([
      `CREATE TABLE IF NOT EXISTS ${T} LIKE ${S}`,
      ...addMeta(T),
      `MERGE INTO ${T} AS t USING (SELECT ${COLS} FROM ${S} QUALIFY ROW_NUMBER() OVER (PARTITION BY "ID" ORDER BY "_XO_SOURCE_FILE" DESC, "_XO_SOURCE_ROW" DESC) = 1) AS s ` +
        `ON t."ID" IS NOT DISTINCT FROM s."ID" WHEN MATCHED THEN UPDATE SET ${set.join(", ")} WHEN NOT MATCHED THEN INSERT (${COLS}) VALUES (${values})`,
      ...cleanup,
    ]);
  });

  it("merge on a composite key", () => {
    const merge = planApply(planInputFor({ target: { mode: "merge", keys: ["id", "status"] } }), STAGED_COLUMNS).find((s) => s.step === "merge")!;
    expect(merge.sql).toContain(`PARTITION BY "ID", "STATUS" ORDER BY`);
    expect(merge.sql).toContain(`ON t."ID" IS NOT DISTINCT FROM s."ID" AND t."STATUS" IS NOT DISTINCT FROM s."STATUS" WHEN MATCHED THEN UPDATE SET "CREATED_AT" = s."CREATED_AT",`);
  });

  it("replace_range: delete the window's dates and insert the window's rows, in one transaction", () => {
    const plan = planLoad(
      planInputFor({ target: { mode: "replace_range", dateColumn: "created_at" }, window: { start: "2023-12-27", end: "2024-01-03" } }),
      STAGED_COLUMNS,
    );
    const inWindow = `"CREATED_AT" >= CAST(? AS DATE) AND "CREATED_AT" < CAST(? AS DATE)`;
    expect(applied(plan).map((s) => [s.sql, s.binds])).toEqual([
      [`CREATE TABLE IF NOT EXISTS ${T} LIKE ${S}`, []],
      ...addMeta(T).map((s) => [s, []]),
      ["BEGIN", []],
      [`DELETE FROM ${T} WHERE ${inWindow}`, ["2023-12-27", "2024-01-03"]],
      [`INSERT INTO ${T} (${COLS}) SELECT ${COLS} FROM ${S} WHERE ${inWindow}`, ["2023-12-27", "2024-01-03"]],
      ["COMMIT", []],
      ...cleanup.map((s) => [s, []]),
    ]);
  });

  it("external stage: no PUT and no stage to drop; FILES relative to the stage; named file format and ON_ERROR honoured", () => {
    const plan = planLoad(
      planInputFor({
        target: { mode: "append" },
        format: "csv",
        fileFormat: "my_csv",
        onError: "SKIP_FILE",
        stage: { type: "external", name: "landing.ext_stage", url_prefix: "s3://bucket/landing" },
        files: [{ stageName: "stage/shop/orders/incremental/2024-01-02/a.csv" }],
      }),
      STAGED_COLUMNS,
    );
    expect(plan.map((s) => s.step)).not.toContain("put");
    expect(plan.map((s) => s.step)).not.toContain("create_stage");
    expect(plan.map((s) => s.step)).not.toContain("drop_stage");
    const ext = `"ANALYTICS"."LANDING"."EXT_STAGE"`;
    expect(plan.find((s) => s.step === "file_format")?.sql).toBe(
      `CREATE FILE FORMAT IF NOT EXISTS "ANALYTICS"."RAW"."MY_CSV" TYPE = CSV PARSE_HEADER = TRUE FIELD_OPTIONALLY_ENCLOSED_BY = '"' ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE`,
    );
    expect(plan.find((s) => s.step === "copy")?.sql).toBe(
      `COPY INTO ${S} FROM @${ext} FILES = ('stage/shop/orders/incremental/2024-01-02/a.csv') FILE_FORMAT = (FORMAT_NAME = '"ANALYTICS"."RAW"."MY_CSV"') ` +
        `MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE INCLUDE_METADATA = ("_XO_SOURCE_FILE" = METADATA$FILENAME, "_XO_SOURCE_ROW" = METADATA$FILE_ROW_NUMBER) ON_ERROR = SKIP_FILE`,
    );
    expect(plan.find((s) => s.step === "create_staging")?.sql).toContain(`LOCATION => '@${ext}'`);
  });

  it("splits COPY into FILES lists of at most 1000", () => {
    const files = Array.from({ length: 2001 }, (_, i) => ({ stageName: `f${i}.ndjson`, localPath: `/l/f${i}.ndjson` }));
    const copies = planStaging(planInputFor({ files })).filter((s) => s.step === "copy");
    expect(copies).toHaveLength(3);
    expect(copies[2]!.sql).toContain(`FILES = ('f2000.ndjson')`);
  });

  it("Parquet uses the PARQUET file format", () => {
    expect(planStaging(planInputFor({ format: "parquet" }))[1]!.sql).toBe(`CREATE FILE FORMAT IF NOT EXISTS "ANALYTICS"."RAW"."XO_FOUNDRY_PARQUET" TYPE = PARQUET`);
  });
});

describe("quoting", () => {
  it("upper-cases names and doubles embedded double quotes", () => {
    expect(quoteIdent("orders")).toBe(`"ORDERS"`);
    expect(quoteIdent(`we"ird"; DROP TABLE x; --`)).toBe(`"WE""IRD""; DROP TABLE X; --"`);
    expect(() => quoteIdent("a\u0000b")).toThrow(/NUL/);
  });

  it("keeps hostile table, key and date column names inside one identifier each", () => {
    const plan = planLoad(
      planInputFor({ database: `d"b`, schema: "s.x", target: { table: `o"; drop table t; --`, mode: "merge", keys: [`k"ey`] } }),
      [`K"EY`, "_XO_SOURCE_FILE", "_XO_SOURCE_ROW"],
    );
    const merge = plan.find((s) => s.step === "merge")!.sql;
    expect(merge).toContain(`MERGE INTO "D""B"."S.X"."O""; DROP TABLE T; --" AS t`);
    expect(merge).toContain(`PARTITION BY "K""EY"`);
    expect(plan.find((s) => s.step === "columns")!.binds).toEqual(["S.X", `O"; DROP TABLE T; --__XO_STAGE_${H}`]);
  });

  it("escapes quotes and backslashes in FILES lists, PUT paths and the query tag", () => {
    expect(quoteLiteral(`it's a\\b`)).toBe(`'it''s a\\\\b'`);
    const plan = planStaging(
      planInputFor({
        files: [{ stageName: `o'brien\\x.ndjson`, localPath: `/tmp/it's/o'brien\\x.ndjson` }],
        queryTag: { pipeline: "shop", note: `it's "quoted" \\ here` },
      }),
    );
    expect(plan.find((s) => s.step === "put")!.sql).toBe(`PUT 'file:///tmp/it''s/o''brien\\\\x.ndjson' @${STAGE} AUTO_COMPRESS = FALSE OVERWRITE = TRUE`);
    expect(plan.find((s) => s.step === "copy")!.sql).toContain(`FILES = ('o''brien\\\\x.ndjson')`);
    // The tag is JSON inside a SQL literal: JSON escapes first, then SQL's.
    expect(plan[0]!.sql).toBe(`ALTER SESSION SET QUERY_TAG = '{"pipeline":"shop","note":"it''s \\\\"quoted\\\\" \\\\\\\\ here"}'`);
  });
});

describe("target resolution", () => {
  it("defaults the mode from the strategy", () => {
    expect(resolveTarget({}, "orders", "full_refresh").mode).toBe("replace");
    expect(resolveTarget({}, "orders", "incremental").mode).toBe("append");
    expect(resolveTarget({ keys: ["id"] }, "orders", "incremental").mode).toBe("merge");
    expect(resolveTarget({ date_column: "d" }, "orders", "historical").mode).toBe("replace_range");
    expect(resolveTarget({ table: "fct" }, "orders", "full_refresh").table).toBe("fct");
  });

  it("merge without keys is a clear error", () => {
    const error = catchError(() => resolveTarget({ mode: "merge" }, "orders", "incremental"));
    expect(error).toMatchObject({ code: "XO_SNOWFLAKE_MERGE_KEYS_MISSING" });
    expect(error.message).toContain(`target of stream "orders": mode merge needs \`keys\``);
  });

  it("historical replaces the window with date_column, else merges with keys, else replaces its logical date", () => {
    expect(resolveTarget({}, "orders", "historical").mode).toBe("append");
    expect(resolveTarget({ keys: ["id"] }, "orders", "historical").mode).toBe("merge");
    expect(resolveTarget({ keys: ["id"], date_column: "d" }, "orders", "historical").mode).toBe("replace_range");
  });

  it("replace_range without date_column is a clear error", () => {
    const error = catchError(() => resolveTarget({ mode: "replace_range" }, "orders", "historical"));
    expect(error).toMatchObject({ code: "XO_SNOWFLAKE_DATE_COLUMN_MISSING" });
    expect(error.message).toContain("mode replace_range needs `date_column`");
  });

  it("keys and date_column must be columns of the files", () => {
    const noKey = catchError(() => planApply(planInputFor({ target: { mode: "merge", keys: ["sku"] } }), STAGED_COLUMNS));
    expect(noKey.message).toContain(`keys "sku" is not a column of the loaded files (columns: ID, STATUS, CREATED_AT)`);
    const noDate = catchError(() => planApply(planInputFor({ target: { mode: "replace_range", dateColumn: "day" } }), STAGED_COLUMNS));
    expect(noDate.message).toContain(`date_column "day" is not a column`);
  });

  it("rejects unknown target keys", () => {
    expect(catchError(() => resolveTarget({ tabel: "x" }, "orders", "incremental")).code).toBe("XO_SNOWFLAKE_INVALID_OPTIONS");
  });

  it("uses one staging name per run and a different one for another run", () => {
    expect(runSuffix(RUN)).toMatch(/^[0-9A-F]{12}$/);
    expect(runSuffix(RUN)).toBe(runSuffix(RUN));
    expect(runSuffix("manual__x")).not.toBe(runSuffix(RUN));
  });
});

function catchError(fn: () => unknown): SnowflakeSinkError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SnowflakeSinkError);
    return error as SnowflakeSinkError;
  }
  throw new Error("expected an error");
}
