/**
 * A pipeline's task graph: the template's tasks for its sources and sinks, plus the
 * config's `steps:`, placed by their `after:` globs. The same graph is rendered to
 * Airflow and run by `xo-foundry run`, and it is checked here once, with every
 * problem pointing at the config entry that caused it.
 */
import { createRequire } from "node:module";
import type Picomatch from "picomatch";
import { diagnostic, pluginDiagnostic, pluginErrorParts, XoError, type Diagnostic, type Location } from "./errors.js";
import type { ExpandedTask, JsonObject, ResolvedPipeline, SinkDefinition, StepType, TaskSpec, TemplateDefinition, XoPlugin } from "./plugin.js";
import { datasetUri, streamTable } from "./datasets.js";
import { taskLineage } from "./lineage.js";
import { redact } from "./redact.js";
import { compareCodePoints } from "./python.js";
import { findStream, pipelineStreams, type PipelineConfig, type StepEntry } from "./config/types.js";
import { checkPhase } from "./config/quality.js";
import type { PathSegment } from "./config/yaml.js";

// The glob matcher loads only for pipelines whose steps have `after:` globs.
const require = createRequire(import.meta.url);
let matcher: typeof Picomatch | undefined;
const picomatch = (pattern: string, options: Picomatch.PicomatchOptions) => (matcher ??= require("picomatch") as typeof Picomatch)(pattern, options);

/** Where a config path is in the file; graph problems are located through it. */
export type Locator = (path: readonly PathSegment[], mode?: "key" | "value") => Location;

export interface TaskGraph {
  readonly tasks: readonly TaskSpec[];
  readonly diagnostics: readonly Diagnostic[];
}

const noLocation: Locator = () => ({});

/** Where the graph finds step types that may expand into several tasks: the project's registry. */
export interface StepLookup {
  step(id: string): StepType | undefined;
  ownerOf(kind: "step", id: string): XoPlugin | undefined;
  /** The step type that runs `checks:`. */
  checksStep?(): StepType | undefined;
  /** Sinks, for the names of the tables loads write (Airflow assets). */
  sink?(id: string): SinkDefinition | undefined;
}

const TASK_NAME = /^[a-z0-9_]{1,200}$/;

/** The extract task of a stream, as templates name it: `extract_<stream>`, in the source's group if any. */
export function streamTaskId(kind: "extract" | "load", stream: string, group?: string): string {
  return group === undefined ? `${kind}_${stream}` : `${group}.${kind}_${stream}`;
}

/**
 * Tasks for every stream of the pipeline: an extract and a load each. With
 * `groupBySource`, each source's tasks go in an Airflow task group named after it.
 * Streams are independent, so each load waits only for its own extract.
 */
export function streamTasks(config: PipelineConfig, options: { groupBySource: boolean }): TaskSpec[] {
  const routes = pipelineStreams(config).sort(
    (a, b) => (options.groupBySource ? compareCodePoints(a.source, b.source) : 0) || compareCodePoints(a.stream.name, b.stream.name),
  );
  return routes.flatMap(({ source, sink, stream }): TaskSpec[] => {
    const group = options.groupBySource ? source : undefined;
    const sourceBlock = config.sources[source]!;
    const sinkBlock = config.sinks[sink]!;
    const extract = streamTaskId("extract", stream.name, group);
    const tasks: TaskSpec[] = [
      {
        id: extract,
        step: "extract",
        with: { source, stream: stream.name },
        upstream: [],
        stream: stream.name,
        ...(group !== undefined ? { group } : {}),
        ...(sourceBlock.pool !== undefined ? { pool: sourceBlock.pool } : {}),
        ...(sourceBlock.connection !== undefined ? { connection: sourceBlock.connection } : {}),
      },
      {
        id: streamTaskId("load", stream.name, group),
        step: "load",
        with: { stream: stream.name, sink },
        upstream: [extract],
        stream: stream.name,
        ...(group !== undefined ? { group } : {}),
        ...(sinkBlock.pool !== undefined ? { pool: sinkBlock.pool } : {}),
        ...(sinkBlock.connection !== undefined ? { connection: sinkBlock.connection } : {}),
      },
    ];
    // An ingest-only stream lands its files and stops there.
    return stream.mode === "ingest_only" ? tasks.slice(0, 1) : tasks;
  });
}

/**
 * The whole graph of a validated pipeline. Problems come back as diagnostics located
 * with `where`; `xo-foundry validate-config` reports them, and anything that runs a
 * pipeline calls `requireGraph`, which throws them.
 */
export function pipelineGraph(pipeline: ResolvedPipeline, template: TemplateDefinition, where: Locator = noLocation, lookup?: StepLookup): TaskGraph {
  const diagnostics: Diagnostic[] = [];
  for (const problem of template.check?.(pipeline) ?? []) {
    diagnostics.push(diagnostic("XO_TEMPLATE_SHAPE", { template: template.id, detail: problem.message }, where(problem.path)));
  }
  if (diagnostics.length) return { tasks: [], diagnostics };

  const base = template.tasks(pipeline);
  const tasks: TaskSpec[] = [...base];
  const ids = new Map<string, PathSegment[]>(base.map((t) => [t.id, ["template"]]));
  const steps = pipeline.config.steps;
  steps.forEach((step, i) => {
    if (ids.has(step.id)) {
      const first = ids.get(step.id)!;
      const firstPath = first[0] === "template" ? `the ${template.id} template's tasks` : `steps[${first[1]}].id`;
      diagnostics.push(diagnostic("XO_CONFIG_DUPLICATE_NAME", { what: "task id", value: step.id, firstPath }, where(["steps", i, "id"])));
    } else ids.set(step.id, ["steps", i]);
  });
  const allIds = [...ids.keys()];
  steps.forEach((step, i) => tasks.push(stepTask(step, i, allIds, where, diagnostics)));
  if (diagnostics.length) return { tasks: [], diagnostics };

  const expanded = withChecks(pipeline.config, lookup ? expandSteps(pipeline, tasks, lookup, where, diagnostics) : tasks, lookup, where, diagnostics);
  const seen = new Set<string>();
  for (const task of expanded) {
    if (seen.has(task.id)) diagnostics.push(diagnostic("XO_CONFIG_DUPLICATE_NAME", { what: "task id", value: task.id, firstPath: "another task of the graph" }, where(["steps"])));
    seen.add(task.id);
  }
  if (diagnostics.length) return { tasks: [], diagnostics };

  diagnostics.push(...graphProblems(pipeline.config, expanded, where));
  if (diagnostics.length) return { tasks: [], diagnostics };
  return { tasks: lookup ? expanded.map((t) => (lookup.step(t.step)?.canSkip === false ? { ...t, canSkip: false } : t)) : expanded, diagnostics };
}

/**
 * The tasks with the datasets each updates (`outlets`, Airflow assets): a load's table
 * (declared by the checks of that table when it has post-load checks, so downstream
 * pipelines start only on checked data), and what steps say they write (StepType.lineage).
 * Only a generated DAG needs them, and a step's lineage may read the project's files, so
 * this runs when a DAG is generated, not each time a task builds its graph.
 */
export function withOutlets(pipeline: ResolvedPipeline, tasks: readonly TaskSpec[], lookup: StepLookup): TaskSpec[] {
  const outlets = taskOutlets(pipeline, tasks, lookup);
  return tasks.map((t) => (outlets.has(t.id) ? { ...t, outlets: outlets.get(t.id)! } : t));
}

function taskOutlets(pipeline: ResolvedPipeline, tasks: readonly TaskSpec[], lookup: StepLookup): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (id: string, uri: string) => out.set(id, [...new Set([...(out.get(id) ?? []), uri])].sort(compareCodePoints));
  const sinks = lookup.sink?.bind(lookup);
  for (const task of tasks) {
    if (task.step === "load" && sinks && typeof task.with.stream === "string" && typeof task.with.sink === "string") {
      const route = findStream(pipeline.config, task.with.stream);
      const table = route && streamTable(pipeline, { sink: (id) => sinks(id) }, route, task.with.sink);
      if (!table) continue;
      const checked = tasks.find((t) => t.upstream.includes(task.id) && t.stream === task.stream && t.with.at === "post_load" && t.step === lookup.checksStep?.()?.id);
      add(checked?.id ?? task.id, datasetUri(table));
      continue;
    }
    if (!lookup.step(task.step)?.lineage || !sinks) continue;
    try {
      // Local files are paths of one machine: not something another DAG can wait for.
      const writes = taskLineage(pipeline, { sink: (id) => sinks(id), step: (id) => lookup.step(id) }, task)?.writes ?? [];
      for (const w of writes) if (w.namespace !== "file") add(task.id, datasetUri(w));
    } catch {
      // Lineage is a courtesy: a step that cannot tell declares no asset.
    }
  }
  return out;
}

/** The graph of a pipeline that passed validation; its problems, if any, are thrown. */
export function requireGraph(pipeline: ResolvedPipeline, template: TemplateDefinition, steps?: StepLookup): readonly TaskSpec[] {
  const graph = pipelineGraph(pipeline, template, noLocation, steps);
  if (graph.diagnostics.length) throw new XoError(graph.diagnostics);
  return graph.tasks;
}

/**
 * Replaces each step whose type expands (StepType.expand) with its tasks, in a group named
 * after the step. Tasks after the step then run after the expansion's last tasks.
 */
function expandSteps(pipeline: ResolvedPipeline, tasks: readonly TaskSpec[], lookup: StepLookup, where: Locator, out: Diagnostic[]): TaskSpec[] {
  const replaced = new Map<string, TaskSpec[]>();
  pipeline.config.steps.forEach((step, i) => {
    const type = lookup.step(step.uses);
    if (!type?.expand) return;
    const plugin = lookup.ownerOf("step", step.uses);
    const label = plugin ? `${plugin.name}@${plugin.version}` : step.uses;
    const at = where(["steps", i, "with"]);
    let expansion: readonly ExpandedTask[] | undefined;
    try {
      const options: unknown = type.options.parse(step.with);
      expansion = type.expand({ stepId: step.id, options, pipeline: pipeline.config, projectDir: pipeline.projectDir });
    } catch (e) {
      const own = plugin ? pluginErrorParts(plugin.errors, e) : undefined;
      if (own) out.push({ ...pluginDiagnostic({ code: own.code, message: `step ${JSON.stringify(step.id)}: ${redact(own.message)}`, hint: own.hint, plugin: label }), ...at });
      else out.push(diagnostic("XO_STEP_EXPANSION_INVALID", { step: step.id, plugin: label, detail: redact(e instanceof Error ? e.message : String(e)) }, at));
      return;
    }
    if (expansion === undefined) return;
    const configured = tasks.find((t) => t.id === step.id)!;
    const problem = expansionProblem(expansion);
    if (problem) return void out.push(diagnostic("XO_STEP_EXPANSION_INVALID", { step: step.id, plugin: label, detail: problem }, at));
    const id = (name: string) => `${step.id}.${name}`;
    replaced.set(
      step.id,
      expansion.map((t): TaskSpec => {
        const root = t.upstream.length === 0;
        return {
          id: id(t.name),
          step: step.uses,
          with: t.with,
          upstream: root ? configured.upstream : t.upstream.map(id).sort(compareCodePoints),
          group: step.id,
          ...(root && configured.triggerRule !== undefined ? { triggerRule: configured.triggerRule } : {}),
          ...(configured.pool !== undefined ? { pool: configured.pool } : {}),
          ...(root && configured.when !== undefined ? { when: configured.when } : {}),
          ...(configured.connection !== undefined ? { connection: configured.connection } : {}),
          ...(t.description !== undefined ? { description: t.description } : {}),
        };
      }),
    );
  });
  if (replaced.size === 0) return [...tasks];
  // Downstream of an expanded step means downstream of its last tasks: those no task of it runs after.
  const leaves = new Map(
    [...replaced].map(([stepId, group]) => {
      const inner = new Set(group.flatMap((t) => t.upstream));
      return [stepId, group.filter((t) => !inner.has(t.id)).map((t) => t.id)];
    }),
  );
  return tasks.flatMap((task) =>
    (replaced.get(task.id) ?? [task]).map((t) =>
      t.upstream.some((u) => leaves.has(u)) ? { ...t, upstream: [...new Set(t.upstream.flatMap((u) => leaves.get(u) ?? [u]))].sort(compareCodePoints) } : t,
    ),
  );
}

/**
 * The `checks:` of each stream as tasks: `check_<stream>` between its extract and its
 * load (on the landed files; a failing check stops the load), and `check_<stream>_table`
 * after the load, which every task after the load then waits for too.
 */
function withChecks(config: PipelineConfig, tasks: TaskSpec[], lookup: StepLookup | undefined, where: Locator, out: Diagnostic[]): TaskSpec[] {
  const streams = Object.keys(config.checks);
  if (streams.length === 0) return tasks;
  const type = lookup?.checksStep?.();
  let graph = tasks;
  for (const stream of streams) {
    const at = where(["checks", stream]);
    if (!type) {
      out.push(diagnostic("XO_CHECKS_NO_STEP", { stream }, at));
      continue;
    }
    const route = findStream(config, stream);
    if (!route) continue; // reported by validation
    const checks = config.checks[stream]!;
    const pre = checks.filter((c) => checkPhase(c) === "pre_load");
    const post = checks.filter((c) => checkPhase(c) === "post_load");
    const extract = graph.find((t) => t.step === "extract" && t.with.stream === stream);
    const load = graph.find((t) => t.step === "load" && t.with.stream === stream && t.with.sink === route.sink);
    const checkTask = (from: TaskSpec, id: string, options: JsonObject): TaskSpec => ({
      id: from.group === undefined ? id : `${from.group}.${id}`,
      step: type.id,
      with: options,
      upstream: [from.id],
      stream,
      canSkip: false,
      ...(from.group !== undefined ? { group: from.group } : {}),
      description: `Data quality checks of stream ${stream}, ${options.at === "pre_load" ? "on its landed files before the load" : "on its table after the load"}.`,
    });
    if (pre.length > 0 && extract) {
      const check = checkTask(extract, `check_${stream}`, { stream, at: "pre_load", checks: pre as unknown as JsonObject[] });
      // The load of these files waits for their checks.
      graph = graph.flatMap((t) => [
        t.step === "load" && t.with.stream === stream ? { ...t, upstream: t.upstream.map((u) => (u === extract.id ? check.id : u)) } : t,
        ...(t.id === extract.id ? [check] : []),
      ]);
    }
    if (post.length > 0) {
      if (!load) {
        const why = route.stream.mode === "ingest_only" ? "the stream is ingest_only: nothing loads it" : "no task of the pipeline loads it";
        out.push(diagnostic("XO_CHECKS_NOT_LOADED", { stream, why }, at));
        continue;
      }
      const check = checkTask(load, `check_${stream}_table`, { stream, sink: route.sink, at: "post_load", checks: post as unknown as JsonObject[] });
      // What ran after the load now runs after its checks too.
      graph = graph.flatMap((t) => [
        t.upstream.includes(load.id) ? { ...t, upstream: [...t.upstream, check.id].sort(compareCodePoints) } : t,
        ...(t.id === load.id ? [check] : []),
      ]);
    }
  }
  return graph;
}

function expansionProblem(tasks: readonly ExpandedTask[]): string | undefined {
  if (tasks.length === 0) return "it returned no task";
  const names = new Set<string>();
  for (const t of tasks) {
    if (typeof t.name !== "string" || !TASK_NAME.test(t.name)) return `task name ${JSON.stringify(t.name)} is not [a-z0-9_]`;
    if (names.has(t.name)) return `task name ${JSON.stringify(t.name)} is repeated`;
    names.add(t.name);
  }
  for (const t of tasks) {
    const unknown = t.upstream.find((u) => !names.has(u));
    if (unknown !== undefined) return `task ${JSON.stringify(t.name)} runs after ${JSON.stringify(unknown)}, which is not one of its tasks`;
  }
  return undefined;
}

function stepTask(step: StepEntry, index: number, allIds: readonly string[], where: Locator, out: Diagnostic[]): TaskSpec {
  const upstream = new Set<string>();
  step.after.forEach((pattern, j) => {
    const match = picomatch(pattern, { dot: true });
    const found = allIds.filter((id) => id !== step.id && match(id));
    if (found.length === 0) {
      out.push(diagnostic("XO_GRAPH_UNMATCHED", { pattern, available: allIds.filter((id) => id !== step.id) }, where(["steps", index, "after", j])));
    }
    for (const id of found) upstream.add(id);
  });
  const withOptions = step.with as JsonObject;
  const stream = step.uses === "extract" || step.uses === "load" ? withOptions.stream : undefined;
  return {
    id: step.id,
    step: step.uses,
    with: withOptions,
    upstream: [...upstream].sort(compareCodePoints),
    ...(step.trigger_rule !== undefined ? { triggerRule: step.trigger_rule } : {}),
    ...(step.pool !== undefined ? { pool: step.pool } : {}),
    ...(step.when !== undefined ? { when: step.when } : {}),
    ...(step.connection !== undefined ? { connection: step.connection } : {}),
    ...(typeof stream === "string" ? { stream } : {}),
    ...(step.description !== undefined ? { description: step.description } : {}),
  };
}

/** Cycles, loads of streams nothing lands first, and conditions on tasks that have not run yet. */
function graphProblems(config: PipelineConfig, tasks: readonly TaskSpec[], where: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const stepIndex = new Map(config.steps.map((s, i) => [s.id, i]));
  const at = (task: TaskSpec, ...rest: PathSegment[]): Location => {
    const i = stepIndex.get(task.id);
    return i === undefined ? where(["template"]) : where(["steps", i, ...rest]);
  };

  const cycle = findCycle(tasks, byId);
  if (cycle) {
    out.push(diagnostic("XO_GRAPH_CYCLE", { cycle }, at(byId.get(cycle[0]!)!, "after")));
    return out;
  }

  // One stream, one extract per run: two would write the same landing partition.
  const extracts = new Map<string, TaskSpec>();
  for (const task of tasks) {
    if (task.step !== "extract" || typeof task.with.stream !== "string") continue;
    const first = extracts.get(task.with.stream);
    if (first === undefined) extracts.set(task.with.stream, task);
    else {
      out.push(
        diagnostic("XO_CONFIG_DUPLICATE_NAME", { what: "extract of stream", value: task.with.stream, firstPath: `task ${first.id}` }, at(task, "with", "stream")),
      );
    }
  }

  const ancestors = ancestorSets(tasks, byId);
  for (const task of tasks) {
    const mine = ancestors.get(task.id)!;
    if (task.step === "load" && typeof task.with.stream === "string") {
      const landed = [...mine].some((id) => {
        const up = byId.get(id)!;
        return up.step === "extract" && up.with.stream === task.with.stream;
      });
      if (!landed && findStream(config, task.with.stream)) {
        const extract = tasks.find((t) => t.step === "extract" && t.with.stream === task.with.stream);
        out.push(
          diagnostic(
            "XO_GRAPH_NOT_UPSTREAM",
            { task: task.id, needs: extract?.id ?? `the extract of ${task.with.stream}`, why: `it loads stream ${JSON.stringify(task.with.stream)}, which that task lands` },
            at(task, "after"),
          ),
        );
      }
    }
    task.when?.summary?.forEach((condition, k) => {
      if (!mine.has(condition.task)) {
        out.push(
          diagnostic(
            "XO_GRAPH_NOT_UPSTREAM",
            { task: task.id, needs: condition.task, why: "its `when:` reads that task's summary" },
            at(task, "when", "summary", k, "task"),
          ),
        );
      }
    });
  }
  return out;
}

function findCycle(tasks: readonly TaskSpec[], byId: ReadonlyMap<string, TaskSpec>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === "done") return undefined;
    if (state.get(id) === "open") return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, "open");
    stack.push(id);
    for (const up of byId.get(id)?.upstream ?? []) {
      const found = visit(up);
      if (found) return found;
    }
    stack.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const task of tasks) {
    const found = visit(task.id);
    if (found) return found.reverse();
  }
  return undefined;
}

/** Every task's transitive upstream tasks. The graph must be acyclic. */
export function ancestorSets(tasks: readonly TaskSpec[], byId: ReadonlyMap<string, TaskSpec> = new Map(tasks.map((t) => [t.id, t]))): Map<string, Set<string>> {
  const memo = new Map<string, Set<string>>();
  const of = (id: string): Set<string> => {
    let set = memo.get(id);
    if (set) return set;
    set = new Set<string>();
    memo.set(id, set);
    for (const up of byId.get(id)?.upstream ?? []) {
      set.add(up);
      for (const a of of(up)) set.add(a);
    }
    return set;
  };
  for (const task of tasks) of(task.id);
  return memo;
}
