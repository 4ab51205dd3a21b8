/**
 * The plugin contract. Every source, sink, landing zone and DAG template is
 * provided by a plugin: a plain object made by a factory function, branded with
 * `kind` and versioned with `apiVersion` so the core can refuse plugins written
 * against another contract with a clear message instead of failing later.
 */
import type { z } from "zod";
import type { Logger } from "./log.js";
import type { LandingStore } from "./landing.js";
import type { Connection } from "./connections.js";
import type { LoadStrategy, PipelineConfig, StreamConfig } from "./config/types.js";

/** Bumped on every breaking change to the interfaces in this file. */
export const PLUGIN_API_VERSION = 1;

export const PLUGIN_KIND = "xo-foundry/plugin";

/** Any zod object schema; plugin options are always objects so they can be merged into the config. */
export type OptionsSchema = z.ZodObject<z.ZodRawShape>;

export interface XoPlugin {
  readonly kind: typeof PLUGIN_KIND;
  readonly apiVersion: number;
  /** npm-style name, unique among the loaded plugins, e.g. `@xo-foundry/plugin-api`. */
  readonly name: string;
  readonly version: string;
  readonly sources?: readonly SourceDefinition[];
  readonly sinks?: readonly SinkDefinition[];
  readonly templates?: readonly TemplateDefinition[];
  readonly landings?: readonly LandingDefinition[];
}

/** The time window a task run covers, derived from the logical date and the load strategy. */
export interface DataWindow {
  /** `YYYY-MM-DD`, the Airflow logical date (`{{ ds }}`). */
  readonly logicalDate: string;
  /** Inclusive start, ISO 8601 with offset, in the pipeline timezone. */
  readonly start: string;
  /** Exclusive end, ISO 8601 with offset, in the pipeline timezone. */
  readonly end: string;
  readonly timezone: string;
}

export interface StepContext {
  readonly pipeline: PipelineConfig;
  /** The project root; relative paths in options (e.g. a database file) resolve against it. */
  readonly projectDir: string;
  readonly stream: StreamConfig;
  readonly strategy: LoadStrategy;
  readonly window: DataWindow;
  readonly runId: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

// ---------------------------------------------------------------- sources

export type FileFormat = "ndjson" | "csv" | "json" | "parquet";

/** What a source yields: pages of records (written to NDJSON by the runtime) or whole files. */
export type ExtractBatch =
  | { readonly type: "records"; readonly records: readonly Record<string, unknown>[] }
  | {
      readonly type: "file";
      /** A safe file name; the runtime places it under the landing partition. */
      readonly name: string;
      readonly format: FileFormat;
      readonly body: AsyncIterable<Uint8Array>;
      /** Row count when the source knows it without reading the body. */
      readonly rows?: number;
      /** Facts about the origin (e.g. an object's size, last-modified, etag), kept in the manifest. */
      readonly metadata?: Readonly<Record<string, string | number>>;
    };

export interface ExtractContext<SourceOptions = Record<string, unknown>, StreamOptions = Record<string, unknown>>
  extends StepContext {
  /** Source-level options (the `source:` block minus the keys the core owns). */
  readonly options: SourceOptions;
  /** This stream's plugin options (the stream entry minus the keys the core owns). */
  readonly streamOptions: StreamOptions;
  readonly connection: Connection | undefined;
}

export interface SourceDefinition<SourceOptions = any, StreamOptions = any> {
  /** Referenced from the config as `source.plugin`. */
  readonly id: string;
  readonly description: string;
  /** Keys accepted in the `source:` block next to `plugin`, `connection` and `streams`. */
  readonly options: OptionsSchema;
  /** Keys accepted in each `source.streams[]` entry next to `name` and `target`. */
  readonly stream: OptionsSchema;
  /** Whether a connection is required (the config must then name one). */
  readonly connection?: "required" | "optional";
  extract(ctx: ExtractContext<SourceOptions, StreamOptions>): AsyncIterable<ExtractBatch>;
}

// ---------------------------------------------------------------- sinks

export interface ManifestFile {
  /** Absolute `file://` or `s3://` URI of the landed file. */
  readonly uri: string;
  readonly format: FileFormat;
  readonly bytes: number;
  readonly sha256: string;
  readonly rows?: number;
  /** What the source reported about the file's origin. */
  readonly metadata?: Readonly<Record<string, string | number>>;
}

/** The small record that moves between steps (and through XCom) instead of data. */
export interface Manifest {
  readonly version: 1;
  readonly pipeline: string;
  readonly stream: string;
  readonly strategy: LoadStrategy;
  readonly logicalDate: string;
  readonly runId: string;
  /** The stage partition URI the files were published to. */
  readonly partition: string;
  readonly files: readonly ManifestFile[];
  readonly rows: number;
  readonly bytes: number;
}

export interface LoadContext<SinkOptions = Record<string, unknown>, TargetOptions = Record<string, unknown>>
  extends StepContext {
  readonly options: SinkOptions;
  /** This stream's `target:` block, validated by the sink's `target` schema. */
  readonly target: TargetOptions;
  readonly connection: Connection | undefined;
  readonly manifest: Manifest;
  /** A local path for a landed file (a download for remote landing zones). */
  localPath(file: ManifestFile): Promise<string>;
}

export interface LoadResult {
  /** Fully qualified table name as the warehouse spells it. */
  readonly table: string;
  readonly rowsLoaded: number;
  /** Row count of the table after the load, when cheap to get. */
  readonly rowsInTable?: number;
}

export interface SinkDefinition<SinkOptions = any, TargetOptions = any> {
  /** Referenced from the config as `sink.plugin`. */
  readonly id: string;
  readonly description: string;
  /** Keys accepted in the `sink:` block next to `plugin` and `connection`. */
  readonly options: OptionsSchema;
  /** Keys accepted in each stream's `target:` block. */
  readonly target: OptionsSchema;
  readonly connection?: "required" | "optional";
  load(ctx: LoadContext<SinkOptions, TargetOptions>): Promise<LoadResult>;
}

// ---------------------------------------------------------------- landing zones

export interface LandingDefinition {
  /** URI scheme served, e.g. `s3`. `file` is built in. */
  readonly scheme: string;
  readonly description: string;
  open(uri: string, connection: Connection | undefined): LandingStore;
}

// ---------------------------------------------------------------- templates

export type TaskKind = "extract" | "load";

/** One node of a pipeline's task graph; the same graph drives Airflow and `xo-foundry run`. */
export interface TaskSpec {
  /** A legal Airflow task id (`[a-z0-9_]`), unique in the pipeline. */
  readonly id: string;
  readonly kind: TaskKind;
  readonly stream: string;
  readonly upstream: readonly string[];
}

/** Everything a template needs to render one DAG file, already validated. */
export interface RenderInput {
  readonly pipeline: ResolvedPipeline;
  readonly tasks: readonly TaskSpec[];
  readonly airflowVersion: 2 | 3;
  /** Lines for the file header, in order (generator and plugin versions, config hash). */
  readonly header: readonly string[];
}

export interface TemplateDefinition {
  /** Referenced from the config as `template`. */
  readonly id: string;
  readonly description: string;
  tasks(pipeline: ResolvedPipeline): readonly TaskSpec[];
  /** Returns the complete Python source of the DAG file. Must be deterministic. */
  render(input: RenderInput): string;
}

/** A validated pipeline together with where it came from. */
export interface ResolvedPipeline {
  readonly config: PipelineConfig;
  /** Absolute path of the pipeline YAML file. */
  readonly file: string;
  /** The project root (where `xo-foundry.yaml` is, else the file's directory). */
  readonly projectDir: string;
  /** The pipeline file relative to `projectDir`, with `/` separators. */
  readonly relativeFile: string;
  /** sha256 of the canonical JSON of `config` (after defaults were merged). */
  readonly configHash: string;
}

export function definePlugin(plugin: Omit<XoPlugin, "kind" | "apiVersion"> & { apiVersion?: number }): XoPlugin {
  return { kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, ...plugin };
}
