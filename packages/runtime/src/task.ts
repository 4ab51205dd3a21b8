/**
 * One task of a pipeline, as an Airflow task runs it: check its `when:`, resolve what
 * its step needs (plugin, options, connection, landing zone, state, upstream
 * summaries), call the plugin through the driver, and record a small summary.
 * `xo-foundry task` and `xo-foundry run` both come through here, so local runs
 * behave exactly like Airflow runs.
 */
import { randomUUID } from "node:crypto";
import {
  ancestorSets,
  dataWindow,
  datasetUri,
  pluginDiagnostic,
  redact,
  streamTable,
  XoError,
  findStream,
  landingPaths,
  partitionSegment,
  pluginOptions,
  requireGraph,
  resolveConnection,
  xoError,
  RESERVED_SINK_KEYS,
  type JsonObject,
  type LandingStore,
  type LoadResult,
  type Logger,
  type Manifest,
  type Project,
  type ResolvedPipeline,
  type StepEvent,
  type StepResult,
  type StreamContext,
  type TaskSpec,
  type TaskSummary,
  type XoPlugin,
} from "@xo-foundry/core";
import { sendAlerts } from "./alerts.js";
import { lineageEmitter } from "./lineage.js";
import { callHook, callHookSync, notify } from "./driver.js";
import { runExtract, streamContext } from "./extract.js";
import { openLanding } from "./landing.js";
import { acquirePartitionLock, lockTiming, type HeldLock } from "./lock.js";
import { readPartition } from "./partition.js";
import { loadAmount, taskProgress, type ProgressListener, type TaskProgress } from "./progress.js";
import { stepServices } from "./services.js";
import { landingStateStore } from "./state.js";
import { summaryStore } from "./summaries.js";
import { checkWhen } from "./when.js";

export interface TaskRequest {
  readonly pipeline: ResolvedPipeline;
  readonly project: Project;
  readonly taskId: string;
  /** `YYYY-MM-DD`. */
  readonly logicalDate: string;
  readonly runId: string;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Told when the task starts and ends, to show its progress in between. */
  readonly progress?: ProgressListener;
}

/** What a task did: its summary, and for extracts and loads what moved. */
export interface TaskOutcome extends TaskSummary {
  /** Why a step failed with its summary (StepResult.failure). */
  readonly failure?: { readonly code: string; readonly message: string };
  readonly stream?: string;
  /** The sink a load task loaded into. */
  readonly sink?: string;
  readonly manifest?: Manifest;
  readonly load?: LoadResult;
}

/** The pipeline's task graph: its template's tasks and its `steps:`. */
export function pipelineTasks(pipeline: ResolvedPipeline, project: Project): readonly TaskSpec[] {
  const id = pipeline.config.template;
  const template = project.registry.template(id);
  if (!template) {
    const { available, suggestion } = project.registry.suggest("template", id);
    throw xoError("XO_PLUGIN_UNKNOWN", { what: "template", id, available, suggestion });
  }
  return callHookSync(project.registry.ownerOf("template", id)!, "tasks", "(graph)", () => requireGraph(pipeline, template, project.registry));
}

export async function runTask(request: TaskRequest): Promise<TaskOutcome> {
  const { pipeline, project, taskId } = request;
  const config = pipeline.config;
  const tasks = pipelineTasks(pipeline, project);
  const task = tasks.find((t) => t.id === taskId);
  if (!task) throw xoError("XO_TASK_UNKNOWN", { task: taskId, available: tasks.map((t) => t.id) });

  const env = request.env ?? process.env;
  const log = request.log.child(task.id);
  const signal = request.signal ?? new AbortController().signal;
  const { root: landingRoot, store: landing, owner: landingOwner } = openLanding(pipeline, project, env, task.id);
  const summaries = summaryStore(landing, landingRoot, config.pipeline.name, request.runId);
  const state = landingStateStore(landing, landingRoot, config.pipeline.name);
  const upstream = await upstreamSummaries(task, tasks, summaries);
  const event: StepEvent = { pipeline: config.pipeline.name, task: task.id, step: task.step, runId: request.runId, logicalDate: request.logicalDate };
  const observers = project.registry.observers();
  const observe = (hook: "onStepStart" | "onStepEnd" | "onStepFailure", call: (o: (typeof observers)[number]) => void | Promise<void>) =>
    Promise.all(observers.map((o) => notify(project.registry.ownerOf("observer", o.id)!, hook, task.id, log, () => call(o))));

  const verdict = checkWhen(task.when, task.id, request.logicalDate, upstream);
  if (!verdict.run) {
    log.info(`skipped: ${verdict.reason}`);
    const skipped: TaskOutcome = { ...baseSummary(task), state: "skipped", skipReason: verdict.reason };
    await summaries.write(summaryOf(skipped));
    await observe("onStepEnd", (o) => o.onStepEnd?.({ ...event, result: summaryOf(skipped) }));
    return skipped;
  }

  await observe("onStepStart", (o) => o.onStepStart?.(event));
  const lineage = lineageEmitter({ env, log, pipeline, runId: request.runId, logicalDate: request.logicalDate, registry: project.registry });
  await lineage.start(task.id);
  const window = dataWindow(request.logicalDate, config.pipeline.load_strategy, config.pipeline.timezone, config.pipeline.lookback_days);
  const waitsForLock = task.step === "extract" || task.step === "load";
  const progress = taskProgress(task.id, task.step, waitsForLock ? "waiting" : "running");
  const shared: Shared = { request, task, env, log, signal, window, landing, landingRoot, landingOwner, state, upstream, progress };
  let outcome: TaskOutcome;
  request.progress?.taskStarted(progress);
  try {
    outcome =
      task.step === "extract" ? await extractTask(shared) : task.step === "load" ? await loadTask(shared) : await pluginStep(shared);
  } catch (e) {
    const diagnostics = (e as { diagnostics?: [] }).diagnostics ?? [];
    await lineage.fail(task.id, (diagnostics as { message: string }[]).map((d) => d.message).join("\n") || String((e as Error).message));
    await observe("onStepFailure", (o) => o.onStepFailure?.({ ...event, diagnostics }));
    throw e;
  } finally {
    request.progress?.taskEnded(progress);
  }
  const stages = Object.fromEntries(task.upstream.flatMap((id) => (upstream[id]?.stageId !== undefined ? [[id, upstream[id].stageId]] : [])));
  if (Object.keys(stages).length > 0) outcome = { ...outcome, ranAfterStages: stages };
  await summaries.write(summaryOf(outcome));
  if (outcome.warnings?.length) {
    for (const w of outcome.warnings) log.warn(w);
    // Airflow has no "succeeded with warnings" to call back on: the task sends these itself.
    await sendAlerts(
      { config, project, env, log, signal },
      { event: "check_warning", task: task.id, logicalDate: request.logicalDate, runId: request.runId, lines: outcome.warnings, ...logUrl(env) },
    );
  }
  if (outcome.state === "failed") {
    const error = stepFailure(project.registry.ownerOf("step", task.step), task.id, outcome);
    await lineage.fail(task.id, outcome.failure!.message, outcome);
    await observe("onStepFailure", (o) => o.onStepFailure?.({ ...event, diagnostics: error.diagnostics }));
    throw error;
  }
  if (outcome.state === "success") await saveStagedState(shared, tasks, outcome, summaries);
  await lineage.complete(task.id, summaryOf(outcome));
  await observe("onStepEnd", (o) => o.onStepEnd?.({ ...event, result: summaryOf(outcome) }));
  return outcome;
}

/** The Airflow log of this try, which generated DAGs pass to each task. */
function logUrl(env: NodeJS.ProcessEnv): { logUrl?: string } {
  return env.XO_LOG_URL ? { logUrl: env.XO_LOG_URL } : {};
}

/** The error of a step that failed with its summary, carrying that outcome for reports. */
export class StepFailure extends XoError {
  constructor(
    diagnostics: ConstructorParameters<typeof XoError>[0],
    readonly outcome: TaskOutcome,
  ) {
    super(diagnostics);
  }
}

function stepFailure(owner: XoPlugin | undefined, taskId: string, outcome: TaskOutcome): StepFailure {
  const { code, message } = outcome.failure!;
  const plugin = owner ? `${owner.name}@${owner.version}` : outcome.step;
  const known = code.startsWith("XO_") || owner?.errors?.[code] !== undefined;
  return new StepFailure(
    pluginDiagnostic({
      code: known ? code : "XO_STEP_FAILED",
      message: `task ${JSON.stringify(taskId)} failed in ${plugin}: ${redact(message)}`,
      hint: owner?.errors?.[code],
      plugin,
      task: taskId,
    }),
    outcome,
  );
}

/**
 * Saves the state that this task, or a task directly upstream of it, staged, once every task
 * directly downstream of the stager has succeeded in this run after this staging (at once
 * when it has none). Each task writes its summary before it looks, so of two that finish
 * together at least the later one sees both; saving the same value twice is harmless. A
 * downstream summary left from before the stager was cleared and re-run names an older
 * stage id, and does not count.
 */
async function saveStagedState(s: Shared, tasks: readonly TaskSpec[], outcome: TaskOutcome, summaries: ReturnType<typeof summaryStore>): Promise<void> {
  const stagers: [string, TaskSummary][] = [
    ...(outcome.stagedState ? [[s.task.id, outcome] as [string, TaskSummary]] : []),
    ...s.task.upstream.flatMap((id) => (s.upstream[id]?.stagedState && s.upstream[id].state === "success" ? [[id, s.upstream[id]] as [string, TaskSummary]] : [])),
  ];
  for (const [id, summary] of stagers) {
    const downstream = tasks.filter((t) => t.upstream.includes(id)).map((t) => t.id);
    const done = await Promise.all(downstream.map((d) => (d === s.task.id ? Promise.resolve(summaryOf(outcome)) : summaries.read(d))));
    const waiting = downstream.filter((_, i) => done[i]?.state !== "success" || done[i]?.ranAfterStages?.[id] !== summary.stageId);
    if (waiting.length > 0) {
      s.log.debug(`state staged by ${id} waits for ${waiting.join(", ")}`);
      continue;
    }
    for (const [key, value] of Object.entries(summary.stagedState!)) {
      await s.state.set(key, value, { runId: s.request.runId, logicalDate: s.request.logicalDate });
      s.log.info(`saved state ${key}${id === s.task.id ? "" : ` staged by ${id}`}`, { state: value });
    }
  }
}

/** What every step of one task shares. */
interface Shared {
  readonly request: TaskRequest;
  readonly task: TaskSpec;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly window: ReturnType<typeof dataWindow>;
  readonly landing: LandingStore;
  readonly landingRoot: string;
  readonly landingOwner: XoPlugin | undefined;
  readonly state: ReturnType<typeof landingStateStore>;
  readonly upstream: Readonly<Record<string, TaskSummary>>;
  readonly progress: TaskProgress;
}

/**
 * Runs `fn` holding the lock of the stream's partition (ADR 8): extract and load
 * tasks of other runs of the same pipeline, stream and partition wait, so no run
 * deletes or republishes files another is writing or loading. `fn` gets a signal
 * that also aborts when the lock is lost.
 */
async function withPartitionLock<T>(s: Shared, stream: string, fn: (locked: Shared, lock: HeldLock) => Promise<T>): Promise<T> {
  const config = s.request.pipeline.config;
  const strategy = config.pipeline.load_strategy;
  const viaLanding = <R>(call: () => Promise<R>) => (s.landingOwner ? callHook(s.landingOwner, "lock", s.task.id, call) : call());
  const lock = await viaLanding(() =>
    acquirePartitionLock({
      store: s.landing,
      landingRoot: s.landingRoot,
      owner: { pipeline: config.pipeline.name, stream, partition: `${strategy}/${partitionSegment(strategy, s.window)}`, runId: s.request.runId, task: s.task.id },
      timing: lockTiming(s.env),
      log: s.log,
      signal: s.signal,
    }),
  );
  try {
    return await fn({ ...s, signal: AbortSignal.any([s.signal, lock.signal]) }, { ...lock, check: () => viaLanding(() => lock.check()) });
  } finally {
    await lock.release();
  }
}

async function extractTask(s: Shared): Promise<TaskOutcome> {
  const { pipeline, project } = s.request;
  const config = pipeline.config;
  const sourceName = String(s.task.with.source);
  const route = findStream(config, String(s.task.with.stream));
  if (!route || route.source !== sourceName) throw xoError("XO_TASK_UNKNOWN", { task: s.task.id, available: [] });
  const block = config.sources[sourceName]!;
  const source = project.registry.source(block.plugin)!;
  const owner = project.registry.ownerOf("source", source.id)!;
  const connection = block.connection ? resolveConnection(block.connection, s.env) : undefined;
  const manifest = await withPartitionLock(s, route.stream.name, async (locked, lock) => {
    // Read under the lock: a load of this partition that was saving its cursor has finished.
    const saved = await locked.state.get(route.stream.name);
    locked.progress.phase = "extracting";
    return callHook(owner, "extract", locked.task.id, () =>
      runExtract({
        ...streamFor(locked, route.stream),
        sourceName,
        source,
        connection,
        landing: locked.landing,
        landingRoot: locked.landingRoot,
        state: saved?.value,
        lock,
        progress: locked.progress,
      }),
    );
  });
  s.log.info(`landed ${manifest.rows} rows in ${manifest.files.length} file(s)`, { partition: manifest.partition });
  return {
    ...baseSummary(s.task),
    state: "success",
    summary: { rows: manifest.rows, files: manifest.files.length, bytes: manifest.bytes, partition: manifest.partition },
    writes: [{ uri: manifest.partition }],
    stream: route.stream.name,
    manifest,
  };
}

async function loadTask(s: Shared): Promise<TaskOutcome> {
  const { pipeline, project } = s.request;
  const config = pipeline.config;
  const route = findStream(config, String(s.task.with.stream));
  const sinkName = String(s.task.with.sink);
  const block = config.sinks[sinkName];
  if (!route || !block) throw xoError("XO_TASK_UNKNOWN", { task: s.task.id, available: [] });
  const sink = project.registry.sink(block.plugin)!;
  const owner = project.registry.ownerOf("sink", sink.id)!;
  const strategy = config.pipeline.load_strategy;
  const paths = landingPaths({ root: s.landingRoot, pipeline: config.pipeline.name, stream: route.stream.name, strategy, window: s.window, runId: s.request.runId });
  const connection = block.connection ? resolveConnection(block.connection, s.env) : undefined;
  const target = (s.task.with.target as JsonObject | undefined) ?? route.stream.target;
  // Under the lock, no other run republishes the partition while its files are read, nor saves state in between.
  const { manifest, load } = await withPartitionLock(s, route.stream.name, async (locked, lock) => {
    const manifest = await readPartition(locked.landing, paths);
    if (!manifest) throw xoError("XO_MANIFEST_MISSING", { uri: paths.stage, stream: route.stream.name });
    // Sinks report no progress of their own: say what is being loaded, then elapsed time shows it is still going.
    const counted = manifest.files.every((f) => f.rows !== undefined);
    locked.progress.loading = { ...(counted ? { rows: manifest.rows } : {}), bytes: manifest.bytes, files: manifest.files.length };
    locked.progress.phase = "loading";
    locked.log.info(`loading ${loadAmount(locked.progress.loading)}`);
    const load = await callHook(owner, "load", locked.task.id, () =>
      sink.load({
        ...streamFor(locked, route.stream),
        sink: sinkName,
        options: pluginOptions(block, RESERVED_SINK_KEYS),
        target,
        connection,
        manifest,
        localPath: (file) => locked.landing.localPath(file.uri),
      }),
    );
    // The state the extract saw goes forward only now that its rows are in the stream's own sink.
    if (manifest.state !== undefined && sinkName === route.sink) {
      await lock.check();
      await locked.state.set(route.stream.name, manifest.state, { runId: locked.request.runId, logicalDate: locked.request.logicalDate });
      locked.log.info("saved stream state", { state: manifest.state });
    }
    return { manifest, load };
  });
  s.log.info(`loaded ${load.rowsLoaded} rows into ${load.table}`, load.rowsInTable !== undefined ? { rows_in_table: load.rowsInTable } : undefined);
  return {
    ...baseSummary(s.task),
    state: "success",
    summary: { table: load.table, rowsLoaded: load.rowsLoaded, ...(load.rowsInTable !== undefined ? { rowsInTable: load.rowsInTable } : {}) },
    reads: [{ uri: manifest.partition }],
    writes: [tableRef(s, route, sinkName, load.table)],
    stream: route.stream.name,
    sink: sinkName,
    manifest,
    load,
  };
}

/** The loaded table as lineage names it: the sink's dataset name, which DAG assets use too. */
function tableRef(s: Shared, route: NonNullable<ReturnType<typeof findStream>>, sinkName: string, table: string): TaskSummary["writes"][number] {
  const dataset = streamTable(s.request.pipeline, s.request.project.registry, route, sinkName);
  return dataset ? { uri: datasetUri(dataset), ...dataset } : { uri: `xo-sink://${sinkName}/${table}` };
}

async function pluginStep(s: Shared): Promise<TaskOutcome> {
  const { pipeline, project } = s.request;
  const step = project.registry.step(s.task.step);
  if (!step) {
    const { available, suggestion } = project.registry.suggest("step", s.task.step);
    throw xoError("XO_PLUGIN_UNKNOWN", { what: "step", id: s.task.step, available, suggestion });
  }
  const owner = project.registry.ownerOf("step", step.id)!;
  const parsed = step.options.safeParse(s.task.with);
  if (!parsed.success) {
    throw xoError("XO_CONFIG_INVALID_VALUE", { detail: `step ${s.task.id} (${step.id}): ${parsed.error.issues.map((i) => i.message).join("; ")}` });
  }
  const connection = s.task.connection ? resolveConnection(s.task.connection, s.env) : undefined;
  const result: StepResult = await callHook(owner, "run", s.task.id, async () => {
    const result = await step.run({
      pipeline: pipeline.config,
      projectDir: pipeline.projectDir,
      taskId: s.task.id,
      options: parsed.data,
      connection,
      window: s.window,
      runId: s.request.runId,
      log: s.log,
      signal: s.signal,
      landing: { root: s.landingRoot, store: s.landing },
      state: s.state,
      upstream: s.upstream,
      after: s.task.upstream,
      services: stepServices(project, pipeline, { env: s.env, log: s.log, signal: s.signal }),
    });
    // Its Airflow task would fail on the skip exit code, so the local run fails too.
    if (result.skip !== undefined && step.canSkip === false) {
      throw new Error(`step type ${step.id} declares canSkip: false, yet asked to skip (${result.skip}); it is a fault of the plugin`);
    }
    return result;
  });
  if (result.skip !== undefined) s.log.info(`skipped: ${result.skip}`);
  const failed = result.failure !== undefined && result.skip === undefined;
  return {
    ...baseSummary(s.task),
    state: failed ? "failed" : result.skip !== undefined ? "skipped" : "success",
    ...(failed ? { failure: result.failure } : {}),
    ...(result.warnings?.length ? { warnings: result.warnings } : {}),
    summary: result.summary ?? {},
    reads: result.reads ?? [],
    writes: result.writes ?? [],
    ...(result.skip !== undefined ? { skipReason: result.skip } : {}),
    ...(!failed && result.skip === undefined && result.state !== undefined && Object.keys(result.state).length > 0
      ? { stagedState: result.state, stageId: `${s.request.runId}:${randomUUID()}` }
      : {}),
  };
}

function streamFor(s: Shared, stream: StreamContext["stream"]): StreamContext {
  const config = s.request.pipeline.config;
  return streamContext({
    pipeline: config,
    projectDir: s.request.pipeline.projectDir,
    stream,
    strategy: config.pipeline.load_strategy,
    window: s.window,
    runId: s.request.runId,
    log: s.log,
    signal: s.signal,
  });
}

function baseSummary(task: TaskSpec): Omit<TaskSummary, "state"> {
  return { task: task.id, step: task.step, summary: {}, reads: [], writes: [] };
}

/** The part of an outcome that is kept for downstream tasks: no manifests, no file lists. */
function summaryOf(o: TaskOutcome): TaskSummary {
  return {
    task: o.task,
    step: o.step,
    state: o.state,
    summary: o.summary,
    reads: o.reads,
    writes: o.writes,
    ...(o.skipReason !== undefined ? { skipReason: o.skipReason } : {}),
    ...(o.warnings !== undefined ? { warnings: o.warnings } : {}),
    ...(o.stagedState !== undefined ? { stagedState: o.stagedState, stageId: o.stageId! } : {}),
    ...(o.ranAfterStages !== undefined ? { ranAfterStages: o.ranAfterStages } : {}),
  };
}

/** Summaries of every task this one runs after, directly or not, that recorded one in this run. */
async function upstreamSummaries(task: TaskSpec, tasks: readonly TaskSpec[], store: ReturnType<typeof summaryStore>): Promise<Record<string, TaskSummary>> {
  // Small independent objects: read them at once, not one round trip after another.
  const ids = [...(ancestorSets(tasks).get(task.id) ?? [])].sort();
  const summaries = await Promise.all(ids.map((id) => store.read(id)));
  return Object.fromEntries(ids.flatMap((id, i) => (summaries[i] ? [[id, summaries[i]]] : [])));
}
