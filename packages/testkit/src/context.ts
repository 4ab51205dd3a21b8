import { dataWindow, silentLogger, type LoadStrategy, type PipelineConfig, type StepContext, type StreamConfig } from "@xo-foundry/core";

export interface StepContextOverrides {
  readonly projectDir?: string;
  readonly stream?: Partial<StreamConfig> & { name: string };
  readonly strategy?: LoadStrategy;
  readonly logicalDate?: string;
  readonly timezone?: string;
  readonly runId?: string;
  readonly signal?: AbortSignal;
  readonly pipeline?: Partial<PipelineConfig>;
}

/** A complete StepContext for unit-testing a source or sink outside the runtime. */
export function stepContext(overrides: StepContextOverrides = {}): StepContext {
  const strategy = overrides.strategy ?? "incremental";
  const stream = { target: {}, ...(overrides.stream ?? { name: "items" }) } as StreamConfig;
  const timezone = overrides.timezone ?? "UTC";
  const pipeline: PipelineConfig = {
    pipeline: {
      name: "test_pipeline",
      dag_id: "test_pipeline",
      schedule: "@daily",
      start_date: "2026-01-01",
      catchup: false,
      owner: "test",
      tags: [],
      retries: 0,
      retry_delay_minutes: 1,
      timezone,
      load_strategy: strategy,
      lookback_days: 7,
      max_active_runs: 1,
      airflow_version: 3,
    },
    template: "ingest",
    source: { plugin: "test", streams: [stream] },
    landing: { uri: "file://.xo-foundry/landing" },
    sink: { plugin: "test" },
    runner: { type: "bash", command: "xo-foundry" },
    ...overrides.pipeline,
  };
  return {
    pipeline,
    projectDir: overrides.projectDir ?? process.cwd(),
    stream,
    strategy,
    window: dataWindow(overrides.logicalDate ?? "2026-01-15", strategy, timezone, 7),
    runId: overrides.runId ?? "test__2026-01-15",
    log: silentLogger,
    signal: overrides.signal ?? new AbortController().signal,
  };
}
