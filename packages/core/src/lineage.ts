/**
 * Lineage, named one way everywhere: the OpenLineage name of any dataset a step reports
 * (a landed folder, an object, a table), and the static lineage graph of a project that
 * `xo-foundry lineage` draws. Both follow OpenLineage's naming conventions
 * (https://openlineage.io/docs/spec/naming): a namespace for where the data lives
 * (`s3://bucket`, `file`, a warehouse) and a name for what it is there, so the graph,
 * the runtime's OpenLineage events and the DAGs' Airflow assets meet on one name.
 */
import type { DatasetName, DatasetRef, ResolvedPipeline, SinkDefinition, StepType, TaskSpec } from "./plugin.js";
import type { Registry } from "./registry.js";
import { datasetUri, streamTable } from "./datasets.js";
import { requireGraph } from "./graph.js";
import { joinUri, resolveLandingUri } from "./paths.js";
import { compareCodePoints } from "./python.js";
import { findStream, LOAD_STRATEGIES, pluginOptions, RESERVED_SOURCE_KEYS, RESERVED_STREAM_KEYS, type StreamRoute } from "./config/types.js";

// ---------------------------------------------------------------- naming

/** Object stores: the bucket is the namespace, the key (without a leading `/`) the name. */
const OBJECT_STORES: ReadonlySet<string> = new Set(["s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "wasbs"]);

/**
 * `<folder>/<strategy>/<partition>` as the path builder writes stage partitions: one date of
 * a dataset, not a dataset of its own, so lineage names the folder above it.
 */
const PARTITION = new RegExp(`/(?:${LOAD_STRATEGIES.join("|")})/(?:snapshot_date=[^/]+|date=[^/]+|from=[^/]+_to=[^/]+)/*$`);

/** The dataset a stage partition URI belongs to: the stream's (or step's) folder; other URIs as they are. */
export function partitionedDatasetUri(uri: string): string {
  return uri.replace(PARTITION, "");
}

/**
 * A URI without what must never leave the process: the user and password of its authority
 * and its query string (presigned URLs carry tokens there).
 */
export function withoutCredentials(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(uri);
  const bare = m ? `${m[1]}${m[2]!.replace(/^.*@/, "")}${m[3]}` : uri;
  return bare.replace(/\?[^#]*/, "");
}

/**
 * The OpenLineage name of a dataset a step read or wrote. A ref that names itself
 * (`namespace` and `name`, as a load's table does) keeps its name; a URI is named by the
 * conventions: `s3://bucket/key` -> (`s3://bucket`, `key`), `file:///p` -> (`file`, `/p`),
 * `scheme://host/path#part` -> (`scheme://host/path`, `part`) for a table inside a file
 * (`duckdb:///w.duckdb#main.orders`), anything else -> (`scheme://host[:port]`, `/path`).
 * A stage partition is named as its folder, and credentials never reach the name.
 */
export function openLineageName(ref: DatasetRef | string): DatasetName {
  if (typeof ref !== "string" && ref.namespace !== undefined && ref.name !== undefined) {
    return { namespace: withoutCredentials(ref.namespace), name: ref.name };
  }
  const uri = withoutCredentials(partitionedDatasetUri(typeof ref === "string" ? ref : ref.uri));
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/#]*)([^#]*)(?:#(.*))?$/i.exec(uri);
  if (!m) return { namespace: "xo-foundry", name: uri };
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  const path = m[3]!;
  if (m[4] !== undefined) return { namespace: `${scheme}://${authority}${path}`, name: decode(m[4]) };
  const folder = decode(path).replace(/(.)\/+$/, "$1");
  if (scheme === "file") return { namespace: authority === "" || authority === "localhost" ? "file" : `file://${authority}`, name: folder || "/" };
  if (OBJECT_STORES.has(scheme)) return { namespace: `${scheme}://${authority}`, name: folder.replace(/^\/+/, "") || "/" };
  return { namespace: `${scheme}://${authority}`, name: folder || "/" };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------- tables of a sink

/**
 * A table in one of the pipeline's sinks, for steps that know a table by name but not how
 * the sink names it (`sql.run`, dbt): `xo-sink://<sink>` / `table/<table>`. Core resolves it
 * with the sink's own naming (`resolveDataset`), as a load into that table is named. An
 * empty sink means the pipeline's only sink.
 */
export function sinkTable(sink: string | undefined, table: string): DatasetName {
  return { namespace: `xo-sink://${encodeURIComponent(sink ?? "")}`, name: `table/${encodeURIComponent(table)}` };
}

/**
 * A folder of the pipeline's landing zone (`stage/<pipeline>/_steps/<task>`), for steps that
 * publish files there: `xo-landing://` / the path. `resolveDataset` names it where the
 * landing zone is, as the runtime names what the step wrote; until then it holds no
 * absolute path, so it is the same on every machine.
 */
export function landingFolder(relativePath: string): DatasetName {
  return { namespace: "xo-landing://", name: relativePath.replace(/^\/+|\/+$/g, "") };
}

/**
 * The name of `dataset` as the rest of lineage knows it: a `sinkTable` named by its sink
 * (`schema.table` sets the sink's schema, `db.schema.table` its database too, where the sink
 * has such options), a `landingFolder` in the pipeline's landing zone; any other name as it is.
 */
export function resolveDataset(pipeline: ResolvedPipeline, registry: SinkLookup, dataset: DatasetName): DatasetName {
  if (dataset.namespace === "xo-landing://") {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(pipeline.config.landing.uri)?.[1]?.toLowerCase() ?? "file";
    try {
      return openLineageName(joinUri(resolveLandingUri(pipeline.config.landing.uri, pipeline.projectDir, [scheme]), dataset.name));
    } catch {
      return dataset;
    }
  }
  const m = /^xo-sink:\/\/([^/]*)$/.exec(dataset.namespace);
  const t = /^table\/(.+)$/.exec(dataset.name);
  const sinkOf = registry.sink?.bind(registry);
  if (!m || !t || !sinkOf) return dataset;
  const sinks = Object.keys(pipeline.config.sinks);
  const sink = decode(m[1]!) || (sinks.length === 1 ? sinks[0]! : "");
  const block = pipeline.config.sinks[sink];
  const def = block && sinkOf(block.plugin);
  if (!block || !def) return dataset;
  const parts = splitName(decode(t[1]!));
  const table = parts.pop()!;
  const shape = (def.options as { shape?: Record<string, unknown> }).shape ?? {};
  const overrides: Record<string, string> = {};
  if (parts.length > 0 && "schema" in shape) overrides.schema = parts.pop()!;
  if (parts.length > 0 && "database" in shape) overrides.database = parts.pop()!;
  const config = { ...pipeline.config, sinks: { ...pipeline.config.sinks, [sink]: { ...block, ...overrides } } };
  const route: StreamRoute = { source: "", sink, stream: { name: table, target: { table } } };
  return streamTable({ ...pipeline, config }, { sink: sinkOf }, route, sink) ?? dataset;
}

/** Where lineage finds sinks, to name their tables: the registry, or the graph's StepLookup. */
export interface SinkLookup {
  sink?(id: string): SinkDefinition | undefined;
}

/** `a.b."c.d"` -> [a, b, c.d]. */
function splitName(name: string): string[] {
  return [...name.matchAll(/"((?:[^"]|"")*)"|([^."]+)/g)].map((p) => (p[1] !== undefined ? p[1].replaceAll('""', '"') : p[2]!));
}

// ---------------------------------------------------------------- static graph

/**
 * What a step's `lineage()` may return: its reads and writes, and optionally which read
 * feeds which write (a dbt model from its parents), so the graph need not join every read
 * to every write.
 */
export interface StepLineage {
  readonly reads: readonly DatasetName[];
  readonly writes: readonly DatasetName[];
  readonly edges?: readonly { readonly from: DatasetName; readonly to: DatasetName }[];
}

/**
 * A node's role, and the graph's columns left to right: a source's stream, its landed folder,
 * a table a load writes, what steps make of tables (models), datasets only read (made
 * elsewhere), where steps deliver, and a pipeline that an asset starts but whose steps
 * name no dataset.
 */
export const LINEAGE_KINDS = ["source", "landing", "table", "model", "dataset", "destination", "pipeline"] as const;
export type LineageKind = (typeof LINEAGE_KINDS)[number];

export interface LineageNode {
  /** `source:<pipeline>.<stream>`, `dataset:<namespace>/<name>`, `destination:<where>` or `pipeline:<name>`. */
  readonly id: string;
  readonly kind: LineageKind;
  readonly label: string;
  /** The pipeline that writes it (or, for a dataset only read, the first that reads it). */
  readonly pipeline?: string;
  /** Its Airflow asset URI (`datasetUri`) for datasets, where it is for sources and destinations. */
  readonly uri?: string;
  /** OpenLineage's name of a dataset. */
  readonly namespace?: string;
  readonly name?: string;
  /** One line for people: the plugin and connection of a source, the namespace of a table. No secrets. */
  readonly detail?: string;
}

export interface LineageEdge {
  readonly from: string;
  readonly to: string;
  readonly pipeline: string;
  /** The task that moves the data, or `schedule` for a pipeline that runs when `from` is updated. */
  readonly via: string;
  /** `trigger`: the pipeline is scheduled on `from` (`schedule: { assets: [...] }`). */
  readonly kind: "data" | "trigger";
}

export interface LineageGraph {
  readonly nodes: readonly LineageNode[];
  readonly edges: readonly LineageEdge[];
}

export interface LineageInput {
  readonly pipeline: ResolvedPipeline;
  /** The pipeline's own project registry, when the pipelines come from several projects. */
  readonly registry?: Registry;
}

/** Stream options that say where a source reads, in the order tried. Never credentials: those are in connections. */
const ENDPOINT_KEYS = ["uri", "url", "path", "endpoint", "folder", "resource", "object", "spreadsheet_id", "sheet", "table"];

/**
 * The lineage of validated pipelines: per pipeline, each stream's source -> landing folder
 * -> table, then what the steps read and write (StepType.lineage) and deliver
 * (StepType.destination). A pipeline scheduled on an asset runs after the table with that
 * URI. Nodes and edges come out in one order for the same input.
 */
export function projectLineage(loads: readonly LineageInput[], registry: Registry): LineageGraph {
  const graph = new GraphBuilder();
  const ordered = [...loads].sort((a, b) => compareCodePoints(a.pipeline.config.pipeline.name, b.pipeline.config.pipeline.name) || compareCodePoints(a.pipeline.file, b.pipeline.file));
  for (const load of ordered) pipelineLineage(graph, load.pipeline, load.registry ?? registry);
  for (const load of ordered) scheduleEdges(graph, load.pipeline);
  return graph.build();
}

function pipelineLineage(graph: GraphBuilder, pipeline: ResolvedPipeline, registry: Registry): void {
  const config = pipeline.config;
  const name = config.pipeline.name;
  const template = registry.template(config.template);
  if (!template) return;
  let tasks: readonly TaskSpec[];
  let root: string | undefined;
  try {
    tasks = requireGraph(pipeline, template, registry);
  } catch {
    return; // validation reports why; a graph of what cannot run would mislead
  }
  try {
    root = resolveLandingUri(config.landing.uri, pipeline.projectDir, registry.landings().map((l) => l.scheme));
  } catch {
    root = undefined;
  }
  const rootName = root === undefined ? undefined : openLineageName(root);
  const dataset = (d: DatasetName, kind: LineageKind) => graph.dataset(resolveDataset(pipeline, registry, d), kind, name, rootName);
  const landing = (stream: string) => root && dataset(openLineageName(joinUri(root, "stage", name, stream)), "landing");
  const outputs = new Map<string, Set<string>>();
  const output = (task: string, id: string) => outputs.set(task, (outputs.get(task) ?? new Set()).add(id));
  const edge = (from: string | undefined, to: string | undefined, via: string) => {
    if (from === undefined || to === undefined || from === to) return;
    graph.edge({ from, to, pipeline: name, via, kind: "data" });
    output(via, to);
  };

  for (const task of tasks) {
    const route = typeof task.with.stream === "string" ? findStream(config, task.with.stream) : undefined;
    if (task.step === "extract" && route) {
      edge(graph.source(pipeline, registry, route), landing(route.stream.name), task.id);
    } else if (task.step === "load" && route && typeof task.with.sink === "string") {
      const table = streamTable(pipeline, registry, route, task.with.sink);
      edge(landing(route.stream.name), table && dataset(table, "table"), task.id);
    } else {
      const type = registry.step(task.step);
      const lineage = type && stepLineage(pipeline, type, task);
      if (!lineage) continue;
      const reads = lineage.reads.map((d) => dataset(d, "dataset"));
      const writes = lineage.writes.map((d) => dataset(d, "model"));
      if (lineage.edges) for (const e of lineage.edges) edge(dataset(e.from, "dataset"), dataset(e.to, "model"), task.id);
      else for (const w of writes) for (const r of reads) edge(r, w, task.id);
      for (const w of writes) output(task.id, w);
    }
  }
  // Deliveries send what the tasks right before them wrote.
  for (const task of tasks) {
    const type = registry.step(task.step);
    if (!type?.destination) continue;
    let where: string | undefined;
    try {
      where = type.destination({ options: type.options.parse(task.with), connection: task.connection });
    } catch {
      where = undefined;
    }
    if (where === undefined) continue;
    const to = graph.destination(withoutCredentials(where), name, `${task.step} (${task.id})`);
    for (const from of task.upstream.flatMap((u) => [...(outputs.get(u) ?? [])])) graph.edge({ from, to, pipeline: name, via: task.id, kind: "data" });
  }
}

/**
 * What one task's step says it reads and writes (StepType.lineage), its sink tables named by
 * their sinks and its landing folders where the landing zone is; undefined when it cannot
 * tell. DAG assets want only the writes whose names are the same on every machine: leave out
 * the `file` namespace (a local landing zone's absolute paths).
 */
export function taskLineage(pipeline: ResolvedPipeline, registry: SinkLookup & { step(id: string): StepType | undefined }, task: TaskSpec): StepLineage | undefined {
  const type = registry.step(task.step);
  const lineage = type && stepLineage(pipeline, type, task);
  if (!lineage) return undefined;
  const resolve = (d: DatasetName) => resolveDataset(pipeline, registry, d);
  return {
    reads: lineage.reads.map(resolve),
    writes: lineage.writes.map(resolve),
    ...(lineage.edges ? { edges: lineage.edges.map((e) => ({ from: resolve(e.from), to: resolve(e.to) })) } : {}),
  };
}

function stepLineage(pipeline: ResolvedPipeline, type: StepType, task: TaskSpec): StepLineage | undefined {
  if (!type.lineage) return undefined;
  try {
    const options: unknown = type.options.parse(task.with);
    return type.lineage({ stepId: task.id, options, pipeline: pipeline.config, projectDir: pipeline.projectDir }) as StepLineage | undefined;
  } catch {
    return undefined; // lineage is a courtesy: a step that cannot tell adds nothing
  }
}

/** `schedule: { assets: [uri] }`: the table with that URI starts the pipeline's first nodes. */
function scheduleEdges(graph: GraphBuilder, pipeline: ResolvedPipeline): void {
  const schedule = pipeline.config.pipeline.schedule;
  if (schedule === null || typeof schedule !== "object") return;
  const name = pipeline.config.pipeline.name;
  const roots = graph.roots(name);
  for (const uri of schedule.assets) {
    const from = graph.asset(uri, name);
    const targets = roots.length > 0 ? roots : [graph.pipeline(name)];
    for (const to of targets) graph.edge({ from, to, pipeline: name, via: "schedule", kind: "trigger" });
  }
}

/** Later kinds win when one dataset has several roles: a table a step also rewrites stays a table. */
const KIND_RANK: Readonly<Record<LineageKind, number>> = { dataset: 0, landing: 1, model: 2, destination: 3, pipeline: 4, source: 5, table: 6 };

class GraphBuilder {
  private readonly nodes = new Map<string, LineageNode>();
  private readonly edges = new Map<string, LineageEdge>();

  source(pipeline: ResolvedPipeline, registry: Registry, route: StreamRoute): string {
    const block = pipeline.config.sources[route.source]!;
    const name = pipeline.config.pipeline.name;
    const options = { ...pluginOptions(block, RESERVED_SOURCE_KEYS), ...pluginOptions(route.stream, RESERVED_STREAM_KEYS) };
    const key = ENDPOINT_KEYS.find((k) => typeof options[k] === "string" && options[k] !== "");
    const endpoint = key === undefined ? undefined : withoutCredentials(String(options[key]));
    const plugin = registry.source(block.plugin)?.id ?? block.plugin;
    const detail = [plugin, block.connection, endpoint].filter((p) => p !== undefined).join(" · ");
    const id = `source:${name}.${route.stream.name}`;
    this.put({ id, kind: "source", label: route.stream.name, pipeline: name, ...(endpoint !== undefined ? { uri: endpoint } : {}), detail });
    return id;
  }

  dataset(d: DatasetName, kind: LineageKind, pipeline: string, landing: DatasetName | undefined): string {
    const uri = datasetUri(d);
    const id = `dataset:${uri}`;
    // A dataset in the landing zone is labelled by its path there: `stage/shop/orders`.
    const under = landing !== undefined && d.namespace === landing.namespace ? pathUnder(d.name, landing.name) : undefined;
    const role = under !== undefined && kind !== "table" ? "landing" : kind;
    this.put({ id, kind: role, label: under ?? d.name, pipeline, uri, namespace: d.namespace, name: d.name, detail: d.namespace });
    return id;
  }

  pipeline(name: string): string {
    const id = `pipeline:${name}`;
    this.put({ id, kind: "pipeline", label: name, pipeline: name, detail: "runs when its assets are updated; its steps name no datasets" });
    return id;
  }

  destination(where: string, pipeline: string, detail: string): string {
    const id = `destination:${where}`;
    this.put({ id, kind: "destination", label: where, pipeline, uri: where, detail });
    return id;
  }

  /** The node of an asset URI; a table nobody in these pipelines loads when none has it. */
  asset(uri: string, pipeline: string): string {
    for (const node of this.nodes.values()) if (node.uri === uri && node.id.startsWith("dataset:")) return node.id;
    const id = `dataset:${uri}`;
    this.put({ id, kind: "table", label: uri, pipeline, uri, detail: "an asset no pipeline here writes" });
    return id;
  }

  edge(e: LineageEdge): void {
    this.edges.set(JSON.stringify([e.from, e.to, e.pipeline, e.via]), e);
  }

  /** The nodes a pipeline's data edges start from and none of its edges reach. */
  roots(pipeline: string): string[] {
    const mine = [...this.edges.values()].filter((e) => e.pipeline === pipeline && e.kind === "data");
    const reached = new Set(mine.map((e) => e.to));
    return [...new Set(mine.map((e) => e.from))].filter((id) => !reached.has(id)).sort(compareCodePoints);
  }

  private put(node: LineageNode): void {
    const old = this.nodes.get(node.id);
    if (!old) return void this.nodes.set(node.id, node);
    // The writer's pipeline and role win: a table loaded by one pipeline and read by another is the loader's.
    if (KIND_RANK[node.kind] > KIND_RANK[old.kind]) this.nodes.set(node.id, node);
  }

  build(): LineageGraph {
    const order = (k: LineageKind) => LINEAGE_KINDS.indexOf(k);
    const nodes = [...this.nodes.values()].sort((a, b) => order(a.kind) - order(b.kind) || compareCodePoints(a.id, b.id));
    const edges = [...this.edges.values()].sort(
      (a, b) => compareCodePoints(a.from, b.from) || compareCodePoints(a.to, b.to) || compareCodePoints(a.pipeline, b.pipeline) || compareCodePoints(a.via, b.via),
    );
    return { nodes, edges };
  }
}

/** `name` relative to `folder` when it is inside it, else undefined. */
function pathUnder(name: string, folder: string): string | undefined {
  if (folder === "/" || folder === "") return name.replace(/^\/+/, "");
  return name.startsWith(`${folder}/`) ? name.slice(folder.length + 1) : undefined;
}
