/**
 * The generated SQL executed for real on fakesnow.
 *
 * Real: fakesnow's Snowflake SQL engine (sqlglot translating each statement, DuckDB running it),
 * reached through snowflake-connector-python with qmark binds, the same bind values the plan carries.
 * Emulated (fakesnow has no stages, files or INFER_SCHEMA; see __fixtures__/fakesnow_run.py):
 *   - create_staging ... USING TEMPLATE (INFER_SCHEMA): replaced by a CREATE TABLE with the columns
 *     INFER_SCHEMA would infer (the LIKE variant, create: false, runs for real);
 *   - copy (COPY INTO ... FROM @stage): replaced by INSERTs of the files' rows, with the two
 *     INCLUDE_METADATA columns filled as COPY fills them;
 *   - swap (ALTER TABLE ... SWAP WITH, which fakesnow cannot parse): three renames.
 * Not run here (no effect on table contents; covered by plan.test.ts and sdk.test.ts):
 *   query_tag (fakesnow: "not implemented"), file_format, create_stage, put, drop_stage.
 * Everything else runs as generated: ADD COLUMN IF NOT EXISTS, the UPDATE stamping run metadata,
 * the INFORMATION_SCHEMA columns query, CREATE TABLE ... LIKE, BEGIN/DELETE/INSERT/COMMIT,
 * MERGE with QUALIFY ROW_NUMBER() and IS NOT DISTINCT FROM, DROP TABLE.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResolvedTarget } from "./options.js";
import { names, planLoad, type PlanInput, type Step } from "./plan.js";
import { planInputFor, STAGED_COLUMNS } from "./__fixtures__/inputs.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, "../../..");
const PYTHON = path.join(REPO, ".venv/services/bin/python");
const HARNESS = path.join(here, "__fixtures__/fakesnow_run.py");

beforeAll(() => {
  if (!existsSync(PYTHON)) {
    throw new Error(`fakesnow tests need the services venv at ${PYTHON} (fakesnow 0.12.1 + snowflake-connector-python); create it with the repo's test setup`);
  }
});

type Row = Record<string, unknown>;
interface Load {
  readonly input: PlanInput;
  readonly files: { name: string; rows: Row[] }[];
}
interface Outcome {
  loads: { steps: { step: Step; how: "ran" | "emulated" | "skipped"; result?: string[]; error?: string }[] }[];
  target: Row[];
}

function load(target: Partial<ResolvedTarget>, rows: Row[], over: Partial<Omit<PlanInput, "target">> = {}): Load {
  const input = planInputFor({ target, files: [{ stageName: "part-0.ndjson", localPath: "/l/part-0.ndjson" }], ...over });
  return { input, files: [{ name: "part-0.ndjson", rows }] };
}

function replay(loads: Load[], setup: string[] = []): Outcome {
  const first = names(loads[0]!.input);
  const spec = {
    database: "ANALYTICS",
    schema: "RAW",
    target: first.target,
    setup,
    loads: loads.map(({ input, files }) => ({
      statements: planLoad(input, STAGED_COLUMNS),
      // The columns INFER_SCHEMA (IGNORE_CASE => TRUE) infers from these files' id, status, created_at.
      staging_ddl: `CREATE OR REPLACE TABLE ${names(input).staging} ("ID" NUMBER(38,0), "STATUS" VARCHAR, "CREATED_AT" DATE)`,
      files,
    })),
  };
  const run = spawnSync(PYTHON, [HARNESS], { input: JSON.stringify(spec), encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) throw new Error(`fakesnow harness failed (${run.status}):\n${run.stderr}`);
  const outcome = JSON.parse(run.stdout) as Outcome;
  for (const l of outcome.loads) {
    const failed = l.steps.find((s) => s.error);
    if (failed) throw new Error(`fakesnow rejected step ${failed.step}: ${failed.error}`);
  }
  return outcome;
}

const simple = (rows: Row[]) =>
  rows
    .map((r) => ({ id: Number(r.ID), status: r.STATUS, created_at: r.CREATED_AT, date: r._XO_LOGICAL_DATE }))
    .sort((a, b) => a.id - b.id || String(a.created_at).localeCompare(String(b.created_at)));

describe("on fakesnow", () => {
  it("replace swaps the new content in and drops the old", () => {
    const out = replay([
      load({ mode: "replace" }, [{ id: 1, status: "a", created_at: "2024-01-01" }, { id: 2, status: "a", created_at: "2024-01-01" }], { runId: "r1" }),
      load({ mode: "replace" }, [{ id: 9, status: "z", created_at: "2024-01-02" }], { runId: "r2", logicalDate: "2024-01-02" }),
    ]);
    expect(simple(out.target)).toEqual([{ id: 9, status: "z", created_at: "2024-01-02", date: "2024-01-02" }]);
    expect(out.target[0]).toMatchObject({ _XO_RUN_ID: "r2", _XO_SOURCE_FILE: "part-0.ndjson", _XO_SOURCE_ROW: 1 });
    expect(out.target[0]!._XO_LOADED_AT).toBeTruthy();
    // Exactly which statements were executed as generated, emulated, or not run.
    expect(out.loads[0]!.steps.map((s) => `${s.step}:${s.how}`)).toEqual([
      "query_tag:skipped",
      "file_format:skipped",
      "create_stage:skipped",
      "put:skipped",
      "create_staging:emulated",
      ...Array(5).fill("staging_metadata:ran"),
      "copy:emulated",
      "stamp:ran",
      "columns:ran",
      "create_target:ran",
      "swap:emulated",
      "drop_staging:ran",
      "drop_stage:skipped",
    ]);
    // The columns question returns the columns the apply statements were generated for.
    expect(out.loads[0]!.steps.find((s) => s.step === "columns")!.result).toEqual(STAGED_COLUMNS);
  });

  it("append: a re-run of the same date keeps the row count; another date adds", () => {
    const day1 = [{ id: 1, status: "a", created_at: "2024-01-01" }, { id: 2, status: "a", created_at: "2024-01-01" }];
    const out = replay([
      load({ mode: "append" }, day1, { runId: "d1", logicalDate: "2024-01-01" }),
      load({ mode: "append" }, day1, { runId: "d1", logicalDate: "2024-01-01" }),
      load({ mode: "append" }, [{ id: 3, status: "b", created_at: "2024-01-02" }], { runId: "d2", logicalDate: "2024-01-02" }),
    ]);
    expect(simple(out.target)).toEqual([
      { id: 1, status: "a", created_at: "2024-01-01", date: "2024-01-01" },
      { id: 2, status: "a", created_at: "2024-01-01", date: "2024-01-01" },
      { id: 3, status: "b", created_at: "2024-01-02", date: "2024-01-02" },
    ]);
    expect(out.loads[0]!.steps.filter((s) => s.how === "ran").map((s) => s.step)).toEqual([
      ...Array(5).fill("staging_metadata"),
      "stamp",
      "columns",
      "create_target",
      ...Array(5).fill("target_metadata"),
      "begin",
      "delete",
      "insert",
      "commit",
      "drop_staging",
    ]);
  });

  it("merge upserts by key with no duplicates; the last row of a key in a batch wins", () => {
    const out = replay([
      load({ mode: "merge", keys: ["id"] }, [{ id: 1, status: "a", created_at: "2024-01-01" }, { id: 2, status: "a", created_at: "2024-01-01" }], { runId: "m1" }),
      load(
        { mode: "merge", keys: ["id"] },
        [{ id: 2, status: "b", created_at: "2024-01-02" }, { id: 3, status: "b", created_at: "2024-01-02" }, { id: 3, status: "c", created_at: "2024-01-02" }],
        { runId: "m2", logicalDate: "2024-01-02" },
      ),
    ]);
    expect(simple(out.target)).toEqual([
      { id: 1, status: "a", created_at: "2024-01-01", date: "2024-01-02" },
      { id: 2, status: "b", created_at: "2024-01-02", date: "2024-01-02" },
      { id: 3, status: "c", created_at: "2024-01-02", date: "2024-01-02" },
    ]);
    expect(out.target.find((t) => Number(t.ID) === 1)!._XO_RUN_ID).toBe("m1");
    expect(out.loads[1]!.steps.find((s) => s.step === "merge")!.how).toBe("ran");
  });

  it("replace_range replaces exactly the window's dates and leaves other dates alone", () => {
    const out = replay([
      load(
        { mode: "replace_range", dateColumn: "created_at" },
        [
          { id: 1, status: "a", created_at: "2024-01-01" },
          { id: 2, status: "a", created_at: "2024-01-02" },
          { id: 3, status: "a", created_at: "2024-01-03" },
        ],
        { runId: "h1", logicalDate: "2024-01-03", window: { start: "2024-01-01", end: "2024-01-04" } },
      ),
      load(
        { mode: "replace_range", dateColumn: "created_at" },
        [
          { id: 2, status: "b", created_at: "2024-01-02" },
          { id: 5, status: "b", created_at: "2024-01-05" },
        ],
        { runId: "h2", logicalDate: "2024-01-03", window: { start: "2024-01-02", end: "2024-01-04" } },
      ),
    ]);
    expect(simple(out.target).map(({ date: _d, ...r }) => r)).toEqual([
      { id: 1, status: "a", created_at: "2024-01-01" }, // before the second window: kept
      { id: 2, status: "b", created_at: "2024-01-02" }, // in the window: replaced
      // id 3 (2024-01-03, in the window, not re-extracted) is gone; id 5 (after the window) is not loaded.
    ]);
  });

  it("create: false loads into the user's table, keeping its definition, and adds the metadata columns", () => {
    const out = replay(
      [load({ mode: "append", create: false }, [{ id: 1, status: "a", created_at: "2024-01-01" }], { runId: "c1" })],
      [`CREATE TABLE "ANALYTICS"."RAW"."ORDERS" ("ID" NUMBER(38,0) NOT NULL, "STATUS" VARCHAR, "CREATED_AT" DATE, "NOTE" VARCHAR DEFAULT 'kept')`],
    );
    expect(out.loads[0]!.steps.find((s) => s.step === "create_staging")!.how).toBe("ran");
    expect(out.target).toHaveLength(1);
    expect(out.target[0]).toMatchObject({ STATUS: "a", _XO_RUN_ID: "c1" });
    expect(Object.keys(out.target[0]!)).toContain("NOTE");
  });
});
