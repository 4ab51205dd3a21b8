/**
 * The plugin contract. Every source, sink, landing zone, DAG template, step type and
 * observer is provided by a plugin: a plain object made by a factory function, branded
 * with `kind` and versioned with `apiVersion` so the core can refuse plugins written
 * against another contract with a clear message instead of failing later.
 *
 * Plugin API 2 (docs/adr/0006): a pipeline is a task graph of steps. `extract` and
 * `load` are the built-in step types that run sources and sinks; everything else
 * (SQL, dbt, checks, exports, notifications) is a step type a plugin contributes and
 * the core runs without knowing it.
 */
import type { z } from "zod";
import type { Logger } from "./log.js";
import type { LandingStore } from "./landing.js";
import type { Connection } from "./connections.js";
import type { Diagnostic } from "./errors.js";
import type { LoadStrategy, PipelineConfig, StreamConfig, TriggerRule, WhenCondition } from "./config/types.js";

/** Bumped on every breaking change to the interfaces in this file. */
export const PLUGIN_API_VERSION = 2;

export const PLUGIN_KIND = "xo-foundry/plugin";

/** Any zod object schema; plugin options are always objects so they can be merged into the config. */
export type OptionsSchema = z.ZodObject<z.ZodRawShape>;

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

export interface XoPlugin {
  readonly kind: typeof PLUGIN_KIND;
  readonly apiVersion: number;
  /** npm-style name, unique among the loaded plugins, e.g. `@xo-foundry/plugin-api`. */
  readonly name: string;
  readonly version: string;
  readonly sources?: readonly SourceDefinition[];
  readonly sinks?: readonly SinkDefinition[];
  readonly templates?: readonly TemplateDefinition[];
  readonly landings?: readonly LandingDefinition[];
  readonly steps?: readonly StepType[];
  readonly observers?: readonly Observer[];
  /** Channels an `alerts:` entry can send through (Slack, email, a webhook). */
  readonly notifiers?: readonly NotifierDefinition[];
  /**
   * The error codes this plugin throws, each with what it means and how to fix it
   * (shown by `xo-foundry plugins`). An error whose `code` is listed here, or starts
   * with `XO_`, reaches the user with that code instead of XO_STEP_FAILED.
   */
  readonly errors?: Readonly<Record<string, string>>;
}

/** The time window a task run covers, derived from the logical date and the load strategy. */
export interface DataWindow {
  /** `YYYY-MM-DD`, the Airflow logical date (`{{ ds }}`). */
  readonly logicalDate: string;
  /** Inclusive start, ISO 8601 with offset, in the pipeline timezone. */
  readonly start: string;
  /** Exclusive end, ISO 8601 with offset, in the pipeline timezone. */
  readonly end: string;
  readonly timezone: string;
}

/** What every hook that moves one stream gets: the pipeline, the stream and the run. */
export interface StreamContext {
  readonly pipeline: PipelineConfig;
  /** The project root; relative paths in options (e.g. a database file) resolve against it. */
  readonly projectDir: string;
  readonly stream: StreamConfig;
  readonly strategy: LoadStrategy;
  readonly window: DataWindow;
  readonly runId: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

// ---------------------------------------------------------------- sources

export type FileFormat = "ndjson" | "csv" | "json" | "parquet";

/**
 * What a source yields: pages of records (written to NDJSON by the runtime), whole
 * files, or the stream's new state (a cursor or watermark). State is kept with the
 * landed files and saved only after the load of those files has succeeded, so a
 * failed or killed run never skips data; the last state batch wins.
 */
export type ExtractBatch =
  | { readonly type: "records"; readonly records: readonly Record<string, unknown>[] }
  | {
      readonly type: "file";
      /** A safe file name; the runtime places it under the landing partition. */
      readonly name: string;
      readonly format: FileFormat;
      readonly body: AsyncIterable<Uint8Array>;
      /** Row count when the source knows it without reading the body. */
      readonly rows?: number;
      /** Facts about the origin (e.g. an object's size, last-modified, etag), kept in the manifest. */
      readonly metadata?: Readonly<Record<string, string | number>>;
    }
  | { readonly type: "state"; readonly state: JsonObject };

export interface ExtractContext<SourceOptions = Record<string, unknown>, StreamOptions = Record<string, unknown>>
  extends StreamContext {
  /** The name of the source block (`main` for the `source:` shorthand). */
  readonly source: string;
  /** Source-level options (the source block minus the keys the core owns). */
  readonly options: SourceOptions;
  /** This stream's plugin options (the stream entry minus the keys the core owns). */
  readonly streamOptions: StreamOptions;
  readonly connection: Connection | undefined;
  /** The stream's saved state from the last successful load, if any. */
  readonly state: JsonObject | undefined;
}

// `any` by default: the registry holds definitions of every option type side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface SourceDefinition<SourceOptions = any, StreamOptions = any> {
  /** Referenced from the config as `plugin:` of a source block. */
  readonly id: string;
  readonly description: string;
  /** Keys accepted in the source block next to `plugin`, `connection`, `pool`, `sink` and `streams`. */
  readonly options: OptionsSchema;
  /** Keys accepted in each `streams[]` entry next to `name` and `target`. */
  readonly stream: OptionsSchema;
  /** Whether a connection is required (the config must then name one). */
  readonly connection?: "required" | "optional";
  extract(ctx: ExtractContext<SourceOptions, StreamOptions>): AsyncIterable<ExtractBatch>;
}

// ---------------------------------------------------------------- sinks

export interface ManifestFile {
  /** Absolute `file://` or `s3://` URI of the landed file. */
  readonly uri: string;
  readonly format: FileFormat;
  readonly bytes: number;
  readonly sha256: string;
  readonly rows?: number;
  /** What the source reported about the file's origin. */
  readonly metadata?: Readonly<Record<string, string | number>>;
}

/** The small record that moves between steps (and through XCom) instead of data. */
export interface Manifest {
  readonly version: 1;
  readonly pipeline: string;
  readonly stream: string;
  readonly strategy: LoadStrategy;
  readonly logicalDate: string;
  readonly runId: string;
  /** The stage partition URI the files were published to. */
  readonly partition: string;
  readonly files: readonly ManifestFile[];
  readonly rows: number;
  readonly bytes: number;
  /** The stream state the source reported; saved once these files are loaded. */
  readonly state?: JsonObject;
}

export interface LoadContext<SinkOptions = Record<string, unknown>, TargetOptions = Record<string, unknown>>
  extends StreamContext {
  /** The name of the sink block (`main` for the `sink:` shorthand). */
  readonly sink: string;
  readonly options: SinkOptions;
  /** This stream's `target:` block, validated by the sink's `target` schema. */
  readonly target: TargetOptions;
  readonly connection: Connection | undefined;
  readonly manifest: Manifest;
  /** A local path for a landed file (a download for remote landing zones). */
  localPath(file: ManifestFile): Promise<string>;
}

export interface LoadResult {
  /** Fully qualified table name as the warehouse spells it. */
  readonly table: string;
  readonly rowsLoaded: number;
  /** Row count of the table after the load, when cheap to get. */
  readonly rowsInTable?: number;
}

// `any` by default: the registry holds definitions of every option type side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface SinkDefinition<SinkOptions = any, TargetOptions = any> {
  /** Referenced from the config as `plugin:` of a sink block. */
  readonly id: string;
  readonly description: string;
  /** Keys accepted in the sink block next to `plugin`, `connection` and `pool`. */
  readonly options: OptionsSchema;
  /** Keys accepted in each stream's `target:` block. */
  readonly target: OptionsSchema;
  readonly connection?: "required" | "optional";
  /** The sink a pipeline gets when it names none (the embedded default warehouse); one per project. */
  readonly isDefault?: boolean;
  /**
   * Where a stream lands in this sink, as one string such as `main.orders`: validation
   * refuses two streams of a pipeline whose keys are equal in one sink block, because the
   * second load would replace or mix with the first one's rows. Fold case the way the
   * warehouse compares names (`Orders` and `orders` are one table in DuckDB). Gets the
   * options as the sink's schemas parsed them. Without it, the sink's targets are not checked.
   */
  targetKey?(input: TargetKeyInput<SinkOptions, TargetOptions>): string | undefined;
  /**
   * Where this sink block's tables live (a database file, a connection and database), so
   * two sink blocks that point at one place have their `targetKey`s compared with each
   * other too. Without it, each sink block is taken to be a place of its own.
   */
  location?(input: SinkLocationInput<SinkOptions>): string | undefined;
  /**
   * The table a stream loads into, named the way OpenLineage names datasets (a namespace
   * for the warehouse, a name for the table), from the configuration alone so generated
   * DAGs can declare it as an Airflow asset. Without it, the table is named
   * `<sink id>://<connection or sink block>` + its `targetKey`.
   */
  dataset?(input: TargetKeyInput<SinkOptions, TargetOptions> & { readonly connection: string | undefined; readonly projectDir: string }): DatasetName;
  load(ctx: LoadContext<SinkOptions, TargetOptions>): Promise<LoadResult>;
  /**
   * The `warehouse` service this sink offers to steps of any plugin (SQL, checks,
   * exports), so they work on every warehouse without knowing which one it is.
   */
  warehouse?(ctx: WarehouseContext<SinkOptions>): Warehouse;
}

/** What a sink's `location` gets: one sink block, its options parsed. */
export interface SinkLocationInput<SinkOptions = Record<string, unknown>> {
  readonly options: SinkOptions;
  /** The id of the block's connection, if it names one (not its credentials). */
  readonly connection: string | undefined;
  readonly projectDir: string;
}

/** What a sink's `targetKey` gets: one stream's target in one sink block, parsed. */
export interface TargetKeyInput<SinkOptions = Record<string, unknown>, TargetOptions = Record<string, unknown>> {
  readonly stream: string;
  readonly target: TargetOptions;
  readonly options: SinkOptions;
}

export interface WarehouseContext<SinkOptions = Record<string, unknown>> {
  readonly sink: string;
  readonly options: SinkOptions;
  readonly connection: Connection | undefined;
  readonly projectDir: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

export interface TableDescription {
  /** Fully qualified, as the warehouse spells it. */
  readonly table: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows?: number;
}

export interface ExportQueryOptions {
  /** Named parameters of the query, written `$name`, as for query(). */
  readonly params?: Readonly<Record<string, string | number | boolean | null>>;
  /** Start a new file once one holds about this many bytes; one file when unset. */
  readonly maxFileBytes?: number;
}

/** A warehouse as steps see it. Every call opens what it needs and releases it before returning. */
export interface Warehouse {
  /** The SQL dialect, e.g. `duckdb` or `snowflake`, for steps that write dialect-specific SQL. */
  readonly dialect: string;
  /** Runs one statement; named parameters are written `$name`. Returns the rows as JSON values. */
  query(sql: string, params?: Readonly<Record<string, string | number | boolean | null>>): Promise<readonly JsonObject[]>;
  /** Runs several statements in one transaction: all take effect or none, where the warehouse allows it (Snowflake commits at each DDL statement). */
  execute(statements: readonly string[]): Promise<void>;
  /**
   * Writes the result of a query to `dir` (a local directory) as files of `format`, without
   * holding it in memory: `part-00000.<ext>`, `part-00001.<ext>`, ... in the query's order,
   * a new file once one reaches about `maxFileBytes`. Returns the files in that order.
   */
  exportQuery(sql: string, dir: string, format: "ndjson" | "csv" | "parquet", options?: ExportQueryOptions): Promise<readonly { path: string; rows: number }[]>;
  /** The table's columns and row count, or undefined when there is no such table. */
  describe(table: string): Promise<TableDescription | undefined>;
}

// ---------------------------------------------------------------- landing zones

export interface LandingDefinition {
  /** URI scheme served, e.g. `s3`. `file` is built in. */
  readonly scheme: string;
  readonly description: string;
  /** Whether `landing.connection` is required for this scheme. */
  readonly connection?: "required" | "optional";
  open(uri: string, connection: Connection | undefined): LandingStore;
}

// ---------------------------------------------------------------- steps

/**
 * A dataset as OpenLineage names it (https://openlineage.io/docs/spec/naming): where it
 * lives (`s3://bucket`, `snowflake://org-account`, `file`) and what it is there (an
 * object key, `DB.SCHEMA.TABLE`, a path).
 */
export interface DatasetName {
  readonly namespace: string;
  readonly name: string;
}

/** A dataset a step read or wrote, named by URI (`duckdb:///path/db.duckdb#main.orders`, `s3://b/k`). */
export interface DatasetRef {
  readonly uri: string;
  /** How OpenLineage names it, when the step knows (a load's table); else it is derived from `uri`. */
  readonly namespace?: string;
  readonly name?: string;
}

/** What a step reports: small enough for XCom, read by downstream `when:` conditions. */
export interface StepResult {
  readonly summary?: JsonObject;
  readonly reads?: readonly DatasetRef[];
  readonly writes?: readonly DatasetRef[];
  /** Ask for the task to end as skipped (its downstream tasks follow their trigger rules). */
  readonly skip?: string;
  /**
   * State to save (by key, as `ctx.state.set` would) once every task directly downstream of
   * this one has succeeded in the same run, or at once when none is. An export stages its
   * next watermark here, so it advances only after the deliveries of its files succeeded.
   */
  readonly state?: Readonly<Record<string, JsonObject>>;
  /**
   * Problems that do not fail the task (a check of severity `warn`): the task succeeds,
   * and the pipeline's `check_warning` alerts are sent with these lines.
   */
  readonly warnings?: readonly string[];
  /**
   * Fail the task, keeping the summary (a check of severity `fail` that did not hold): the
   * summary is saved and shown like a successful one, then the task fails with this error.
   * `code` is one of the plugin's own error codes.
   */
  readonly failure?: { readonly code: string; readonly message: string };
}

/** A task's outcome as downstream tasks and observers see it. */
export interface TaskSummary {
  readonly task: string;
  readonly step: string;
  /** `failed` only for a step that failed with its summary (StepResult.failure). */
  readonly state: "success" | "skipped" | "failed";
  readonly summary: JsonObject;
  readonly reads: readonly DatasetRef[];
  readonly writes: readonly DatasetRef[];
  readonly skipReason?: string;
  /** What the step reported as warnings (StepResult.warnings). */
  readonly warnings?: readonly string[];
  /** State the step staged (StepResult.state), not yet saved when the summary was written. */
  readonly stagedState?: Readonly<Record<string, JsonObject>>;
  /** Tells this staging apart from an earlier one of the same task in the same run (a cleared and re-run task). */
  readonly stageId?: string;
  /** The `stageId`s of the direct upstream tasks' staged state this task ran after. */
  readonly ranAfterStages?: Readonly<Record<string, string>>;
}

/** Saved stream state (cursors, watermarks): small JSON per pipeline and stream. */
export interface StreamState {
  readonly value: JsonObject;
  /** When it was saved, ISO 8601 UTC. */
  readonly savedAt: string;
  readonly runId: string;
  readonly logicalDate: string;
}

export interface StateStore {
  get(stream: string): Promise<StreamState | undefined>;
  /** Replaces the stream's state atomically. */
  set(stream: string, value: JsonObject, by: { runId: string; logicalDate: string }): Promise<void>;
  delete(stream: string): Promise<void>;
  /** The streams that have state, in code-point order. */
  list(): Promise<readonly string[]>;
}

/** Services other plugins offer to steps. */
export interface StepServices {
  /**
   * The warehouse behind a sink: `name` is a sink block's name; without it, the
   * pipeline's only sink. Fails with a clear error when that sink offers no warehouse.
   */
  warehouse(name?: string): Warehouse;
}

export interface StepContext<Options = Record<string, unknown>> {
  readonly pipeline: PipelineConfig;
  readonly projectDir: string;
  /** The full task id, e.g. `summarize` or `shop.load_orders`. */
  readonly taskId: string;
  /** The step's `with:` options, parsed and defaulted by its schema. */
  readonly options: Options;
  readonly connection: Connection | undefined;
  readonly window: DataWindow;
  readonly runId: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly landing: { readonly root: string; readonly store: LandingStore };
  readonly state: StateStore;
  /** Summaries of the tasks this one runs after, directly or not, by full task id. */
  readonly upstream: Readonly<Record<string, TaskSummary>>;
  /** The ids of the tasks this one runs directly after (its `after:`), a subset of `upstream`'s keys. */
  readonly after: readonly string[];
  readonly services: StepServices;
}

// `any` by default: the registry holds definitions of every option type side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface StepType<Options = any> {
  /** Referenced from the config as `uses:`; namespaced by convention (`sql.run`, `dbt.build`). */
  readonly id: string;
  readonly description: string;
  /** The step's `with:` block; the core parses it and hands `run` the result. */
  readonly options: OptionsSchema;
  /** Whether a connection is required (the step entry must then name one). */
  readonly connection?: "required" | "optional";
  /**
   * Whether `run` may ask for its task to end as skipped (StepResult.skip); default true.
   * Step types that never skip say false: their Airflow tasks then fail, rather than skip,
   * on every non-zero exit, and a skip they ask for anyway is an error.
   */
  readonly canSkip?: boolean;
  run(ctx: StepContext<Options>): Promise<StepResult>;
  /**
   * Where the step writes outside the landing zone, as one string (`sftp://partner/incoming/orders_{ds}.csv`),
   * from its parsed options and connection id: validation refuses two steps of a pipeline that
   * say the same, since the second would replace or mix with what the first delivered.
   * Without it, the step's destination is not checked.
   */
  destination?(input: { readonly options: Options; readonly connection: string | undefined }): string | undefined;
  /**
   * The tasks one configured step stands for, decided when the graph is built (validation,
   * DAG generation, and each task run), from its options and files of the project only, so
   * the graph stays deterministic. Undefined: the step is one task, as configured. The
   * tasks go in an Airflow task group named after the step, with ids `<step id>.<name>`;
   * each runs this step type with its own `with`. Throw an error with a code the plugin
   * declares when the step cannot be expanded; validation reports it at the step.
   */
  expand?(input: StepExpandInput<Options>): readonly ExpandedTask[] | undefined;
  /**
   * Set by the step type that runs a pipeline's `checks:` (one per project): the graph
   * adds a task of it after each checked stream's extract (options `CheckStepOptions`
   * with `at: pre_load`) and after its load (`at: post_load`).
   */
  readonly handles?: "checks";
  /**
   * The datasets the step reads and writes, from its options and the project's files only,
   * for `xo-foundry lineage` and the DAG's Airflow assets. Undefined: not known before it runs.
   */
  lineage?(input: StepExpandInput<Options>): { readonly reads: readonly DatasetName[]; readonly writes: readonly DatasetName[] } | undefined;
}

export interface StepExpandInput<Options = Record<string, unknown>> {
  /** The configured step's id: the group of the tasks. */
  readonly stepId: string;
  /** The step's `with:` block, parsed and defaulted by the step type's schema. */
  readonly options: Options;
  readonly pipeline: PipelineConfig;
  readonly projectDir: string;
}

/** One task of an expanded step. */
export interface ExpandedTask {
  /** `[a-z0-9_]`, unique within the step: the task id is `<step id>.<name>`. */
  readonly name: string;
  /** The task's options, in the form the step's `with:` takes (they are parsed again when it runs). */
  readonly with: JsonObject;
  /** Names of tasks of this expansion it runs after; a task with none runs after the step's own `after:`. */
  readonly upstream: readonly string[];
  readonly description?: string;
}

// ---------------------------------------------------------------- observers

export interface StepEvent {
  readonly pipeline: string;
  readonly task: string;
  readonly step: string;
  readonly runId: string;
  readonly logicalDate: string;
}

/** Watches steps without being one (lineage, metrics, alerts). A failing observer never fails a task. */
export interface Observer {
  readonly id: string;
  onStepStart?(event: StepEvent): void | Promise<void>;
  onStepEnd?(event: StepEvent & { readonly result: TaskSummary }): void | Promise<void>;
  onStepFailure?(event: StepEvent & { readonly diagnostics: readonly Diagnostic[] }): void | Promise<void>;
}

// ---------------------------------------------------------------- notifiers

/** When an `alerts:` entry sends. */
export const ALERT_EVENTS = ["failure", "retry", "pipeline_failure", "success", "check_warning", "deadline_missed"] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** One alert, as every channel renders it. Nothing in it is a secret: errors are redacted before they get here. */
export interface AlertMessage {
  readonly event: AlertEvent;
  readonly pipeline: string;
  readonly dagId: string;
  /** The task, for task events (failure, retry, check_warning). */
  readonly task?: string;
  readonly logicalDate: string;
  readonly runId: string;
  /** One line, e.g. `orders_daily: task load_orders failed (2026-01-15)`. */
  readonly title: string;
  /** What happened: the error summary, or the warnings, one per line. */
  readonly text: string;
  /** Where the log is: Airflow's log URL, or the local run's log hint. */
  readonly logUrl?: string;
}

export interface NotifyContext<Options = Record<string, unknown>> {
  /** The channel's block of the `alerts:` entry, parsed by its schema (without `connection`). */
  readonly options: Options;
  readonly connection: Connection | undefined;
  readonly message: AlertMessage;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/**
 * A keyword argument of an Airflow notifier. Strings are written as text that renders
 * to itself; `{ jinja }` is a template the core wrote (the message), rendered by Airflow
 * when the callback runs; `{ dict }` is a dict of such values (a JSON body).
 */
export type AirflowArgument =
  | string
  | number
  | boolean
  | null
  | readonly AirflowArgument[]
  | { readonly jinja: string }
  | { readonly dict: Readonly<Record<string, AirflowArgument>> };

/** The Airflow notifier that sends the same alert from a generated DAG. */
export interface AirflowNotifier {
  /** `from <module> import <name>`, e.g. `airflow.providers.slack.notifications.slack_webhook`. */
  readonly module: string;
  readonly name: string;
  readonly kwargs: Readonly<Record<string, AirflowArgument>>;
}

/** The message as Airflow templates, for AirflowNotifier kwargs. */
export interface AirflowMessage {
  readonly title: { readonly jinja: string };
  readonly text: { readonly jinja: string };
  /** The AlertMessage fields, as text or templates, for channels that send them as data (a webhook's JSON). */
  readonly fields: Readonly<Record<"event" | "pipeline" | "dag_id" | "task" | "logical_date" | "run_id" | "title" | "text" | "log_url", AirflowArgument>>;
}

// `any` by default: the registry holds definitions of every option type side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface NotifierDefinition<Options = any> {
  /** The key of an `alerts:` entry that selects it: `slack`, `email`, `webhook`. */
  readonly id: string;
  readonly description: string;
  /** Keys of its block next to `connection` (which the core owns). */
  readonly options: OptionsSchema;
  readonly connection?: "required" | "optional";
  /** Sends one alert (from `xo-foundry run`, and from tasks for `check_warning`). */
  send(ctx: NotifyContext<Options>): Promise<void>;
  /**
   * The Airflow notifier a generated DAG uses for the same alert (from the providers
   * installed with Airflow). `connection` is the Airflow connection id.
   */
  airflow(input: { readonly options: Options; readonly connection: string | undefined; readonly message: AirflowMessage }): AirflowNotifier;
}

// ---------------------------------------------------------------- templates

/** The step types every pipeline has: they run a source's stream and a sink's load. */
export const BUILTIN_STEPS = ["extract", "load"] as const;

/** One node of a pipeline's task graph; the same graph drives Airflow and `xo-foundry run`. */
export interface TaskSpec {
  /** The full task id: `[a-z0-9_]`, prefixed with `<group>.` when the task is in a group. */
  readonly id: string;
  /** A step type id: `extract`, `load` or a plugin's (`sql.run`). */
  readonly step: string;
  /** The step's options as configured (`with:`); the runtime parses them with the step's schema. */
  readonly with: JsonObject;
  readonly upstream: readonly string[];
  readonly triggerRule?: TriggerRule;
  readonly pool?: string;
  /** Airflow task group, one level; the id then starts with `<group>.`. */
  readonly group?: string;
  readonly when?: WhenCondition;
  /**
   * False when the task can end as skipped only through `when:` (its step type never
   * skips). Unset: the built-in extract and load never skip, plugin steps may.
   */
  readonly canSkip?: false;
  readonly connection?: string;
  /** The stream an extract or load task moves, for reports. */
  readonly stream?: string;
  /** Dataset URIs the task updates, declared to Airflow as assets (a load's table, a dbt model). */
  readonly outlets?: readonly string[];
  /** Shown in Airflow as the task's documentation. */
  readonly description?: string;
}

export interface TemplateDefinition {
  /** Referenced from the config as `template`. */
  readonly id: string;
  readonly description: string;
  /** The template a pipeline gets when it names none; one per project. */
  readonly isDefault?: boolean;
  /** Whether its pipelines need a source; default true. A pipeline of steps only (an export) needs none. */
  readonly needsSource?: boolean;
  /**
   * The pipeline's sources and sinks as tasks, in a stable order. The core adds the
   * config's `steps:` and renders any graph to Python; templates write no code.
   */
  tasks(pipeline: ResolvedPipeline): readonly TaskSpec[];
  /** Checks the pipeline's shape (e.g. "one source only"); messages name the config path. */
  check?(pipeline: ResolvedPipeline): readonly { readonly path: readonly (string | number)[]; readonly message: string }[];
}

/** A validated pipeline together with where it came from. */
export interface ResolvedPipeline {
  readonly config: PipelineConfig;
  /** Absolute path of the pipeline YAML file. */
  readonly file: string;
  /** The project root (where `xo-foundry.yaml` is, else the file's directory). */
  readonly projectDir: string;
  /** The pipeline file relative to `projectDir`, with `/` separators. */
  readonly relativeFile: string;
  /** sha256 of the canonical JSON of `config` (after defaults were merged). */
  readonly configHash: string;
}

export function definePlugin(plugin: Omit<XoPlugin, "kind" | "apiVersion"> & { apiVersion?: number }): XoPlugin {
  return { kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, ...plugin };
}
