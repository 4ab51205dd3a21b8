/**
 * Loading a pipeline: read the YAML with positions, merge the project defaults,
 * validate against the schema composed from the installed plugins, then run the
 * checks zod cannot express (unique names, safe paths). Every problem of a file
 * is collected; nothing throws for bad input.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { diagnostic, type Diagnostic, type Location } from "../errors.js";
import { pipelineGraph, type Locator } from "../graph.js";
import { landingUriProblem, resolveLandingUri } from "../paths.js";
import { BUILTIN_STEPS, type ResolvedPipeline, type SinkDefinition, type StepType } from "../plugin.js";
import { suggestName, type Registry } from "../registry.js";
import { builtinStepOptions, isSafeRelativePath, NAME_PATTERN, NAME_RULE, notifierBlock, pipelineCoreSchema, sinkVariant, sourceVariant } from "./schema.js";
import type { AlertEntry } from "./quality.js";
import {
  pluginOptions,
  RESERVED_SINK_KEYS,
  RESERVED_SOURCE_KEYS,
  RESERVED_STREAM_KEYS,
  SHORTHAND_NAME,
  type PipelineBlock,
  type PipelineConfig,
  type SinkBlock,
  type SourceBlock,
} from "./types.js";
import { hasPath, locate, readYamlFile, type ParsedYaml, type PathSegment } from "./yaml.js";
import type { Project } from "./project.js";

export interface PipelineLoad {
  readonly pipeline?: ResolvedPipeline;
  readonly diagnostics: readonly Diagnostic[];
  /** Where a config path is, in the pipeline file or the project file that set it (for checks across pipelines). */
  readonly where?: Locator;
  /** The tables this pipeline loads into, where its sinks say where their tables live (for checks across pipelines). */
  readonly placements?: readonly Placement[];
}

/** One stream's table in a sink whose location is known: comparable across pipelines. */
export interface Placement {
  /** Plugin, location and table key: equal ids are one table. */
  readonly id: string;
  readonly table: string;
  readonly sink: string;
  /** `stream "orders"` or `step "copy"`. */
  readonly who: string;
  readonly at: readonly PathSegment[];
}

export async function loadPipeline(file: string, project: Project): Promise<PipelineLoad> {
  const absolute = path.resolve(file);
  const display = displayPath(absolute);
  const parsed = await readYamlFile(absolute, display);
  if (parsed.diagnostics.length) return { diagnostics: parsed.diagnostics };
  return validatePipeline(parsed, absolute, project);
}

export function validatePipeline(parsed: ParsedYaml, absolute: string, project: Project): PipelineLoad {
  const raw = parsed.value;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { diagnostics: [diagnostic("XO_CONFIG_NOT_A_MAPPING", { found: describe(raw) }, { file: parsed.file, line: 1, column: 1 })] };
  }
  const merged = withoutNegativeZero(mergeDefaults(project.defaults, raw as Record<string, unknown>));
  const where: Locator = (p, mode = "value") => locateMerged(parsed, project, p, mode);
  const checker = new Checker(merged, where, project.registry, project.dir);
  const config = checker.check();

  const relativeFile = path.relative(project.dir, absolute).split(path.sep).join("/");
  if (!isSafeRelativePath(relativeFile)) {
    checker.diagnostics.push(diagnostic("XO_CONFIG_UNSAFE_PATH", { value: relativeFile }, { file: parsed.file, line: 1, column: 1 }));
  }
  if (!config || checker.diagnostics.some((d) => d.severity === "error")) return { diagnostics: dedupe(checker.diagnostics), where };
  const placements = checker.placements;

  const pipeline = resolvedPipeline({ config, file: absolute, projectDir: project.dir, relativeFile });
  const graph = pipelineGraph(pipeline, project.registry.template(config.template)!, where, project.registry);
  const diagnostics = dedupe([...checker.diagnostics, ...graph.diagnostics]);
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics, where };
  return { pipeline, diagnostics, where, placements };
}

/**
 * The pipeline with its `configHash` computed on first read: generating a DAG file needs
 * it, validating does not, and hashing the canonical JSON is a tenth of a validation.
 */
function resolvedPipeline(fields: Omit<ResolvedPipeline, "configHash">): ResolvedPipeline {
  let hash: string | undefined;
  return Object.defineProperty({ ...fields }, "configHash", {
    get: () => (hash ??= configHash(fields.config)),
    enumerable: true,
  }) as ResolvedPipeline;
}

/**
 * YAML's `-0` is a number like any other in a config, and JavaScript keeps its sign:
 * read it as 0 once, here, so no consumer (the Python emitter least of all, which
 * cannot tell an int 0 from a float -0.0) ever sees a negative zero.
 */
function withoutNegativeZero<T>(value: T): T {
  if (Object.is(value, -0)) return 0 as T;
  if (Array.isArray(value)) return value.map(withoutNegativeZero) as T;
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const v = withoutNegativeZero(value[k]);
      // An own `__proto__` key stays a key (as Object.fromEntries would keep it), never a prototype.
      if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    return out as T;
  }
  return value;
}

/** A pipeline validated in a run of several (`validate-config`, `generate-dags`). */
export interface LoadedPipeline {
  readonly pipeline?: ResolvedPipeline | undefined;
  readonly where?: Locator | undefined;
  readonly placements?: readonly Placement[] | undefined;
  readonly project: Project;
}

/**
 * What no single file shows: two pipelines with one dag_id (Airflow keeps one of them),
 * and two pipelines with one name in one landing zone (they share landing paths and saved
 * state). Each problem is reported at the second pipeline, in the order given, with the
 * load it belongs to.
 */
export function crossPipelineDiagnostics<T extends LoadedPipeline>(loads: readonly T[]): { readonly load: T; readonly diagnostic: Diagnostic }[] {
  const out: { load: T; diagnostic: Diagnostic }[] = [];
  // Positions are looked up in the YAML only for a problem: most runs have none.
  type Lazy = () => Location;
  const dagIds = new Map<string, Lazy>();
  const names = new Map<string, Lazy>();
  const tables = new Map<string, { placement: Placement; pipeline: string; here: Lazy }>();
  for (const load of loads) {
    const { pipeline, where, project } = load;
    if (!pipeline) continue;
    const at = where ?? (() => ({ file: pipeline.file }));
    const p = pipeline.config.pipeline;
    // dag_id defaults to the name: point at the key that gave it its value.
    const dagIdAt: Lazy = () => ({ ...at(p.dag_id === p.name ? ["pipeline", "name"] : ["pipeline", "dag_id"]), path: "pipeline.dag_id" });
    const duplicate = (seen: Map<string, Lazy>, key: string, here: Lazy, what: string, value: string, why: string) => {
      const first = seen.get(key);
      if (first === undefined) return void seen.set(key, here);
      out.push({ load, diagnostic: diagnostic("XO_CONFIG_DUPLICATE_NAME", { what, value, firstPath: positionOf(first()), why }, here()) });
    };
    duplicate(dagIds, p.dag_id, dagIdAt, "dag_id", p.dag_id, "Airflow keeps one DAG per dag_id");
    let root: string;
    try {
      root = resolveLandingUri(pipeline.config.landing.uri, pipeline.projectDir, project.registry.landings().map((l) => l.scheme));
    } catch {
      continue; // reported with the pipeline itself
    }
    // Two pipelines loading into one table replace or mix each other's rows, as two streams would.
    for (const placement of load.placements ?? []) {
      const here: Lazy = () => ({ ...at(placement.at), path: dottedPath(placement.at) });
      const first = tables.get(placement.id);
      if (first === undefined) tables.set(placement.id, { placement, pipeline: p.name, here });
      else if (first.pipeline !== p.name) {
        const d = diagnostic(
          "XO_SINK_TABLE_COLLISION",
          {
            what: `${placement.who} of pipeline ${JSON.stringify(p.name)}`,
            table: placement.table,
            sink: placement.sink,
            first: `${first.placement.who} of pipeline ${JSON.stringify(first.pipeline)}`,
            firstPath: positionOf(first.here()),
          },
          here(),
        );
        out.push({ load, diagnostic: d });
      }
    }
    duplicate(
      names,
      JSON.stringify([root, p.name]),
      () => at(["pipeline", "name"]),
      "pipeline name",
      p.name,
      "pipelines with one name share landing paths and saved state in one landing zone; rename one, or give it its own `landing.uri`",
    );
  }
  return out;
}

function positionOf(l: Location): string {
  return `${l.file ?? "?"}${l.line !== undefined ? `:${l.line}:${l.column ?? 1}` : ""}`;
}

type Block = Record<string, unknown>;

/** "the source" for a shorthand block, `source "shop"` for a named one. */
function blockName(kind: "source" | "sink", at: readonly PathSegment[]): string {
  return at.length === 1 ? `the ${kind}` : `${kind} ${JSON.stringify(at[1])}`;
}

/** A sink block's plugin options (the block without the core's keys), parsed. */
interface SinkOptions {
  readonly value: Block;
  readonly result: z.ZodSafeParseResult<Record<string, unknown>>;
}

/** A named source or sink block and where it is in the file. */
interface Named {
  readonly name: string;
  readonly block: Block;
  readonly at: PathSegment[];
}

/**
 * Validation in two passes: the core's own keys first (one schema for every
 * pipeline), then each source, sink and step block against its plugin's schema,
 * so an error names the plugin's own keys and a typo gets the plugin's suggestions.
 */
class Checker {
  readonly diagnostics: Diagnostic[] = [];
  /** Tables of sinks with a known location, for the checks across pipelines. */
  readonly placements: Placement[] = [];
  /** The source blocks as written, and their stream names: read by several checks. */
  readonly #sources: readonly Named[];
  readonly #streamNames: readonly string[];
  /** Per sink block, parsed once for all the streams that load into it. */
  readonly #sinkOptions = new Map<Named, SinkOptions>();
  readonly #sinkLocations = new Map<Named, string | undefined>();
  readonly #destinations = new Map<string, { id: string; at: PathSegment[] }>();

  constructor(
    private readonly merged: Record<string, unknown>,
    private readonly where: Locator,
    private readonly registry: Registry,
    private readonly projectDir: string,
  ) {
    this.#sources = this.named("source", "sources");
    this.#streamNames = this.#sources.flatMap(({ block }) =>
      Array.isArray(block.streams) ? block.streams.flatMap((s) => (isObject(s) && typeof s.name === "string" ? [s.name] : [])) : [],
    );
  }

  check(): PipelineConfig | undefined {
    const { merged, where, registry } = this;
    const core = pipelineCoreSchema.safeParse(merged);
    if (!core.success) this.issues(core.error.issues, pipelineCoreSchema, merged, []);

    for (const [one, many] of [["source", "sources"], ["sink", "sinks"]] as const) {
      if (merged[one] !== undefined && merged[many] !== undefined) {
        this.diagnostics.push(diagnostic("XO_CONFIG_CONFLICT", { first: one, second: many }, where([many], "key")));
      }
    }
    const templateId = typeof merged.template === "string" ? merged.template : registry.defaultTemplate()?.id;
    const needsSource = (templateId === undefined ? undefined : registry.template(templateId))?.needsSource ?? true;
    if (needsSource && merged.source === undefined && merged.sources === undefined) {
      this.diagnostics.push(diagnostic("XO_CONFIG_MISSING_KEY", { key: "source", expected: "a source block (or `sources:` with named ones)" }, where([])));
    }

    if (templateId === undefined) {
      this.diagnostics.push(diagnostic("XO_CONFIG_NO_DEFAULT", { what: "template", available: registry.templates().map((t) => t.id) }, where(["template"])));
    } else if (!registry.template(templateId)) this.unknown("template", templateId, ["template"]);

    const sinks = this.named("sink", "sinks");
    if (sinks.length === 0 && merged.sink === undefined && merged.sinks === undefined) {
      const fallback = registry.defaultSink();
      if (fallback) sinks.push({ name: SHORTHAND_NAME, block: { plugin: fallback.id }, at: ["sink"] });
      else this.diagnostics.push(diagnostic("XO_CONFIG_NO_DEFAULT", { what: "sink", available: registry.sinks().map((s) => s.id) }, where(["sink"])));
    }
    const parsedSinks: Record<string, SinkBlock> = {};
    for (const sink of sinks) {
      const parsed = this.sink(sink);
      if (parsed) parsedSinks[sink.name] = parsed;
    }
    const parsedSources: Record<string, SourceBlock> = {};
    for (const source of this.#sources) {
      const parsed = this.source(source, sinks);
      if (parsed) parsedSources[source.name] = parsed;
    }
    this.uniqueStreams();
    this.landing();
    const steps = Array.isArray(merged.steps) ? (merged.steps as unknown[]) : [];
    steps.forEach((step, i) => this.step(step, i, sinks));
    this.oneStreamPerTable(sinks, steps);
    this.checkedStreams();
    const alerts = this.alerts();

    if (!core.success || templateId === undefined) return undefined;
    const data = core.data as unknown as Omit<PipelineConfig, "pipeline"> & { pipeline: PipelineBlock & { dag_id?: string } };
    return {
      pipeline: { ...data.pipeline, dag_id: data.pipeline.dag_id ?? data.pipeline.name },
      template: templateId,
      sources: parsedSources,
      landing: data.landing,
      sinks: parsedSinks,
      steps: data.steps,
      runner: data.runner,
      checks: data.checks,
      alerts,
      ...(data.deadline !== undefined ? { deadline: data.deadline } : {}),
    };
  }

  /** `checks:` keys name streams of this pipeline. */
  private checkedStreams(): void {
    const checks = this.merged.checks;
    if (!isObject(checks)) return;
    for (const stream of Object.keys(checks)) {
      if (!this.#streamNames.includes(stream)) this.noSuch("stream", stream, this.#streamNames, ["checks", stream]);
    }
  }

  /** Each `alerts:` entry with its one channel, checked against that notifier's schema. */
  private alerts(): AlertEntry[] {
    const raw = this.merged.alerts;
    if (!Array.isArray(raw)) return [];
    const available = this.registry.notifiers().map((n) => n.id);
    return raw.flatMap((entry, i): AlertEntry[] => {
      if (!isObject(entry) || !Array.isArray(entry.on)) return []; // reported by the core schema
      const at: PathSegment[] = ["alerts", i];
      const keys = Object.keys(entry).filter((k) => k !== "on");
      if (keys.length !== 1) {
        this.diagnostics.push(diagnostic("XO_ALERT_CHANNEL", { found: keys, available }, this.where(keys.length ? [...at, keys[1]!] : at, keys.length ? "key" : "value")));
        return [];
      }
      const channel = keys[0]!;
      const def = this.registry.notifier(channel);
      if (!def) {
        const { suggestion } = this.registry.suggest("notifier", channel);
        this.diagnostics.push(diagnostic("XO_PLUGIN_UNKNOWN", { what: "notifier", id: channel, suggestion, available }, this.where([...at, channel], "key")));
        return [];
      }
      const block = entry[channel];
      const parsed = this.parse(notifierBlock(def.options), block ?? {}, [...at, channel]) as Record<string, unknown> | undefined;
      if (parsed === undefined) return [];
      const { connection, ...options } = parsed;
      if (def.connection === "required" && connection === undefined) {
        const owner = this.registry.ownerOf("notifier", channel)!;
        this.diagnostics.push(diagnostic("XO_CONNECTION_REQUIRED", { what: `the ${channel} alert`, plugin: owner.name }, this.where([...at, channel])));
      }
      if ((entry.on as unknown[]).includes("deadline_missed") && this.merged.deadline === undefined) {
        this.diagnostics.push(
          diagnostic(
            "XO_CONFIG_INVALID_VALUE",
            { detail: "`deadline_missed` alerts need a `deadline:` block saying when a run is late", expected: "e.g. `deadline: { after_queued: 2h }`" },
            this.where([...at, "on"]),
          ),
        );
      }
      return [{ on: entry.on as AlertEntry["on"], channel, options, ...(typeof connection === "string" ? { connection } : {}) }];
    });
  }

  /** The blocks of `one:` (named "main") or `many:`. */
  private named(one: "source" | "sink", many: "sources" | "sinks"): Named[] {
    const single = this.merged[one];
    if (isObject(single)) return [{ name: SHORTHAND_NAME, block: single, at: [one] }];
    const map = this.merged[many];
    if (!isObject(map)) return [];
    return Object.entries(map).flatMap(([name, block]) => (isObject(block) ? [{ name, block, at: [many, name] }] : []));
  }

  private sink(sink: Named): SinkBlock | undefined {
    const { block, at } = sink;
    const id = typeof block.plugin === "string" ? block.plugin : undefined;
    if (id === undefined) return undefined; // reported by the core schema
    const def = this.registry.sink(id);
    if (!def) return void this.unknown("sink", id, [...at, "plugin"]);
    const parsed = this.parse(sinkVariant(def.id, def.options), block, at);
    const options = this.sinkOptions(sink, def);
    this.refine(def.options, options.value, at, options.result);
    this.requireConnection(def, block, at, blockName("sink", at), "sink", id);
    return parsed as SinkBlock | undefined;
  }

  private source({ name, block, at }: Named, sinks: readonly Named[]): SourceBlock | undefined {
    const id = typeof block.plugin === "string" ? block.plugin : undefined;
    if (id === undefined) return undefined;
    const def = this.registry.source(id);
    if (!def) return void this.unknown("source", id, [...at, "plugin"]);
    const sinkNames = sinks.map((s) => s.name);
    let sinkName: string | undefined;
    if (typeof block.sink === "string") {
      if (sinkNames.includes(block.sink)) sinkName = block.sink;
      else this.noSuch("sink", block.sink, sinkNames, [...at, "sink"]);
    } else if (sinkNames.length === 1) sinkName = sinkNames[0];
    else if (sinkNames.length > 1) this.diagnostics.push(diagnostic("XO_SINK_AMBIGUOUS", { source: name, sinks: sinkNames }, this.where(at)));
    const parsed = this.parse(sourceVariant(def.id, def.options, def.stream, this.targetOf(sinks, sinkName)), block, at);
    this.refine(def.options, pluginOptions(block, RESERVED_SOURCE_KEYS), at);
    const streams = Array.isArray(block.streams) ? (block.streams as unknown[]) : [];
    streams.forEach((stream, i) => {
      if (isObject(stream)) this.refine(def.stream, pluginOptions(stream, RESERVED_STREAM_KEYS), [...at, "streams", i]);
    });
    this.requireConnection(def, block, at, blockName("source", at), "source", id);
    return parsed as SourceBlock | undefined;
  }

  /** The target schema of the named sink's plugin; anything goes while the sink itself is in error. */
  private targetOf(sinks: readonly Named[], sinkName: string | undefined): z.ZodType {
    const plugin = sinks.find((s) => s.name === sinkName)?.block.plugin;
    const target = typeof plugin === "string" ? this.registry.sink(plugin)?.target : undefined;
    return target ? strictOf(target) : ANY_TARGET;
  }

  private step(raw: unknown, i: number, sinks: readonly Named[]): void {
    if (!isObject(raw) || typeof raw.uses !== "string") return; // reported by the core schema
    const at: PathSegment[] = ["steps", i];
    const uses = raw.uses;
    const withValue = isObject(raw.with) ? raw.with : {};
    const builtin = (BUILTIN_STEPS as readonly string[]).includes(uses);
    const def = builtin ? undefined : this.registry.step(uses);
    if (!builtin && !def) return void this.unknown("step", uses, [...at, "uses"]);
    if (def) {
      const options = this.parse(strictOf(def.options), withValue, [...at, "with"]);
      if (options !== undefined) this.destination(def, options, raw, at);
      if (def.connection === "required" && raw.connection === undefined) {
        const owner = this.registry.ownerOf("step", uses)!;
        this.diagnostics.push(diagnostic("XO_CONNECTION_REQUIRED", { what: `step ${JSON.stringify(raw.id)}`, plugin: owner.name }, this.where(at)));
      }
      return;
    }
    // Built-in steps: the names they refer to must exist, and a load's target is its sink's.
    const sinkNames = sinks.map((s) => s.name);
    const sinkName = typeof withValue.sink === "string" ? withValue.sink : undefined;
    const [, options] = builtinStepOptions(this.targetOf(sinks, sinkName)).find(([id]) => id === uses)!;
    this.parse(options, withValue, [...at, "with"]);
    if (sinkName !== undefined && !sinkNames.includes(sinkName)) this.noSuch("sink", sinkName, sinkNames, [...at, "with", "sink"]);
    const streams = this.#streamNames;
    if (typeof withValue.stream === "string" && !streams.includes(withValue.stream)) {
      this.noSuch("stream", withValue.stream, streams, [...at, "with", "stream"]);
    }
    const sources = this.#sources.map((s) => s.name);
    if (typeof withValue.source === "string" && !sources.includes(withValue.source)) {
      this.noSuch("source", withValue.source, sources, [...at, "with", "source"]);
    }
  }

  /** Two steps that deliver to one place (as their step types name it) would overwrite or mix each other's data. */
  private destination(def: StepType, options: unknown, raw: Record<string, unknown>, at: PathSegment[]): void {
    const connection = typeof raw.connection === "string" ? raw.connection : undefined;
    const destination = def.destination?.({ options, connection });
    if (destination === undefined) return;
    const id = typeof raw.id === "string" ? raw.id : dottedPath(at);
    const first = this.#destinations.get(destination);
    if (first === undefined) return void this.#destinations.set(destination, { id, at });
    this.diagnostics.push(
      diagnostic("XO_STEP_DESTINATION_COLLISION", { step: id, destination, first: first.id, firstPath: dottedPath(first.at) }, this.where([...at, "with"])),
    );
  }

  /** The landing URI is one an installed plugin serves, and one whose plugin requires a connection gets one. */
  private landing(): void {
    const landing = this.merged.landing;
    if (!isObject(landing) || typeof landing.uri !== "string") return;
    const problem = landingUriProblem(landing.uri, this.registry.landings().map((l) => l.scheme));
    if (problem) return void this.diagnostics.push(diagnostic("XO_PATH_INVALID", problem, this.where(["landing", "uri"])));
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(landing.uri)?.[1]?.toLowerCase();
    const def = scheme === undefined ? undefined : this.registry.landing(scheme);
    if (def?.connection === "required" && landing.connection === undefined) {
      const owner = this.registry.ownerOf("landing", scheme!)!;
      this.diagnostics.push(diagnostic("XO_CONNECTION_REQUIRED", { what: `landing zone ${landing.uri}`, plugin: owner.name }, this.where(["landing"])));
    }
  }

  /**
   * Each table gets the rows of one stream: a second stream loaded into it (by its
   * source's sink or by a `load` step) replaces or mixes with the first one's rows,
   * whatever the load mode. Where a stream lands is the sink plugin's to say
   * (`targetKey`, folded as the warehouse compares names); sinks that cannot say are
   * not checked.
   */
  private oneStreamPerTable(sinks: readonly Named[], steps: readonly unknown[]): void {
    const sinkNames = sinks.map((s) => s.name);
    // `step` is set for a `load` step, which loads a stream that belongs to a source.
    const loads: { stream: string; sink: string; target: unknown; step?: string; at: PathSegment[] }[] = [];
    const targets = new Map<string, unknown>();
    for (const { block, at } of this.#sources) {
      const sink = typeof block.sink === "string" ? block.sink : sinkNames.length === 1 ? sinkNames[0] : undefined;
      if (!Array.isArray(block.streams)) continue;
      block.streams.forEach((s, i) => {
        if (!isObject(s) || typeof s.name !== "string") return;
        targets.set(s.name, s.target);
        if (sink === undefined || s.mode === "ingest_only") return;
        const here: PathSegment[] = [...at, "streams", i];
        loads.push({ stream: s.name, sink, target: s.target, at: s.target === undefined ? here : [...here, "target"] });
      });
    }
    steps.forEach((step, i) => {
      if (!isObject(step) || step.uses !== "load" || !isObject(step.with)) return;
      const { stream, sink, target } = step.with;
      if (typeof stream !== "string" || typeof sink !== "string") return;
      const here: PathSegment[] = ["steps", i, "with"];
      const id = typeof step.id === "string" ? step.id : `steps[${i}]`;
      loads.push({ stream, sink, target: target ?? targets.get(stream), step: id, at: target === undefined ? here : [...here, "target"] });
    });

    const who = (load: (typeof loads)[number]) => (load.step === undefined ? `stream ${JSON.stringify(load.stream)}` : `step ${JSON.stringify(load.step)}`);
    const seen = new Map<string, (typeof loads)[number]>();
    for (const load of loads) {
      const sink = sinks.find((s) => s.name === load.sink);
      const key = this.targetKey(sink, load.stream, load.target);
      if (key === undefined) continue;
      // Sink blocks that say where their tables live are one place when they say the same.
      const place = this.sinkLocation(sink!);
      const id = JSON.stringify(place === undefined ? ["block", load.sink, key] : ["location", sink!.block.plugin, place, key]);
      if (place !== undefined) this.placements.push({ id, table: key, sink: load.sink, who: who(load), at: load.at });
      const first = seen.get(id);
      if (first === undefined) seen.set(id, load);
      else if (first.stream !== load.stream) {
        const firstPath = dottedPath(first.at.at(-1) === "target" ? first.at.slice(0, -1) : first.at);
        this.diagnostics.push(
          diagnostic(
            "XO_SINK_TABLE_COLLISION",
            { what: who(load), stream: load.step === undefined ? undefined : load.stream, table: key, sink: load.sink, first: who(first), firstPath },
            this.where(load.at),
          ),
        );
      }
    }
  }

  /** Where a sink block's tables live, as its plugin names it; undefined when it cannot say. */
  private sinkLocation(sink: Named): string | undefined {
    if (this.#sinkLocations.has(sink)) return this.#sinkLocations.get(sink);
    const def = typeof sink.block.plugin === "string" ? this.registry.sink(sink.block.plugin) : undefined;
    let location: string | undefined;
    if (def?.location) {
      const options = this.sinkOptions(sink, def).result;
      const connection = typeof sink.block.connection === "string" ? sink.block.connection : undefined;
      if (options.success) location = def.location({ options: options.data, connection, projectDir: this.projectDir });
    }
    this.#sinkLocations.set(sink, location);
    return location;
  }

  /** Where `stream` lands in `sink`, as its plugin names it; undefined when its options are in error or it cannot say. */
  private targetKey(sink: Named | undefined, stream: string, target: unknown): string | undefined {
    const def = typeof sink?.block.plugin === "string" ? this.registry.sink(sink.block.plugin) : undefined;
    if (!sink || !def?.targetKey) return undefined;
    const options = this.sinkOptions(sink, def).result;
    const parsedTarget = def.target.safeParse(target ?? {});
    if (!options.success || !parsedTarget.success) return undefined; // reported where the options are
    return def.targetKey({ stream, target: parsedTarget.data, options: options.data });
  }

  /** A sink block's plugin options, and what its plugin's schema makes of them. */
  private sinkOptions(sink: Named, def: SinkDefinition): SinkOptions {
    let options = this.#sinkOptions.get(sink);
    if (!options) {
      const value = pluginOptions(sink.block, RESERVED_SINK_KEYS);
      this.#sinkOptions.set(sink, (options = { value, result: def.options.safeParse(value) }));
    }
    return options;
  }

  /** Stream names are unique across sources: a name alone picks a landing path and a state. */
  private uniqueStreams(): void {
    const seen = new Map<string, string>();
    for (const { block, at } of this.#sources) {
      if (!Array.isArray(block.streams)) continue;
      block.streams.forEach((s, i) => {
        const name = isObject(s) ? s.name : undefined;
        if (typeof name !== "string") return;
        const here: PathSegment[] = [...at, "streams", i, "name"];
        // Steps keep their state next to the streams' cursors under `<kind>__<task>` (stepStateKey):
        // a stream named like one would share its state file.
        if (name.includes("__")) {
          this.diagnostics.push(
            diagnostic(
              "XO_CONFIG_INVALID_VALUE",
              { detail: "a stream name may not contain `__`, which names the saved state of steps", found: JSON.stringify(name), expected: "a name without a double underscore, e.g. " + JSON.stringify(name.replace(/_{2,}/g, "_")) },
              this.where(here),
            ),
          );
        }
        const first = seen.get(name);
        if (first === undefined) seen.set(name, dottedPath(here));
        else this.diagnostics.push(diagnostic("XO_CONFIG_DUPLICATE_NAME", { what: "stream name", value: name, firstPath: first }, this.where(here)));
      });
    }
  }

  private requireConnection(
    def: { connection?: "required" | "optional" },
    block: Block,
    at: PathSegment[],
    what: string,
    kind: "source" | "sink",
    id: string,
  ): void {
    if (def.connection !== "required" || block.connection !== undefined) return;
    const owner = this.registry.ownerOf(kind, id)!;
    this.diagnostics.push(diagnostic("XO_CONNECTION_REQUIRED", { what, plugin: owner.name }, this.where(at)));
  }

  private noSuch(what: string, name: string, available: readonly string[], at: PathSegment[]): void {
    this.diagnostics.push(
      diagnostic(
        "XO_CONFIG_INVALID_VALUE",
        {
          detail: `no ${what} named ${JSON.stringify(name)}`,
          suggestion: suggestName(name, available),
          expected: `one of ${available.map((n) => JSON.stringify(n)).join(", ") || "(none)"}`,
        },
        this.where(at),
      ),
    );
  }

  private unknown(what: "source" | "sink" | "template" | "step", id: string, at: PathSegment[]): void {
    const { available, suggestion } = this.registry.suggest(what, id);
    this.diagnostics.push(diagnostic("XO_PLUGIN_UNKNOWN", { what, id, suggestion, available }, this.where(at)));
  }

  private parse(schema: z.ZodType, value: unknown, at: PathSegment[]): unknown {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    this.issues(result.error.issues, schema, value, at);
    return undefined;
  }

  /**
   * A plugin's schema checked on its own: the composed variants merge option shapes,
   * which drops a plugin's object-level checks ("`metric_set` is required when
   * `kind: report`"). The core's keys are not the plugin's business, so unknown-key
   * issues are left to the variant.
   */
  private refine(schema: z.ZodType, value: Block, at: PathSegment[], result = schema.safeParse(value)): void {
    if (result.success) return;
    this.issues(
      result.error.issues.filter((issue) => issue.code !== "unrecognized_keys"),
      schema,
      value,
      at,
    );
  }

  private issues(issues: readonly Issue[], schema: z.ZodType, input: unknown, at: PathSegment[]): void {
    for (const issue of issues) this.diagnostics.push(issueToDiagnostic(issue, { schema, input, at, where: this.where }));
  }
}

const ANY_TARGET = z.looseObject({});
const strictSchemas = new WeakMap<z.ZodObject, z.ZodObject>();

/**
 * `schema.strict()`, made once per plugin schema: zod compiles an object schema on its
 * first parse, and a new one per pipeline file would be compiled per file.
 */
function strictOf(schema: z.ZodObject): z.ZodObject {
  let strict = strictSchemas.get(schema);
  if (!strict) strictSchemas.set(schema, (strict = schema.strict()));
  return strict;
}

/** sha256 of the canonical JSON (keys sorted by code point): the same config always hashes the same. */
export function configHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

// ---------------------------------------------------------------- defaults

/**
 * Precedence, lowest first: built-in defaults (schema), project `defaults:`, the pipeline
 * file. `defaults.sink` applies to the `sink:` shorthand and to each `sinks:` entry of
 * the same plugin.
 */
export function mergeDefaults(defaults: Record<string, unknown>, pipeline: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...pipeline };
  for (const [block, value] of Object.entries(defaults)) {
    if (value === undefined) continue;
    if (block === "sink" && isObject(value) && isObject(pipeline.sinks)) {
      out.sinks = Object.fromEntries(
        Object.entries(pipeline.sinks).map(([name, own]) => [name, isObject(own) && own.plugin === value.plugin ? deepMerge(value, own) : own]),
      );
      continue;
    }
    const own = pipeline[block];
    // Sink defaults are for one plugin and runner defaults for one runner type: a
    // pipeline that picks another gets none of them.
    const kind = block === "sink" ? "plugin" : block === "runner" ? "type" : undefined;
    if (kind && isObject(own) && isObject(value) && own[kind] !== undefined && own[kind] !== (value[kind] ?? (block === "runner" ? "bash" : undefined))) {
      continue;
    }
    out[block] = isObject(own) && isObject(value) ? deepMerge(value, own) : own === undefined ? value : own;
  }
  return out;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A merged value's position: in the pipeline file if it set it, else in the project file's defaults. */
function locateMerged(parsed: ParsedYaml, project: Project, p: readonly PathSegment[], mode: "key" | "value"): Location {
  const at = (x: ParsedYaml, q: readonly PathSegment[]) => ({ file: x.file, ...locate(x, q, mode) });
  const dotted = dottedPath(p);
  if (!hasPath(parsed, p) && project.parsed && p.length > 0) {
    // A named sink's default values come from `defaults.sink`.
    const inDefaults: PathSegment[] = p[0] === "sinks" && p.length > 2 ? ["defaults", "sink", ...p.slice(2)] : ["defaults", ...p];
    if (hasPath(project.parsed, inDefaults)) return { ...at(project.parsed, inDefaults), path: dotted };
  }
  return { ...at(parsed, p), path: dotted };
}

export function dottedPath(p: readonly PathSegment[]): string {
  return p.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

// ---------------------------------------------------------------- zod issues

type Issue = z.core.$ZodIssue;

interface IssueScope {
  /** The schema that produced the issue and the value it checked. */
  readonly schema: z.ZodType;
  readonly input: unknown;
  /** Where that value is in the config. */
  readonly at: readonly PathSegment[];
  readonly where: Locator;
}

function issueToDiagnostic(issue: Issue, scope: IssueScope): Diagnostic {
  const { schema, input } = scope;
  const relative = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
  const p = [...scope.at, ...relative];
  const where = scope.where;
  const value = valueAt(input, relative);
  switch (issue.code) {
    case "invalid_union": {
      // Report the alternative of the value's own shape (a schedule string's cron problem,
      // not "expected an object"): the first branch that got past the type of the value.
      const fitting = issue.errors.find((branch) => branch.length > 0 && !branch.some((i) => i.code === "invalid_type" && i.path.length === 0));
      const first = fitting?.[0];
      if (first) return issueToDiagnostic({ ...first, path: [...issue.path, ...first.path] } as Issue, scope);
      return diagnostic("XO_CONFIG_INVALID_TYPE", { expected: issue.message, found: describe(value) }, where(p));
    }
    case "unrecognized_keys": {
      const key = issue.keys[0]!;
      const allowed = objectKeysAt(schema, input, relative);
      return diagnostic("XO_CONFIG_UNKNOWN_KEY", { key, suggestion: suggestName(key, allowed), allowed }, where([...p, key], "key"));
    }
    case "invalid_type": {
      const expected = describeExpected(issue.expected);
      if (value === undefined) {
        const key = String(p[p.length - 1] ?? "");
        return diagnostic("XO_CONFIG_MISSING_KEY", { key, expected }, where(p));
      }
      return diagnostic("XO_CONFIG_INVALID_TYPE", { expected, found: describe(value) }, where(p));
    }
    case "invalid_value": {
      const options = issue.values.map((v) => String(v));
      const suggestion = typeof value === "string" ? suggestName(value, options) : undefined;
      return diagnostic(
        "XO_CONFIG_INVALID_VALUE",
        { detail: `expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}`, found: describe(value), suggestion },
        where(p),
      );
    }
    case "invalid_format": {
      const last = p[p.length - 1];
      if (issue.format === "regex" && "pattern" in issue && String(issue.pattern) === String(new RegExp(NAME_PATTERN)) && typeof value === "string") {
        const what = last === "name" && p[0] === "pipeline" ? "pipeline name" : last === "name" ? "stream name" : typeof last === "number" ? `${String(p[p.length - 2])} name` : String(last ?? "name");
        return diagnostic("XO_CONFIG_UNSAFE_NAME", { what, value, pattern: NAME_RULE }, where(p));
      }
      return diagnostic("XO_CONFIG_INVALID_VALUE", { detail: issue.message, found: describe(value) }, where(p));
    }
    case "custom": {
      // A refinement may say what it expected and what was probably meant.
      const params = (issue.params ?? {}) as { suggestion?: unknown; expected?: unknown };
      return diagnostic(
        "XO_CONFIG_INVALID_VALUE",
        {
          detail: issue.message,
          found: value === undefined ? undefined : describe(value),
          suggestion: typeof params.suggestion === "string" ? params.suggestion : undefined,
          expected: typeof params.expected === "string" ? params.expected : undefined,
        },
        where(p),
      );
    }
    default:
      return diagnostic("XO_CONFIG_INVALID_VALUE", { detail: issue.message, found: value === undefined ? undefined : describe(value) }, where(p));
  }
}

function valueAt(input: unknown, p: readonly PathSegment[]): unknown {
  let v = input;
  for (const seg of p) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[seg as string];
  }
  return v;
}

/** The keys a strict object at `p` accepts, by walking the schema (for did-you-mean hints). */
function objectKeysAt(schema: z.ZodType, input: unknown, p: readonly PathSegment[]): string[] {
  let node: unknown = schema;
  let value: unknown = input;
  const unwrap = () => {
    for (;;) {
      const def = (node as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
      if (!def) return undefined;
      if (["default", "optional", "nullable", "prefault", "readonly", "catch"].includes(def.type as string)) node = def.innerType;
      else if (def.type === "pipe") node = def.in;
      else if (def.type === "union") {
        const options = def.options as z.ZodType[];
        const key = (def.discriminator as string | undefined) ?? "plugin";
        node = options.find((o) => objectKeysAt(o, value, []).length > 0 && matchesVariant(o, key, value)) ?? options[0];
      } else return def;
    }
  };
  for (const seg of p) {
    const def = unwrap();
    if (!def) return [];
    if (def.type === "object") node = (def.shape as Record<string, unknown>)[seg as string];
    else if (def.type === "array") node = def.element;
    else return [];
    value = valueAt(value, [seg]);
  }
  const def = unwrap();
  return def?.type === "object" ? Object.keys(def.shape as object).sort() : [];
}

/** Whether a union variant is the one `value` selects by its discriminator (`plugin`, `type`). */
function matchesVariant(option: z.ZodType, key: string, value: unknown): boolean {
  type Def = { values?: unknown[]; innerType?: { _zod?: { def?: Def } }; shape?: Record<string, { _zod?: { def?: Def } }> };
  let def = (option as { _zod?: { def?: Def } })._zod?.def?.shape?.[key]?._zod?.def;
  while (def && !def.values && def.innerType) def = def.innerType._zod?.def; // through .default() and .optional()
  const literal = def?.values;
  return !literal || (isObject(value) && literal.includes(value[key]));
}

function describeExpected(expected: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "an integer",
    boolean: "true or false",
    array: "a list",
    object: "a mapping",
    null: "null",
  };
  return names[expected] ?? expected;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
    case "number":
      return `the number ${value}`;
    case "boolean":
      return String(value);
    case "object":
      return "a mapping";
    case "undefined":
      return "nothing";
    default:
      return typeof value;
  }
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.code}|${d.file}|${d.line}|${d.column}|${d.path}|${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function displayPath(absolute: string): string {
  const rel = path.relative(process.cwd(), absolute);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : absolute;
}
