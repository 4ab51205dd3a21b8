/**
 * One step of a pipeline, as an Airflow task runs it: resolve what the step
 * needs (plugin, connection, landing zone, data window), call the plugin through
 * the driver, and return a small result. `xo-foundry task` and `xo-foundry run`
 * both come through here, so local runs behave exactly like Airflow runs.
 */
import {
  dataWindow,
  landingPaths,
  resolveConnection,
  resolveLandingUri,
  xoError,
  RESERVED_SINK_KEYS,
  pluginOptions,
  type LandingStore,
  type Logger,
  type Manifest,
  type Project,
  type ResolvedPipeline,
  type StepContext,
  type TaskSpec,
  type LoadResult,
  type Connection,
} from "@xo-foundry/core";
import { callHook } from "./driver.js";
import { runExtract, stepContext } from "./extract.js";
import { fileLanding } from "./file-landing.js";
import { readPartition } from "./partition.js";

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
}

export type TaskOutcome =
  | { readonly task: string; readonly kind: "extract"; readonly stream: string; readonly manifest: Manifest }
  | { readonly task: string; readonly kind: "load"; readonly stream: string; readonly manifest: Manifest; readonly load: LoadResult };

export function pipelineTasks(pipeline: ResolvedPipeline, project: Project): readonly TaskSpec[] {
  const template = project.registry.template(pipeline.config.template);
  if (!template) {
    const { available, suggestion } = project.registry.suggest("template", pipeline.config.template);
    throw xoError("XO_PLUGIN_UNKNOWN", { what: "template", id: pipeline.config.template, available, suggestion });
  }
  return template.tasks(pipeline);
}

export async function runTask(request: TaskRequest): Promise<TaskOutcome> {
  const { pipeline, project, taskId } = request;
  const config = pipeline.config;
  const tasks = pipelineTasks(pipeline, project);
  const task = tasks.find((t) => t.id === taskId);
  if (!task) throw xoError("XO_TASK_UNKNOWN", { task: taskId, available: tasks.map((t) => t.id) });
  const stream = config.source.streams.find((s) => s.name === task.stream)!;
  const strategy = config.pipeline.load_strategy;
  const window = dataWindow(request.logicalDate, strategy, config.pipeline.timezone, config.pipeline.lookback_days);
  const log = request.log.child(task.id);
  const ctx: StepContext = {
    pipeline: config,
    projectDir: pipeline.projectDir,
    stream,
    strategy,
    window,
    runId: request.runId,
    log,
    signal: request.signal ?? new AbortController().signal,
  };
  const env = request.env ?? process.env;
  const landingRoot = resolveLandingUri(config.landing.uri, pipeline.projectDir, project.registry.landings().map((l) => l.scheme));
  const landingConnection = config.landing.connection ? resolveConnection(config.landing.connection, env) : undefined;
  const landing = openLanding(landingRoot, project, landingConnection);

  if (task.kind === "extract") {
    const source = project.registry.source(config.source.plugin)!;
    const owner = project.registry.ownerOf("source", source.id)!;
    const connection = config.source.connection ? resolveConnection(config.source.connection, env) : undefined;
    const manifest = await callHook(owner, "extract", task.id, () =>
      runExtract({ ...ctx, source, connection, landing, landingRoot }),
    );
    log.info(`landed ${manifest.rows} rows in ${manifest.files.length} file(s)`, { partition: manifest.partition });
    return { task: task.id, kind: "extract", stream: stream.name, manifest };
  }

  const sink = project.registry.sink(config.sink.plugin)!;
  const owner = project.registry.ownerOf("sink", sink.id)!;
  const paths = landingPaths({ root: landingRoot, pipeline: config.pipeline.name, stream: stream.name, strategy, window, runId: request.runId });
  const manifest = await readPartition(landing, paths);
  if (!manifest) throw xoError("XO_MANIFEST_MISSING", { uri: paths.stage, stream: stream.name });
  const connection = config.sink.connection ? resolveConnection(config.sink.connection, env) : undefined;
  const load = await callHook(owner, "load", task.id, () =>
    sink.load({
      ...stepContext(ctx),
      options: pluginOptions(config.sink, RESERVED_SINK_KEYS),
      target: stream.target,
      connection,
      manifest,
      localPath: (file) => landing.localPath(file.uri),
    }),
  );
  log.info(`loaded ${load.rowsLoaded} rows into ${load.table}`, load.rowsInTable !== undefined ? { rows_in_table: load.rowsInTable } : undefined);
  return { task: task.id, kind: "load", stream: stream.name, manifest, load };
}

function openLanding(root: string, project: Project, connection: Connection | undefined): LandingStore {
  const scheme = root.slice(0, root.indexOf(":"));
  if (scheme === "file") return fileLanding();
  const definition = project.registry.landing(scheme)!;
  return definition.open(root, connection);
}
