/**
 * Statement generation. Pure functions from a load's inputs to the exact SQL and
 * bind values, so the sequence can be asserted in unit tests, replayed on another
 * engine (fakesnow) and executed by snowflake-sdk without any branching there.
 *
 * A load runs in two halves around one question to the warehouse (which columns
 * the staging table got from the files): `planStaging` lands the files in a staging
 * table, `planApply` moves its rows into the target the way the mode asks.
 */
import { createHash } from "node:crypto";
import type { FileFormat } from "@xo-foundry/core";
import { SnowflakeSinkError } from "./errors.js";
import type { ResolvedTarget, SinkOptions, StageOption } from "./options.js";
import { normalizeName, qualify, quoteIdent, quoteLiteral } from "./sql.js";

export type Bind = string | number;

export type Step =
  | "query_tag"
  | "file_format"
  | "create_stage"
  | "put"
  | "create_staging"
  | "staging_metadata"
  | "copy"
  | "stamp"
  | "columns"
  | "create_target"
  | "target_metadata"
  | "swap"
  | "begin"
  | "delete"
  | "insert"
  | "merge"
  | "commit"
  | "rollback"
  | "drop_staging"
  | "drop_stage";

export interface Statement {
  /** What the statement is for; named in errors and used to pick cleanup steps after a failure. */
  readonly step: Step;
  readonly sql: string;
  readonly binds: readonly Bind[];
}

/** Steps that release what a load created; run even after a failure. */
export const CLEANUP_STEPS: ReadonlySet<Step> = new Set(["drop_staging", "drop_stage"]);

export interface PlanFile {
  /** The file's name on the stage: a basename for the internal stage, a path relative to the stage for an external one. */
  readonly stageName: string;
  /** Local path to PUT (internal stage only). */
  readonly localPath?: string;
}

export interface PlanInput {
  readonly database: string;
  readonly schema: string;
  readonly target: ResolvedTarget;
  readonly format: FileFormat;
  readonly fileFormat?: string | undefined;
  readonly stage: StageOption;
  readonly onError: SinkOptions["on_error"];
  readonly files: readonly PlanFile[];
  readonly runId: string;
  readonly logicalDate: string;
  /** The run's window as dates: `[start, end)`. */
  readonly window: { readonly start: string; readonly end: string };
  readonly queryTag: Readonly<Record<string, string | number | boolean>>;
}

/** Columns every loaded row carries, in this order, after the files' own columns. */
export const METADATA_COLUMNS = [
  { name: "_XO_SOURCE_FILE", type: "VARCHAR" },
  { name: "_XO_SOURCE_ROW", type: "NUMBER(38,0)" },
  { name: "_XO_LOGICAL_DATE", type: "DATE" },
  { name: "_XO_RUN_ID", type: "VARCHAR" },
  { name: "_XO_LOADED_AT", type: "TIMESTAMP_TZ" },
] as const;

/** Snowflake's limit for one COPY's FILES list. */
export const MAX_FILES_PER_COPY = 1000;

const FORMAT_DEFAULTS: Record<"CSV" | "JSON" | "PARQUET", string> = {
  // PARSE_HEADER lets INFER_SCHEMA and MATCH_BY_COLUMN_NAME read the header row; the staging
  // table has metadata columns the files lack, hence no column-count check.
  CSV: `TYPE = CSV PARSE_HEADER = TRUE FIELD_OPTIONALLY_ENCLOSED_BY = '"' ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE`,
  // STRIP_OUTER_ARRAY reads a JSON array file row by row and leaves NDJSON as it is.
  JSON: `TYPE = JSON STRIP_OUTER_ARRAY = TRUE`,
  PARQUET: `TYPE = PARQUET`,
};

export function formatType(format: FileFormat): keyof typeof FORMAT_DEFAULTS {
  return format === "csv" ? "CSV" : format === "parquet" ? "PARQUET" : "JSON";
}

/** Per-run object names: a retry of the same run reuses (and replaces) them, another run never collides. */
export function runSuffix(runId: string): string {
  return createHash("sha256").update(runId).digest("hex").slice(0, 12).toUpperCase();
}

export interface Names {
  readonly target: string;
  readonly staging: string;
  readonly stagingName: string;
  readonly stage: string;
  readonly fileFormat: string;
}

export function names(input: PlanInput): Names {
  const { database, schema } = input;
  const table = normalizeName(input.target.table);
  const suffix = runSuffix(input.runId);
  const stagingName = `${table}__XO_STAGE_${suffix}`;
  return {
    target: qualify(database, schema, table),
    staging: qualify(database, schema, stagingName),
    stagingName,
    stage: input.stage.type === "internal" ? qualify(database, schema, `${table}__XO_FILES_${suffix}`) : qualifyStage(input.stage.name, database, schema),
    fileFormat: qualify(database, schema, input.fileFormat ?? `XO_FOUNDRY_${formatType(input.format)}`),
  };
}

/** `STAGE`, `SCHEMA.STAGE` or `DB.SCHEMA.STAGE`; the missing parts come from the sink. */
function qualifyStage(name: string, database: string, schema: string): string {
  const parts = name.split(".");
  if (parts.length > 3 || parts.some((p) => p === "")) {
    throw new SnowflakeSinkError("XO_SNOWFLAKE_INVALID_OPTIONS", `stage name ${JSON.stringify(name)} is not STAGE, SCHEMA.STAGE or DB.SCHEMA.STAGE`, "fix `stage.name` in the sink block");
  }
  return qualify(...[database, schema].slice(0, 3 - parts.length), ...parts);
}

const stmt = (step: Step, sql: string, binds: readonly Bind[] = []): Statement => ({ step, sql, binds });

function filesList(files: readonly PlanFile[]): string {
  return `(${files.map((f) => quoteLiteral(f.stageName)).join(", ")})`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Lands the files in the staging table: query tag, file format, stage, PUT, staging table, COPY, run metadata. */
export function planStaging(input: PlanInput): Statement[] {
  if (input.files.length === 0) {
    throw new SnowflakeSinkError("XO_SNOWFLAKE_FILES_INVALID", "the manifest lists no files to load", "check the extract step's manifest");
  }
  const n = names(input);
  const out: Statement[] = [
    stmt("query_tag", `ALTER SESSION SET QUERY_TAG = ${quoteLiteral(JSON.stringify(input.queryTag))}`),
    stmt("file_format", `CREATE FILE FORMAT IF NOT EXISTS ${n.fileFormat} ${FORMAT_DEFAULTS[formatType(input.format)]}`),
  ];
  if (input.stage.type === "internal") {
    out.push(stmt("create_stage", `CREATE OR REPLACE TEMPORARY STAGE ${n.stage}`));
    for (const file of input.files) {
      if (!file.localPath) throw new Error(`internal stage: file ${file.stageName} has no local path`);
      // AUTO_COMPRESS off: the staged names stay the landed names, which the FILES lists below rely on.
      out.push(stmt("put", `PUT ${quoteLiteral(`file://${file.localPath}`)} @${n.stage} AUTO_COMPRESS = FALSE OVERWRITE = TRUE`));
    }
  }
  // A replace swaps the staging table in as the target, so it must be a permanent table; otherwise transient (no Fail-safe cost).
  const kind = input.target.mode === "replace" ? "TABLE" : "TRANSIENT TABLE";
  if (input.target.create) {
    // IGNORE_CASE upper-cases the inferred column names: the same rule as every other name (see sql.ts).
    const infer =
      `SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) WITHIN GROUP (ORDER BY ORDER_ID) FROM TABLE(INFER_SCHEMA(` +
      `LOCATION => ${quoteLiteral(`@${n.stage}`)}, FILES => ${filesList(input.files.slice(0, MAX_FILES_PER_COPY))}, ` +
      `FILE_FORMAT => ${quoteLiteral(n.fileFormat)}, IGNORE_CASE => TRUE))`;
    out.push(stmt("create_staging", `CREATE OR REPLACE ${kind} ${n.staging} USING TEMPLATE (${infer})`));
  } else {
    // The target's definition belongs to the user: stage into a copy of it.
    out.push(stmt("create_staging", `CREATE OR REPLACE ${kind} ${n.staging} LIKE ${n.target}`));
  }
  out.push(...addMetadataColumns("staging_metadata", n.staging));
  for (const files of chunks(input.files, MAX_FILES_PER_COPY)) {
    out.push(
      stmt(
        "copy",
        `COPY INTO ${n.staging} FROM @${n.stage} FILES = ${filesList(files)} ` +
          `FILE_FORMAT = (FORMAT_NAME = ${quoteLiteral(n.fileFormat)}) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ` +
          `INCLUDE_METADATA = (${quoteIdent("_XO_SOURCE_FILE")} = METADATA$FILENAME, ${quoteIdent("_XO_SOURCE_ROW")} = METADATA$FILE_ROW_NUMBER) ` +
          `ON_ERROR = ${input.onError}`,
      ),
    );
  }
  out.push(
    stmt(
      "stamp",
      `UPDATE ${n.staging} SET ${quoteIdent("_XO_LOGICAL_DATE")} = CAST(? AS DATE), ${quoteIdent("_XO_RUN_ID")} = ?, ${quoteIdent("_XO_LOADED_AT")} = CURRENT_TIMESTAMP()`,
      [input.logicalDate, input.runId],
    ),
  );
  return out;
}

/** One statement per column: IF NOT EXISTS then holds for each column on every engine (fakesnow applies it to the first only). */
function addMetadataColumns(step: Step, table: string): Statement[] {
  return METADATA_COLUMNS.map((c) => stmt(step, `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${c.type}`));
}

/** The question between the halves: the staging table's columns, in order (one COLUMN_NAME per row). */
export function planColumns(input: PlanInput): Statement {
  const n = names(input);
  return stmt(
    "columns",
    `SELECT COLUMN_NAME FROM ${quoteIdent(input.database)}.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [normalizeName(input.schema), n.stagingName],
  );
}

/** Moves the staged rows into the target. `columns` are the staging table's columns (from `planColumns`). */
export function planApply(input: PlanInput, columns: readonly string[]): Statement[] {
  const n = names(input);
  const { target } = input;
  const has = new Set(columns.map(normalizeName));
  const require = (column: string, what: string) => {
    if (!has.has(normalizeName(column))) {
      throw new SnowflakeSinkError(
        "XO_SNOWFLAKE_FILES_INVALID",
        `${what} ${JSON.stringify(column)} is not a column of the loaded files (columns: ${columns.filter((c) => !c.startsWith("_XO_")).join(", ")})`,
        `fix \`${what}\` in the target block of table ${target.table}`,
      );
    }
  };
  target.keys.forEach((k) => require(k, "keys"));
  if (target.mode === "replace_range") require(target.dateColumn!, "date_column");

  const cols = columns.map(quoteIdent);
  const list = cols.join(", ");
  const out: Statement[] = [];
  if (target.create) out.push(stmt("create_target", `CREATE TABLE IF NOT EXISTS ${n.target} LIKE ${n.staging}`));

  if (target.mode === "replace") {
    // SWAP exchanges the two tables in one metadata operation: readers see the old or the new rows, never none.
    out.push(stmt("swap", `ALTER TABLE ${n.target} SWAP WITH ${n.staging}`));
  } else {
    // A target that predates xo-foundry (or has `create: false`) gets the metadata columns the statements below use.
    out.push(...addMetadataColumns("target_metadata", n.target));
    const insert = `INSERT INTO ${n.target} (${list}) SELECT ${list} FROM ${n.staging}`;
    switch (target.mode) {
      case "append":
        out.push(
          stmt("begin", "BEGIN"),
          stmt("delete", `DELETE FROM ${n.target} WHERE ${quoteIdent("_XO_LOGICAL_DATE")} = CAST(? AS DATE)`, [input.logicalDate]),
          stmt("insert", insert),
          stmt("commit", "COMMIT"),
        );
        break;
      case "replace_range": {
        const dc = quoteIdent(target.dateColumn!);
        const inWindow = `${dc} >= CAST(? AS DATE) AND ${dc} < CAST(? AS DATE)`;
        const bounds = [input.window.start, input.window.end];
        out.push(
          stmt("begin", "BEGIN"),
          stmt("delete", `DELETE FROM ${n.target} WHERE ${inWindow}`, bounds),
          // Rows outside the window are not loaded: the next run's DELETE would not remove them, so a re-run would duplicate them.
          stmt("insert", `${insert} WHERE ${inWindow}`, bounds),
          stmt("commit", "COMMIT"),
        );
        break;
      }
      case "merge": {
        const keys = target.keys.map(quoteIdent);
        // The last row for a key wins: last file in name order, last row in that file.
        const latest = `QUALIFY ROW_NUMBER() OVER (PARTITION BY ${keys.join(", ")} ORDER BY ${quoteIdent("_XO_SOURCE_FILE")} DESC, ${quoteIdent("_XO_SOURCE_ROW")} DESC) = 1`;
        const on = keys.map((k) => `t.${k} IS NOT DISTINCT FROM s.${k}`).join(" AND ");
        const keySet = new Set(keys);
        const set = cols.filter((c) => !keySet.has(c)).map((c) => `${c} = s.${c}`);
        out.push(
          stmt(
            "merge",
            `MERGE INTO ${n.target} AS t USING (SELECT ${list} FROM ${n.staging} ${latest}) AS s ON ${on}` +
              (set.length > 0 ? ` WHEN MATCHED THEN UPDATE SET ${set.join(", ")}` : "") +
              ` WHEN NOT MATCHED THEN INSERT (${list}) VALUES (${cols.map((c) => `s.${c}`).join(", ")})`,
          ),
        );
        break;
      }
    }
  }
  out.push(...planCleanup(input));
  return out;
}

/** Undoes a half-done transaction after a failed statement inside BEGIN ... COMMIT. */
export const ROLLBACK: Statement = stmt("rollback", "ROLLBACK");

/** Drops what the load created. Safe to run after a failure at any step. */
export function planCleanup(input: PlanInput): Statement[] {
  const n = names(input);
  const out = [stmt("drop_staging", `DROP TABLE IF EXISTS ${n.staging}`)];
  if (input.stage.type === "internal") out.push(stmt("drop_stage", `DROP STAGE IF EXISTS ${n.stage}`));
  return out;
}

/** The whole sequence for known staging columns: what a load executes, in order. */
export function planLoad(input: PlanInput, columns: readonly string[]): Statement[] {
  return [...planStaging(input), planColumns(input), ...planApply(input, columns)];
}
