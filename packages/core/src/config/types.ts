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
  readonly streams: readonly StreamConfig[];
  readonly [option: string]: unknown;
}

export interface SinkBlock {
  readonly plugin: string;
  readonly connection?: string;
  readonly [option: string]: unknown;
}

export interface RunnerBlock {
  readonly type: "bash";
  /** The command that starts the CLI on an Airflow worker. */
  readonly command: string;
}

export interface PipelineConfig {
  readonly pipeline: PipelineBlock;
  readonly template: string;
  readonly source: SourceBlock;
  readonly landing: { readonly uri: string };
  readonly sink: SinkBlock;
  readonly runner: RunnerBlock;
}

/** Keys the core owns in blocks that plugins extend; plugins may not declare them. */
export const RESERVED_SOURCE_KEYS = ["plugin", "connection", "streams"] as const;
export const RESERVED_STREAM_KEYS = ["name", "target"] as const;
export const RESERVED_SINK_KEYS = ["plugin", "connection"] as const;

/** Splits plugin options from the keys the core owns. */
export function pluginOptions(block: Readonly<Record<string, unknown>>, reserved: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(block).filter(([k]) => !reserved.includes(k)));
}
