import { z } from "zod";
import { nameWithoutControlCharacters, type LoadStrategy } from "@xo-foundry/core";
import { SnowflakeSinkError } from "./errors.js";
import { normalizeName } from "./sql.js";

const name = z.string().min(1);

/** Keys of the YAML `sink:` block next to `plugin` and `connection`. */
export const sinkOptions = z.strictObject({
  account: name.optional().describe("Account identifier (`orgname-account` or `locator.region`); defaults to the connection's `extra.account`."),
  warehouse: name.optional().describe("Virtual warehouse for the COPY and DML; defaults to the connection's `extra.warehouse`."),
  database: name.optional().describe("Database of the target tables; defaults to the connection's `extra.database`."),
  schema: name.optional().describe("Schema of the target tables; defaults to the connection's `schema`, else PUBLIC."),
  role: name.optional().describe("Role to use; defaults to the connection's `extra.role`, else the user's default role."),
  stage: z
    .discriminatedUnion("type", [
      z.strictObject({ type: z.literal("internal") }),
      z.strictObject({
        type: z.literal("external"),
        name: name.describe("Existing external stage (`STAGE`, `SCHEMA.STAGE` or `DB.SCHEMA.STAGE`)."),
        url_prefix: z
          .string()
          .regex(/^[a-z0-9]+:\/\/.+/, "expected a URL such as s3://bucket/prefix")
          .describe("The URL the stage points at; landed file URIs are made relative to it."),
      }),
    ])
    .default({ type: "internal" })
    .describe("internal: PUT the landed files to a temporary stage per load. external: COPY from a stage that already sees the landing bucket."),
  file_format: name
    .optional()
    .describe("Named file format to use; created with xo-foundry's defaults for the files' format when missing. Default XO_FOUNDRY_<FORMAT>."),
  on_error: z.enum(["ABORT_STATEMENT", "CONTINUE", "SKIP_FILE"]).default("ABORT_STATEMENT").describe("COPY INTO's ON_ERROR policy."),
  query_tag: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}).describe("Extra keys for the session's JSON QUERY_TAG."),
});

export const LOAD_MODES = ["replace", "append", "merge", "replace_range"] as const;
export type LoadMode = (typeof LOAD_MODES)[number];

const uniqueNames = (names: readonly string[]) => new Set(names.map((n) => n.toUpperCase())).size === names.length;

/** A table name as written in the target: no control character belongs in a name people read (and a NUL cuts it short). */
const tableName = nameWithoutControlCharacters("a table name");

/** Keys of each stream's `target:` block. */
export const targetOptions = z.strictObject({
  table: tableName.optional().describe("Table name inside `schema`; defaults to the stream name. Upper-cased like an unquoted Snowflake name."),
  mode: z
    .enum(LOAD_MODES)
    .optional()
    .describe("replace, append, merge or replace_range; defaults from the load strategy (full_refresh: replace, incremental: merge with keys else append, historical: replace_range with date_column, else merge with keys, else append)."),
  keys: z.array(name).min(1).refine(uniqueNames, { message: "keys must be unique" }).optional().describe("Columns that identify a row; required for merge."),
  date_column: name.optional().describe("Date or timestamp column whose values inside the run's window are replaced; required for replace_range."),
  create: z.boolean().default(true).describe("Create the table from the files' columns (INFER_SCHEMA) when it does not exist."),
});

export type SinkOptions = z.output<typeof sinkOptions>;
export type TargetOptions = z.output<typeof targetOptions>;
export type StageOption = SinkOptions["stage"];

export interface ResolvedTarget {
  readonly table: string;
  readonly mode: LoadMode;
  readonly keys: readonly string[];
  readonly dateColumn: string | undefined;
  readonly create: boolean;
}

export function defaultMode(strategy: LoadStrategy, hasKeys: boolean, hasDateColumn = false): LoadMode {
  switch (strategy) {
    case "full_refresh":
      return "replace";
    case "incremental":
      return hasKeys ? "merge" : "append";
    case "historical":
      // A historical run re-extracts a whole window. Replacing the window by its dates makes overlapping windows
      // idempotent; without a date column, keys do; without either, a re-run still replaces its own logical date's rows.
      return hasDateColumn ? "replace_range" : hasKeys ? "merge" : "append";
  }
}

/** Validates again at load time: the runtime may hand over a block nobody validated. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new SnowflakeSinkError("XO_SNOWFLAKE_INVALID_OPTIONS", `${where} is invalid:\n${z.prettifyError(result.error)}`, "fix the options named above");
}

/**
 * Where a stream lands (see SinkDefinition.targetKey): `DATABASE.SCHEMA.TABLE` with the
 * parts the sink block names, upper-cased as the loads name them; a part with a dot or
 * quote is quoted, so `"A.B"` is not the table B of schema A.
 */
export function targetKey(input: { readonly stream: string; readonly target: TargetOptions; readonly options: SinkOptions }): string {
  const { database, schema } = input.options;
  return [database, schema, input.target.table ?? input.stream]
    .filter((part): part is string => part !== undefined)
    .map((part) => {
      const upper = normalizeName(part);
      return /^[^."]+$/.test(upper) ? upper : `"${upper.replaceAll('"', '""')}"`;
    })
    .join(".");
}

/**
 * The connection and database a sink block writes: two blocks on one connection and
 * database are one place (the database defaults to the connection's, so an unset one is
 * the same as another unset one on that connection).
 */
export function location(input: { readonly options: SinkOptions; readonly connection: string | undefined }): string {
  return JSON.stringify([input.connection ?? null, input.options.database === undefined ? null : normalizeName(input.options.database)]);
}

export function resolveTarget(target: unknown, streamName: string, strategy: LoadStrategy): ResolvedTarget {
  const where = `target of stream ${JSON.stringify(streamName)}`;
  const t = parseOptions(targetOptions, target, where);
  const keys = t.keys ?? [];
  const mode = t.mode ?? defaultMode(strategy, keys.length > 0, t.date_column !== undefined);
  if (mode === "merge" && keys.length === 0) {
    throw new SnowflakeSinkError(
      "XO_SNOWFLAKE_MERGE_KEYS_MISSING",
      `${where}: mode merge needs \`keys\`, the columns that identify a row`,
      "add for example `keys: [id]` to the stream's target block, or use mode append or replace",
    );
  }
  if (mode === "replace_range" && t.date_column === undefined) {
    throw new SnowflakeSinkError(
      "XO_SNOWFLAKE_DATE_COLUMN_MISSING",
      `${where}: mode replace_range needs \`date_column\`, the column whose dates in the run's window are replaced`,
      "add for example `date_column: created_at` to the stream's target block, or set `mode: append` or `mode: merge` with `keys`",
    );
  }
  return { table: t.table ?? streamName, mode, keys, dateColumn: t.date_column, create: t.create };
}
