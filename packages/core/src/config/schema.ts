/**
 * The pipeline schema, composed from the core's own blocks and the option schemas
 * of the installed plugins. The same validator produces the JSON Schema for editors.
 */
import { z } from "zod";
import type { Registry } from "../registry.js";
import type { OptionsSchema } from "../plugin.js";
import { LOAD_STRATEGIES } from "./types.js";

export const NAME_PATTERN = "^[a-z][a-z0-9_]{0,62}$";
export const NAME_RULE = "lowercase letters, digits and `_`, starting with a letter, at most 63 characters";
const name = () => z.string().regex(new RegExp(NAME_PATTERN));
const isoDate = () => z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: "expected a date as YYYY-MM-DD" });

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const pipelineBlock = z.strictObject({
  name: name().describe("Pipeline name: the DAG id, landing path segment and task prefix."),
  dag_id: name().optional().describe("Airflow dag_id; defaults to `name`."),
  description: z.string().optional(),
  schedule: z.string().min(1).nullable().default("@daily").describe("Cron expression or Airflow preset; null for manual runs only."),
  start_date: isoDate(),
  end_date: isoDate().optional(),
  catchup: z.boolean().default(false),
  owner: z.string().min(1).default("data-platform"),
  tags: z.array(z.string()).default([]),
  retries: z.number().int().min(0).max(100).default(2),
  retry_delay_minutes: z.number().positive().default(5),
  timezone: z.string().refine(isTimeZone, { message: "expected an IANA time zone such as UTC or America/New_York" }).default("UTC"),
  load_strategy: z.enum(LOAD_STRATEGIES).default("incremental"),
  lookback_days: z.number().int().min(1).max(3660).default(7),
  max_active_runs: z.number().int().min(1).default(1),
  airflow_version: z.union([z.literal(2), z.literal(3)]).default(3),
});

const landingBlock = z.strictObject({
  uri: z.string().min(1).default("file://.xo-foundry/landing").describe("file:// (relative to the project) or s3:// URI."),
});

const runnerBlock = z.strictObject({
  type: z.literal("bash").default("bash"),
  command: z.string().min(1).default("xo-foundry").describe("How Airflow workers start the CLI."),
});

const coreStream = { name: name() };

function streamSchema(streamOptions: OptionsSchema, target: z.ZodType) {
  return z.strictObject({ ...streamOptions.shape, ...coreStream, target: target.default({}) });
}

function sourceVariant(id: string, options: OptionsSchema, stream: OptionsSchema, target: z.ZodType) {
  return z.strictObject({
    ...options.shape,
    plugin: z.literal(id),
    connection: name().optional(),
    streams: z.array(streamSchema(stream, target)).min(1),
  });
}

function sinkVariant(id: string, options: OptionsSchema) {
  return z.strictObject({ ...options.shape, plugin: z.literal(id), connection: name().optional() });
}

/** Placeholder for a block whose plugin is unknown: its plugin error is reported on its own. */
const unknownPluginBlock = z.looseObject({ plugin: z.string() });

export interface SchemaChoice {
  /** Validate against this source plugin only; undefined accepts any installed one. */
  readonly source?: string | undefined;
  readonly sink?: string | undefined;
}

export function pipelineSchema(registry: Registry, choice: SchemaChoice = {}) {
  const sources = registry.sources();
  const sinks = registry.sinks();
  const strictTarget = (id: string) => {
    // .strict() keeps the sink's own object-level refinements (e.g. "merge needs keys").
    const target = registry.sink(id)?.target;
    return target ? target.strict() : z.looseObject({});
  };
  const anyTarget =
    choice.sink !== undefined
      ? strictTarget(choice.sink)
      : sinks.length
        ? z.union(sinks.map((s) => strictTarget(s.id)) as unknown as [z.ZodType, ...z.ZodType[]])
        : z.looseObject({});

  const pick = <T extends { id: string }>(all: readonly T[], id: string | undefined, make: (d: T) => z.ZodType): z.ZodType => {
    if (id !== undefined) {
      const found = all.find((d) => d.id === id);
      return found ? make(found) : unknownPluginBlock;
    }
    const variants = all.map(make);
    if (variants.length === 0) return unknownPluginBlock;
    if (variants.length === 1) return variants[0]!;
    return z.discriminatedUnion("plugin", variants as never);
  };

  const source = pick(sources, choice.source, (d) => sourceVariant(d.id, d.options, d.stream, anyTarget));
  const sink = pick(sinks, choice.sink, (d) => sinkVariant(d.id, d.options));

  return z.strictObject({
    pipeline: pipelineBlock,
    template: name().default("ingest"),
    source,
    landing: landingBlock.default({ uri: "file://.xo-foundry/landing" }),
    sink: sink.prefault({ plugin: "duckdb" }),
    runner: runnerBlock.default({ type: "bash", command: "xo-foundry" }),
  });
}

/** The project file, `xo-foundry.yaml`: defaults for every pipeline below it. */
export const projectSchema = z.strictObject({
  plugins: z.array(z.string().min(1)).optional().describe("Plugin packages to load; by default every dependency with an \"xo-foundry\" field."),
  defaults: z
    .strictObject({
      pipeline: z.looseObject({}).optional(),
      template: z.string().optional(),
      landing: z.looseObject({}).optional(),
      sink: z.looseObject({}).optional(),
      runner: z.looseObject({}).optional(),
    })
    .default({}),
});

export type ProjectConfig = z.infer<typeof projectSchema>;

/** JSON Schema (draft 2020-12) for pipeline files, for editors and the YAML language server. */
export function pipelineJsonSchema(registry: Registry): Record<string, unknown> {
  const schema = z.toJSONSchema(pipelineSchema(registry), { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, $id: "https://xo-foundry.dev/schema/pipeline.json", title: "xo-foundry pipeline" };
}
