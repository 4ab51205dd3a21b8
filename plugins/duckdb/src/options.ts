import { createHash } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { nameWithoutControlCharacters, type LoadStrategy } from "@xo-foundry/core";
import { DuckDbSinkError } from "./errors.js";

export const DEFAULT_DATABASE = ".xo-foundry/warehouse.duckdb";
export const IN_MEMORY = ":memory:";
/** Enough for DuckDB's JSON and CSV readers at several threads; measured in tools/bench/pipeline. */
export const DEFAULT_MEMORY_LIMIT = "128MB";

export function resolveDatabase(database: string, projectDir: string): string {
  return database === IN_MEMORY ? IN_MEMORY : path.resolve(projectDir, database);
}

/** Keys of the YAML `sink:` block next to `plugin` and `connection`. */
export const sinkOptions = z.object({
  database: z
    .string()
    .min(1)
    .default(DEFAULT_DATABASE)
    .describe("Path of the DuckDB database file, relative to the project directory; `:memory:` for a throwaway database."),
  schema: z.string().min(1).default("main").describe("Schema the tables are loaded into; created when missing."),
  lock_timeout_ms: z
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe("How long to wait for another process to release the database file before failing."),
  memory_limit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, { message: 'a size such as "128MB" or "2GiB"' })
    .default(DEFAULT_MEMORY_LIMIT)
    .describe(
      "DuckDB's memory_limit while this sink loads or runs steps' SQL. Beyond it DuckDB spills to `temp_directory` instead of growing, so a load's memory stays flat whatever the number of rows. Raise it for heavy SQL steps.",
    ),
  temp_directory: z
    .string()
    .min(1)
    .optional()
    .describe("Where DuckDB spills beyond memory_limit, relative to the project directory (each database file gets its own folder inside it); defaults to `<database>.tmp` next to the database file (DuckDB's default for `:memory:`)."),
  threads: z.number().int().min(1).optional().describe("DuckDB's worker threads; defaults to the number of CPU cores."),
});

export const LOAD_MODES = ["append", "replace", "merge"] as const;
export type LoadMode = (typeof LOAD_MODES)[number];

/**
 * A table name as written in the target. DuckDB keeps names as C strings, where a NUL
 * cuts the name short, and no control character belongs in a name people read.
 */
const tableName = nameWithoutControlCharacters("a table name");

/** Keys of each stream's `target:` block. */
export const targetOptions = z
  .strictObject({
    table: tableName.optional().describe("Table name inside `schema`; defaults to the stream name."),
    mode: z
      .enum(LOAD_MODES)
      .optional()
      .describe("append, replace or merge; defaults from the load strategy (full_refresh: replace, incremental: merge with keys else append, historical: merge with keys else append)."),
    keys: z
      .array(z.string().min(1))
      .min(1)
      .refine((keys) => new Set(keys.map((k) => k.toLowerCase())).size === keys.length, { message: "keys must be unique" })
      .optional()
      .describe("Columns that identify a row; required for merge."),
    create: z.boolean().default(true).describe("Create the table from the files' columns when it does not exist."),
  })
  // load() checks again: the runtime may hand over a block nobody validated.
  .refine((t) => t.mode !== "merge" || t.keys !== undefined, {
    message: "mode merge needs `keys`: the columns that identify a row",
    path: ["keys"],
  });

export type SinkOptions = z.output<typeof sinkOptions>;
export type TargetOptions = z.output<typeof targetOptions>;

export interface ResolvedTarget {
  readonly table: string;
  readonly mode: LoadMode;
  readonly keys: readonly string[];
  readonly create: boolean;
}

export function defaultMode(strategy: LoadStrategy, hasKeys: boolean): LoadMode {
  switch (strategy) {
    case "full_refresh":
      return "replace";
    case "incremental":
      return hasKeys ? "merge" : "append";
    case "historical":
      // Consecutive historical windows overlap; only keys make the overlap idempotent.
      return hasKeys ? "merge" : "append";
  }
}

/** Validates again at load time: the runtime may hand over a block nobody validated. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  // Merge without keys is the one mistake worth its own code: it is easy to make and to fix.
  const missingKeys = result.error.issues.some((i) => i.path.join(".") === "keys" && i.code === "custom");
  if (missingKeys) {
    throw new DuckDbSinkError(
      "XO_DUCKDB_MERGE_KEYS_MISSING",
      `${where}: mode merge needs \`keys\`, the columns that identify a row`,
      "add for example `keys: [id]` to the stream's target block, or use mode append or replace",
    );
  }
  throw new DuckDbSinkError("XO_DUCKDB_INVALID_OPTIONS", `${where} is invalid:\n${z.prettifyError(result.error)}`, "fix the options named above");
}

/** A name as DuckDB's catalog compares it: ASCII letters fold to lower case, nothing else does. */
function catalogName(name: string): string {
  const folded = name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
  // Quoted the SQL way when it would not read back as one part: `raw."a.b"` is not `raw.a.b`.
  return /^[^."]+$/.test(folded) ? folded : `"${folded.replaceAll('"', '""')}"`;
}

/** Where a stream lands: `schema.table`, as DuckDB compares names (see SinkDefinition.targetKey). */
export function targetKey(input: { readonly stream: string; readonly target: TargetOptions; readonly options: SinkOptions }): string {
  return `${catalogName(input.options.schema)}.${catalogName(input.target.table ?? input.stream)}`;
}

/**
 * The database file a sink block writes: two blocks on one file are one place. An
 * in-memory database is new on every load, so it is no place two loads could share.
 */
export function location(input: { readonly options: SinkOptions; readonly projectDir: string }): string | undefined {
  const database = resolveDatabase(input.options.database, input.projectDir);
  return database === IN_MEMORY ? undefined : database;
}

/** DuckDB's settings for a connection of this sink, from its options. */
export function duckdbSettings(options: SinkOptions, projectDir: string): Record<string, string> {
  const database = resolveDatabase(options.database, projectDir);
  const temp = spillFolder(options.temp_directory && path.resolve(projectDir, options.temp_directory), database);
  return {
    memory_limit: options.memory_limit,
    ...(temp !== undefined ? { temp_directory: temp } : {}),
    ...(options.threads !== undefined ? { threads: String(options.threads) } : {}),
  };
}

let inMemorySpills = 0;

/**
 * Where one open database spills. DuckDB names its spill files without the database or the
 * process in them, and removes the folder when it closes, so two databases (two sink
 * blocks, two processes) must never share one: a configured `temp_directory` gets a folder
 * per database file inside it. One process at a time writes a database file (DuckDB's own
 * lock), so that folder is never shared; an in-memory database gets one per instance.
 */
function spillFolder(configured: string | undefined, database: string): string | undefined {
  if (configured === undefined) return database === IN_MEMORY ? undefined : `${database}.tmp`;
  if (database === IN_MEMORY) return path.join(configured, `memory-${process.pid}-${++inMemorySpills}`);
  const id = createHash("sha256").update(database).digest("hex").slice(0, 12);
  return path.join(configured, `${path.basename(database)}-${id}`);
}

export function resolveTarget(target: unknown, streamName: string, strategy: LoadStrategy): ResolvedTarget {
  const t = parseOptions(targetOptions, target, `target of stream ${JSON.stringify(streamName)}`);
  const keys = t.keys ?? [];
  return { table: t.table ?? streamName, mode: t.mode ?? defaultMode(strategy, keys.length > 0), keys, create: t.create };
}
