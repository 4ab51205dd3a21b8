import { fileURLToPath } from "node:url";
import {
  dataWindow,
  silentLogger,
  xoError,
  type Connection,
  type ExtractContext,
  type JsonObject,
  type KubernetesRunner,
  type LandingStore,
  type LoadContext,
  type Manifest,
  type LoadStrategy,
  type PipelineConfig,
  type StateStore,
  type StepContext,
  type StepServices,
  type StreamConfig,
  type StreamContext,
  type StreamState,
  type TaskSummary,
  type Warehouse,
} from "@xo-foundry/core";

export interface StreamContextOverrides {
  readonly projectDir?: string;
  readonly stream?: Partial<StreamConfig> & { name: string };
  readonly strategy?: LoadStrategy;
  readonly logicalDate?: string;
  readonly timezone?: string;
  readonly runId?: string;
  readonly signal?: AbortSignal;
  readonly pipeline?: Partial<PipelineConfig>;
}

/** A complete, defaulted pipeline config with one stream, as the core hands it to plugins. */
export function testPipelineConfig(overrides: StreamContextOverrides = {}): PipelineConfig {
  const strategy = overrides.strategy ?? "incremental";
  const stream = { target: {}, ...(overrides.stream ?? { name: "items" }) } as StreamConfig;
  return {
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
      timezone: overrides.timezone ?? "UTC",
      load_strategy: strategy,
      lookback_days: 7,
      max_active_runs: 1,
      airflow_version: 3,
    },
    template: "ingest",
    sources: { main: { plugin: "test", streams: [stream] } },
    landing: { uri: "file://.xo-foundry/landing" },
    sinks: { main: { plugin: "test" } },
    steps: [],
    runner: { type: "bash", command: "xo-foundry" },
    checks: {},
    alerts: [],
    ...overrides.pipeline,
  } as PipelineConfig;
}

/** A complete StreamContext for unit-testing a source's `extract` or a sink's `load` outside the runtime. */
export function streamContext(overrides: StreamContextOverrides = {}): StreamContext {
  const pipeline = testPipelineConfig(overrides);
  const strategy = pipeline.pipeline.load_strategy;
  return {
    pipeline,
    projectDir: overrides.projectDir ?? process.cwd(),
    stream: pipeline.sources.main?.streams[0] ?? ({ name: "items", target: {} } as StreamConfig),
    strategy,
    window: dataWindow(overrides.logicalDate ?? "2026-01-15", strategy, pipeline.pipeline.timezone, 7),
    runId: overrides.runId ?? "test__2026-01-15",
    log: silentLogger,
    signal: overrides.signal ?? new AbortController().signal,
  };
}

/** A state store in memory, for steps and sources under test. */
export function memoryStateStore(initial: Readonly<Record<string, JsonObject>> = {}): StateStore & { readonly saved: Map<string, StreamState> } {
  const saved = new Map<string, StreamState>(
    Object.entries(initial).map(([stream, value]) => [stream, { value, savedAt: "2026-01-01T00:00:00.000Z", runId: "initial", logicalDate: "2026-01-01" }]),
  );
  return {
    saved,
    get: async (stream) => saved.get(stream),
    set: async (stream, value, by) => void saved.set(stream, { value, savedAt: new Date().toISOString(), ...by }),
    delete: async (stream) => void saved.delete(stream),
    list: async () => [...saved.keys()].sort(),
  };
}

export interface StepContextOverrides<Options> extends StreamContextOverrides {
  readonly options: Options;
  readonly taskId?: string;
  readonly upstream?: Readonly<Record<string, TaskSummary>>;
  /** The tasks the step runs directly after; every upstream task by default. */
  readonly after?: readonly string[];
  /** The warehouses `services.warehouse(name)` returns; `main` is the default sink's. */
  readonly warehouses?: Readonly<Record<string, Warehouse>>;
  readonly landing?: { readonly root: string; readonly store: LandingStore };
  readonly state?: StateStore;
  /** The step's connection (a step type with `connection: "required"` gets one). */
  readonly connection?: Connection;
}

/** A complete StepContext for unit-testing a step type's `run` outside the runtime. */
export function stepContext<Options>(overrides: StepContextOverrides<Options>): StepContext<Options> {
  const base = streamContext(overrides);
  const warehouses = overrides.warehouses ?? {};
  const services: StepServices = {
    warehouse(name = "main") {
      const found = warehouses[name];
      if (!found) throw xoError("XO_WAREHOUSE_UNAVAILABLE", { sink: name, plugin: "@xo-foundry/testkit", available: Object.keys(warehouses) });
      return found;
    },
  };
  return {
    pipeline: base.pipeline,
    projectDir: base.projectDir,
    taskId: overrides.taskId ?? "step_under_test",
    options: overrides.options,
    connection: overrides.connection,
    window: base.window,
    runId: base.runId,
    log: base.log,
    signal: base.signal,
    landing: overrides.landing ?? {
      root: "file:///nonexistent-landing",
      store: new Proxy({} as LandingStore, {
        get: () => () => Promise.reject(new Error("this test gave the step no landing store (pass `landing`)")),
      }),
    },
    state: overrides.state ?? memoryStateStore(),
    upstream: overrides.upstream ?? {},
    after: overrides.after ?? Object.keys(overrides.upstream ?? {}),
    services,
  };
}

export interface ExtractContextInput extends StreamContextOverrides {
  /** The source block's options, raw as a user writes them (the source applies its own defaults). */
  readonly options?: Record<string, unknown>;
  /** The stream entry's options, raw, without `name` and `target`. */
  readonly streamOptions?: Record<string, unknown>;
  readonly connection?: Connection;
  readonly state?: JsonObject;
  readonly plugin?: string;
}

/** A complete ExtractContext for calling a source's `extract` outside the runtime. */
export function extractContext(input: ExtractContextInput = {}): ExtractContext {
  const name = input.stream?.name ?? "items";
  const stream = { ...(input.streamOptions ?? {}), ...(input.stream ?? {}), name, target: input.stream?.target ?? {} } as StreamConfig;
  const base = streamContext({ ...input, stream });
  const pipeline: PipelineConfig = {
    ...base.pipeline,
    sources: {
      main: {
        plugin: input.plugin ?? "test",
        ...(input.options ?? {}),
        ...(input.connection ? { connection: input.connection.id } : {}),
        streams: [stream],
      },
    },
  };
  return {
    ...base,
    pipeline,
    stream,
    source: "main",
    options: input.options ?? {},
    streamOptions: input.streamOptions ?? {},
    connection: input.connection,
    state: input.state,
  };
}

export interface LoadContextInput extends StreamContextOverrides {
  readonly manifest: Manifest;
  /** The sink block's options, raw. */
  readonly options?: Record<string, unknown>;
  /** The stream's `target:` block, raw. */
  readonly target?: Record<string, unknown>;
  readonly connection?: Connection;
  readonly plugin?: string;
}

/** A complete LoadContext for calling a sink's `load` outside the runtime; files are local `file://` URIs. */
export function loadContext(input: LoadContextInput): LoadContext {
  const m = input.manifest;
  const target = input.target ?? {};
  const base = streamContext({
    ...input,
    stream: { name: m.stream, target },
    strategy: input.strategy ?? m.strategy,
    logicalDate: input.logicalDate ?? m.logicalDate,
    runId: input.runId ?? m.runId,
  });
  const pipeline: PipelineConfig = {
    ...base.pipeline,
    sinks: { main: { plugin: input.plugin ?? "test", ...(input.options ?? {}), ...(input.connection ? { connection: input.connection.id } : {}) } },
  };
  return {
    ...base,
    pipeline,
    sink: "main",
    options: input.options ?? {},
    target,
    connection: input.connection,
    manifest: m,
    localPath: async (file) => {
      if (!file.uri.startsWith("file:")) throw new Error(`loadContext serves local files only, not ${file.uri}`);
      return fileURLToPath(file.uri);
    },
  };
}

/** A kubernetes runner with the schema's defaults filled in, as the core hands it to templates. */
export function kubernetesRunner(options: Partial<Omit<KubernetesRunner, "type">> = {}): KubernetesRunner {
  return {
    type: "kubernetes",
    image: "registry.example.com/pipelines:1.0.0",
    namespace: "default",
    command: ["xo-foundry"],
    resources: { requests: {}, limits: {} },
    env: {},
    labels: {},
    get_logs: true,
    on_finish_action: "delete_pod",
    ...options,
  };
}
