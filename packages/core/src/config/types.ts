/** The validated shape of one pipeline file after project defaults were merged in. */
import type { AlertEntry, CheckSpec, Deadline } from "./quality.js";

export const LOAD_STRATEGIES = ["full_refresh", "incremental", "historical"] as const;
export type LoadStrategy = (typeof LOAD_STRATEGIES)[number];

export interface PipelineBlock {
  readonly name: string;
  readonly dag_id: string;
  readonly description?: string;
  /** Cron expression, Airflow preset (`@daily`), datasets to wait for, or null for manual-only. */
  readonly schedule: string | null | { readonly assets: readonly string[] };
  readonly start_date: string;
  readonly end_date?: string;
  readonly catchup: boolean;
  readonly owner: string;
  readonly tags: readonly string[];
  readonly retries: number;
  readonly retry_delay_minutes: number;
  readonly timezone: string;
  readonly load_strategy: LoadStrategy;
  /** Days covered by one run of the `historical` strategy, ending at the logical date. */
  readonly lookback_days: number;
  readonly max_active_runs: number;
  readonly airflow_version: 2 | 3;
}

/** `ingest_only`: the stream's files are landed and kept, and no load task runs. */
export const STREAM_MODES = ["full", "ingest_only"] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

export interface StreamConfig {
  readonly name: string;
  /** `full` when unset. */
  readonly mode?: StreamMode;
  /** Sink-specific per-stream options, validated by the sink's `target` schema. */
  readonly target: Readonly<Record<string, unknown>>;
  /** Source-specific per-stream options. */
  readonly [option: string]: unknown;
}

export interface SourceBlock {
  readonly plugin: string;
  readonly connection?: string;
  /** Airflow pool the extract tasks run in, e.g. to keep a rate-limited API to one request at a time. */
  readonly pool?: string;
  /** The sink block its streams load into; optional when the pipeline has one sink. */
  readonly sink?: string;
  readonly streams: readonly StreamConfig[];
  readonly [option: string]: unknown;
}

export interface SinkBlock {
  readonly plugin: string;
  readonly connection?: string;
  /** Airflow pool the load tasks run in. */
  readonly pool?: string;
  readonly [option: string]: unknown;
}

/** Airflow trigger rules that Airflow 2.9+ and 3 both accept; `xo-foundry run` follows the same rules. */
export const TRIGGER_RULES = [
  "all_success",
  "all_failed",
  "all_done",
  "all_skipped",
  "one_success",
  "one_failed",
  "one_done",
  "none_failed",
  "none_failed_min_one_success",
  "none_skipped",
  "always",
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const COMPARISONS = ["==", "!=", ">", ">=", "<", "<="] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** A comparison on a field of an upstream task's summary, e.g. `load_orders` `rowsLoaded` `>` `0`. */
export interface SummaryCondition {
  readonly task: string;
  /** Dotted path into the summary, e.g. `rowsLoaded` or `stats.max`. */
  readonly field: string;
  readonly op: Comparison;
  readonly value: string | number | boolean | null;
}

/** Checked when the task starts; when any part is false the task ends as skipped. */
export interface WhenCondition {
  /** The logical date's day of the week. */
  readonly weekday?: readonly Weekday[];
  /** The logical date's day of the month; -1 is the last day. */
  readonly day_of_month?: readonly number[];
  readonly summary?: readonly SummaryCondition[];
}

/** One `steps:` entry: a task of a step type, placed in the graph by `after`. */
export interface StepEntry {
  readonly id: string;
  readonly uses: string;
  readonly description?: string;
  readonly with: Readonly<Record<string, unknown>>;
  /** Task ids or globs (`load_*`, `shop.*`) this step runs after. */
  readonly after: readonly string[];
  readonly trigger_rule?: TriggerRule;
  readonly pool?: string;
  readonly connection?: string;
  readonly when?: WhenCondition;
}

export const IMAGE_PULL_POLICIES = ["IfNotPresent", "Always", "Never"] as const;
export type ImagePullPolicy = (typeof IMAGE_PULL_POLICIES)[number];
export const POD_FINISH_ACTIONS = ["delete_pod", "delete_succeeded_pod", "keep_pod"] as const;
export type PodFinishAction = (typeof POD_FINISH_ACTIONS)[number];

/**
 * Environment variables every generated task gets from xo-foundry itself; a runner's
 * `env` may not set them, because it would silently replace the run's date, run id
 * or a connection.
 */
export const RUNNER_ENV_RESERVED = ["XO_LOGICAL_DATE", "XO_RUN_ID"] as const;
export const RUNNER_ENV_RESERVED_PREFIX = "XO_CONN_";

export function isReservedRunnerEnv(name: string): boolean {
  return (RUNNER_ENV_RESERVED as readonly string[]).includes(name) || name.startsWith(RUNNER_ENV_RESERVED_PREFIX);
}

/** Each task is a BashOperator on an Airflow worker that has the project installed. */
export interface BashRunner {
  readonly type: "bash";
  /** The command that starts the CLI on an Airflow worker. */
  readonly command: string;
}

/** Kubernetes resource quantities, such as `500m` CPU or `1Gi` memory. */
export interface PodResourceQuantities {
  readonly cpu?: string | undefined;
  readonly memory?: string | undefined;
}

/** Each task is a KubernetesPodOperator: one pod per task run, from an image with the project. */
export interface KubernetesRunner {
  readonly type: "kubernetes";
  readonly image: string;
  readonly namespace: string;
  /** The entrypoint inside the image; the task's arguments follow it. */
  readonly command: readonly string[];
  readonly image_pull_policy?: ImagePullPolicy | undefined;
  readonly service_account_name?: string | undefined;
  readonly resources: { readonly requests: PodResourceQuantities; readonly limits: PodResourceQuantities };
  /** Plain, non-secret variables for the pod; credentials come from Airflow connections. */
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly startup_timeout_seconds?: number | undefined;
  readonly kubernetes_conn_id?: string | undefined;
  readonly in_cluster?: boolean | undefined;
  readonly config_file?: string | undefined;
  readonly get_logs: boolean;
  readonly on_finish_action: PodFinishAction;
}

export type RunnerBlock = BashRunner | KubernetesRunner;

/**
 * A validated pipeline. The `source:` and `sink:` shorthands are normalized into the
 * named maps under the name `main`, so every consumer reads `sources` and `sinks`.
 */
export interface PipelineConfig {
  readonly pipeline: PipelineBlock;
  readonly template: string;
  readonly sources: Readonly<Record<string, SourceBlock>>;
  readonly landing: { readonly uri: string; readonly connection?: string };
  readonly sinks: Readonly<Record<string, SinkBlock>>;
  readonly steps: readonly StepEntry[];
  readonly runner: RunnerBlock;
  /** Data quality checks per stream name. */
  readonly checks: Readonly<Record<string, readonly CheckSpec[]>>;
  readonly alerts: readonly AlertEntry[];
  readonly deadline?: Deadline;
}

/** The name the `source:` and `sink:` shorthands get in `sources` and `sinks`. */
export const SHORTHAND_NAME = "main";

/** Keys the core owns in blocks that plugins extend; plugins may not declare them. */
export const RESERVED_SOURCE_KEYS = ["plugin", "connection", "pool", "sink", "streams"] as const;
export const RESERVED_STREAM_KEYS = ["name", "mode", "target"] as const;
export const RESERVED_SINK_KEYS = ["plugin", "connection", "pool"] as const;

/** Splits plugin options from the keys the core owns. */
export function pluginOptions(block: Readonly<Record<string, unknown>>, reserved: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(block).filter(([k]) => !reserved.includes(k)));
}

/** A stream with the source it belongs to and the sink it loads into. */
export interface StreamRoute {
  readonly source: string;
  readonly sink: string;
  readonly stream: StreamConfig;
}

/**
 * Every stream of the pipeline, in the order the sources and streams were written.
 * Stream names are unique across sources (validation enforces it), so a stream name
 * alone names its landing path and state.
 */
export function pipelineStreams(config: PipelineConfig): StreamRoute[] {
  const sinks = Object.keys(config.sinks);
  return Object.entries(config.sources).flatMap(([source, block]) =>
    block.streams.map((stream) => ({ source, sink: block.sink ?? sinks[0]!, stream })),
  );
}

export function findStream(config: PipelineConfig, name: string): StreamRoute | undefined {
  return pipelineStreams(config).find((r) => r.stream.name === name);
}

/** Every connection a pipeline names (sources, landing, sinks, steps), each once, in code-point order. */
export function pipelineConnections(config: PipelineConfig): string[] {
  const ids = [
    ...Object.values(config.sources).map((s) => s.connection),
    config.landing.connection,
    ...Object.values(config.sinks).map((s) => s.connection),
    ...config.steps.map((s) => s.connection),
    ...config.alerts.map((a) => a.connection),
  ].filter((id): id is string => id !== undefined);
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
