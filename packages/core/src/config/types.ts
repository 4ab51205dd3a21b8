/** The validated shape of one pipeline file after project defaults were merged in. */

export const LOAD_STRATEGIES = ["full_refresh", "incremental", "historical"] as const;
export type LoadStrategy = (typeof LOAD_STRATEGIES)[number];

export interface PipelineBlock {
  readonly name: string;
  readonly dag_id: string;
  readonly description?: string;
  /** Cron expression, Airflow preset (`@daily`), or null for manual-only. */
  readonly schedule: string | null;
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

export interface StreamConfig {
  readonly name: string;
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

export interface PipelineConfig {
  readonly pipeline: PipelineBlock;
  readonly template: string;
  readonly source: SourceBlock;
  readonly landing: { readonly uri: string; readonly connection?: string };
  readonly sink: SinkBlock;
  readonly runner: RunnerBlock;
}

/** Keys the core owns in blocks that plugins extend; plugins may not declare them. */
export const RESERVED_SOURCE_KEYS = ["plugin", "connection", "pool", "streams"] as const;
export const RESERVED_STREAM_KEYS = ["name", "target"] as const;
export const RESERVED_SINK_KEYS = ["plugin", "connection", "pool"] as const;

/** Splits plugin options from the keys the core owns. */
export function pluginOptions(block: Readonly<Record<string, unknown>>, reserved: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(block).filter(([k]) => !reserved.includes(k)));
}

/** Every connection a pipeline names (source, landing, sink), each once, in code-point order. */
export function pipelineConnections(config: PipelineConfig): string[] {
  const ids = [config.source.connection, config.landing.connection, config.sink.connection].filter((id): id is string => id !== undefined);
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
