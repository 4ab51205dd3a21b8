/**
 * Every statement the sink can issue, parsed by an independent Snowflake grammar.
 *
 * Real: sqlglot's Snowflake dialect (pinned in tools/services/requirements.in, run from the
 * services venv), which knows PUT, COPY INTO with FILES and INCLUDE_METADATA, CREATE FILE FORMAT,
 * CREATE STAGE, INFER_SCHEMA templates, ALTER TABLE ... SWAP WITH, MERGE and QUALIFY.
 * Nothing emulated: no statement runs; fakesnow.test.ts and sdk.test.ts execute these plans.
 * What it proves: the text is Snowflake syntax and reads as the statement its step means.
 * What it cannot prove: option values (`TYPE = JSONN` parses), names that exist, types that fit;
 * plan.test.ts pins the exact text, and the values come from closed enums in options.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { planCleanup, planLoad, ROLLBACK, type Statement, type Step } from "./plan.js";
import { planInputFor, STAGED_COLUMNS } from "./__fixtures__/inputs.js";
import { parseSnowflake, type ParseResult } from "./__fixtures__/sqlglot.js";
import { sinkOptions } from "./options.js";
import { sessionSettings } from "./warehouse.js";

/** What each step must parse as. A Record over Step: a new step without an entry does not compile. */
const KIND: Readonly<Record<Step, string>> = {
  query_tag: "Alter SESSION AlterSession",
  file_format: "Create FILE FORMAT",
  create_stage: "Create STAGE",
  put: "Put",
  create_staging: "Create TABLE",
  staging_metadata: "Alter TABLE ColumnDef",
  copy: "Copy",
  stamp: "Update",
  columns: "Select",
  create_target: "Create TABLE",
  target_metadata: "Alter TABLE ColumnDef",
  swap: "Alter TABLE SwapTable",
  begin: "Transaction",
  delete: "Delete",
  insert: "Insert",
  merge: "Merge",
  commit: "Commit",
  rollback: "Rollback",
  drop_staging: "Drop TABLE",
  drop_stage: "Drop STAGE",
};

const HOSTILE = `o"; drop table t; -- \\ 'x' ü`;
const external = (name: string) => ({ type: "external" as const, name, url_prefix: "s3://xo-landing/gladly" });

/** Every load mode and every option that changes the SQL, each planned as the loader would run it. */
const CASES: Record<string, readonly Statement[]> = {
  "append (incremental without keys), internal stage, NDJSON": planLoad(planInputFor({ target: { mode: "append" } }), STAGED_COLUMNS),
  "replace (full_refresh): permanent staging table and SWAP": planLoad(planInputFor({ target: { mode: "replace" } }), STAGED_COLUMNS),
  "replace into the user's table (create: false)": planLoad(planInputFor({ target: { mode: "replace", create: false } }), STAGED_COLUMNS),
  "append into the user's table (create: false)": planLoad(planInputFor({ target: { mode: "append", create: false } }), STAGED_COLUMNS),
  "merge on one key": planLoad(planInputFor({ target: { mode: "merge", keys: ["id"] } }), STAGED_COLUMNS),
  "merge on a composite key": planLoad(planInputFor({ target: { mode: "merge", keys: ["id", "status"] } }), STAGED_COLUMNS),
  "merge where every column is a key (no WHEN MATCHED)": planLoad(planInputFor({ target: { mode: "merge", keys: ["id"] } }), ["ID"]),
  "replace_range (historical) on a date column": planLoad(
    planInputFor({ target: { mode: "replace_range", dateColumn: "created_at" }, window: { start: "2023-12-27", end: "2024-01-03" } }),
    STAGED_COLUMNS,
  ),
  "CSV from an external stage (the reference pipeline), named file format, ON_ERROR = SKIP_FILE": planLoad(
    planInputFor({
      target: { mode: "append" },
      format: "csv",
      fileFormat: "my_csv",
      onError: "SKIP_FILE",
      stage: external("RAW.GLADLY.XO_LANDING"),
      files: [{ stageName: "stage/warbyparker_timestamps_daily/contact_timestamps/incremental/date=2026-01-15/ContactTimestampsReport_20260115_20260115.csv" }],
    }),
    STAGED_COLUMNS,
  ),
  "Parquet, ON_ERROR = CONTINUE, one-part external stage name": planLoad(
    planInputFor({ target: { mode: "merge", keys: ["id"] }, format: "parquet", onError: "CONTINUE", stage: external("XO_LANDING"), files: [{ stageName: "a.parquet" }] }),
    STAGED_COLUMNS,
  ),
  "hostile names, file names and query tag": planLoad(
    planInputFor({
      database: `d"b`,
      schema: "s.x",
      target: { table: HOSTILE, mode: "merge", keys: [`k"ey`] },
      files: [{ stageName: `o'brien\\x.ndjson`, localPath: `/tmp/it's/o'brien\\x.ndjson` }],
      queryTag: { pipeline: "shop", note: `it's "quoted" \\ here; DROP TABLE x; --` },
    }),
    [`K"EY`, "STATUS", "_XO_SOURCE_FILE", "_XO_SOURCE_ROW", "_XO_LOGICAL_DATE", "_XO_RUN_ID", "_XO_LOADED_AT"],
  ),
  "more than 1000 files: COPY in chunks": planLoad(
    planInputFor({ target: { mode: "append" }, files: Array.from({ length: 1001 }, (_, i) => ({ stageName: `f${i}.ndjson`, localPath: `/l/f${i}.ndjson` })) }),
    STAGED_COLUMNS,
  ),
  "cleanup after a failure, and the rollback of an open transaction": [ROLLBACK, ...planCleanup(planInputFor())],
};

const labelled = Object.entries(CASES).flatMap(([name, statements]) => statements.map((s, i) => ({ id: `${name} #${i} ${s.step}`, statement: s })));

let version: string;
let results: Map<string, ParseResult>;
beforeAll(() => {
  const parsed = parseSnowflake(labelled.map((l) => ({ id: l.id, sql: l.statement.sql })));
  version = parsed.version;
  results = new Map(parsed.results.map((r) => [r.id, r]));
});

describe(`the sink's SQL under sqlglot's Snowflake dialect`, () => {
  it("uses the pinned sqlglot", () => {
    expect(version).toBe("30.22.0");
  });

  it("covers every step the planner can produce", () => {
    const seen = new Set(labelled.map((l) => l.statement.step));
    expect([...seen].sort()).toEqual(Object.keys(KIND).sort());
  });

  for (const [name, statements] of Object.entries(CASES)) {
    it(`${name}: every statement parses, as what its step means`, () => {
      const problems = statements.flatMap((s, i) => {
        const r = results.get(`${name} #${i} ${s.step}`)!;
        if (!r.ok) return [`${s.step}: ${r.error}\n  ${s.sql.slice(0, 300)}`];
        if (r.kind !== KIND[s.step]) return [`${s.step}: parsed as ${r.kind}, expected ${KIND[s.step]}\n  ${s.sql.slice(0, 300)}`];
        return [];
      });
      expect(problems).toEqual([]);
    });
  }
});

describe("the grammar check itself", () => {
  const merge = CASES["merge on one key"]!.find((s) => s.step === "merge")!.sql;
  const copy = CASES["append (incremental without keys), internal stage, NDJSON"]!.find((s) => s.step === "copy")!.sql;
  const swap = CASES["replace (full_refresh): permanent staging table and SWAP"]!.find((s) => s.step === "swap")!.sql;
  const addColumn = CASES["append (incremental without keys), internal stage, NDJSON"]!.find((s) => s.step === "target_metadata")!.sql;

  const del = CASES["replace_range (historical) on a date column"]!.find((s) => s.step === "delete")!.sql;
  const insert = CASES["append (incremental without keys), internal stage, NDJSON"]!.find((s) => s.step === "insert")!.sql;
  const template = CASES["append (incremental without keys), internal stage, NDJSON"]!.find((s) => s.step === "create_staging")!.sql;

  // Each is a real statement of the planner, broken the way a refactoring could break it. sqlglot is
  // lenient in places (it accepts a MERGE without ON, and a FILE_FORMAT = ( ... list left open), so
  // those shapes are pinned by plan.test.ts's exact text instead.
  const BROKEN: Record<string, string> = {
    "MERGE whose USING subquery lost its closing parenthesis": merge.replace(") AS s ON", " AS s ON"),
    "MERGE whose INSERT VALUES list is not closed": merge.replace(/\)$/, ""),
    "QUALIFY whose window is not closed": merge.replace(' DESC) = 1', " DESC = 1"),
    "COPY whose FILES list is not closed": copy.replace(".ndjson') FILE_FORMAT", ".ndjson' FILE_FORMAT"),
    "SWAP misspelt": swap.replace("SWAP WITH", "SWAPP WITH"),
    "ADD COLUMN without a type": addColumn.replace(/" [A-Z_]+(\(\d+,\d+\))?$/, '"'),
    "DELETE of a window with a dangling AND": del.replace(/ AND "CREATED_AT" < CAST\(\? AS DATE\)$/, " AND"),
    "INSERT ... SELECT without its table": insert.replace(/ FROM .*$/, " FROM"),
    "CREATE ... USING TEMPLATE not closed": template.replace(/\)$/, ""),
    "two statements in one": `${swap}; DROP TABLE "ANALYTICS"."RAW"."ORDERS"`,
    "an unterminated string literal": `ALTER SESSION SET QUERY_TAG = '{"pipeline":"shop}`,
  };

  it("fails every deliberately broken statement", () => {
    const { results: broken } = parseSnowflake(Object.entries(BROKEN).map(([id, sql]) => ({ id, sql })));
    const passed = broken.filter((r) => r.ok).map((r) => r.id);
    expect(passed).toEqual([]);
    expect(broken.find((r) => r.id === "SWAP misspelt")).toMatchObject({ ok: false });
    expect(broken.find((r) => r.id === "MERGE whose USING subquery lost its closing parenthesis")!.error).toMatch(/ParseError/);
  });

  it("fails a statement that parses but is not what its step means", () => {
    // Swapped by mistake: the INSERT of the append mode planned where the MERGE should be.
    const { results: [r] } = parseSnowflake([{ id: "merge", sql: `INSERT INTO "A" ("ID") SELECT "ID" FROM "B"` }]);
    expect(r!.ok).toBe(true);
    expect(r!.kind).not.toBe(KIND.merge);
  });
});

describe("the warehouse service's own statements", () => {
  it("its session settings are one ALTER SESSION, even with a hostile query tag", () => {
    const sql = sessionSettings(sinkOptions.parse({ query_tag: { team: HOSTILE } }), HOSTILE);
    const { results: [r] } = parseSnowflake([{ id: "session", sql }]);
    expect(r).toMatchObject({ ok: true, kind: KIND.query_tag });
  });
});
