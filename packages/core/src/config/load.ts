/**
 * Loading a pipeline: read the YAML with positions, merge the project defaults,
 * validate against the schema composed from the installed plugins, then run the
 * checks zod cannot express (unique names, safe paths). Every problem of a file
 * is collected; nothing throws for bad input.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { diagnostic, type Diagnostic, type Location } from "../errors.js";
import type { ResolvedPipeline } from "../plugin.js";
import { suggestName, type Registry } from "../registry.js";
import { pipelineSchema, NAME_RULE, NAME_PATTERN } from "./schema.js";
import { pluginOptions, RESERVED_SINK_KEYS, RESERVED_SOURCE_KEYS, RESERVED_STREAM_KEYS, type PipelineConfig } from "./types.js";
import { hasPath, locate, parseYaml, type ParsedYaml, type PathSegment } from "./yaml.js";
import type { Project } from "./project.js";

export interface PipelineLoad {
  readonly pipeline?: ResolvedPipeline;
  readonly diagnostics: readonly Diagnostic[];
}

/** Characters a pipeline file path may use: it is passed to Airflow tasks on the command line. */
const SAFE_RELATIVE_PATH = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

export async function loadPipeline(file: string, project: Project): Promise<PipelineLoad> {
  const absolute = path.resolve(file);
  const display = displayPath(absolute);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch {
    return { diagnostics: [diagnostic("XO_CONFIG_NOT_FOUND", { file: display })] };
  }
  const parsed = parseYaml(text, display);
  if (parsed.diagnostics.length) return { diagnostics: parsed.diagnostics };
  return validatePipeline(parsed, absolute, project);
}

export function validatePipeline(parsed: ParsedYaml, absolute: string, project: Project): PipelineLoad {
  const diagnostics: Diagnostic[] = [];
  const raw = parsed.value;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { diagnostics: [diagnostic("XO_CONFIG_NOT_A_MAPPING", { found: describe(raw) }, { file: parsed.file, line: 1, column: 1 })] };
  }
  const merged = mergeDefaults(project.defaults, raw as Record<string, unknown>);
  const where = (p: readonly PathSegment[], mode: "key" | "value" = "value") => locateMerged(parsed, project, p, mode);
  const { registry } = project;

  const pluginOf = (block: string): string | undefined => {
    const b = merged[block];
    return typeof b === "object" && b !== null && typeof (b as Record<string, unknown>).plugin === "string"
      ? ((b as Record<string, unknown>).plugin as string)
      : undefined;
  };
  const sourceId = pluginOf("source");
  const sinkId = pluginOf("sink") ?? "duckdb";
  const unknownPlugin = (what: "source" | "sink" | "template", id: string, p: PathSegment[]) => {
    const { available, suggestion } = registry.suggest(what, id);
    diagnostics.push(diagnostic("XO_PLUGIN_UNKNOWN", { what, id, suggestion, available }, where(p)));
  };
  if (sourceId !== undefined && !registry.source(sourceId)) unknownPlugin("source", sourceId, ["source", "plugin"]);
  if (!registry.sink(sinkId)) unknownPlugin("sink", sinkId, ["sink", "plugin"]);
  const templateId = typeof merged.template === "string" ? merged.template : "ingest";
  if (!registry.template(templateId)) unknownPlugin("template", templateId, ["template"]);

  const schema = pipelineSchema(registry, { source: sourceId, sink: sinkId });
  const result = schema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) diagnostics.push(issueToDiagnostic(issue, merged, schema, where));
  }
  const config = result.success ? (result.data as unknown as PipelineConfig) : undefined;
  if (config) diagnostics.push(...pluginRefinements(config, registry, merged, where));

  // Checks zod cannot express.
  const streams = (merged.source as { streams?: unknown } | undefined)?.streams;
  if (Array.isArray(streams)) {
    const seen = new Map<string, number>();
    streams.forEach((s, i) => {
      const name = (s as { name?: unknown } | null)?.name;
      if (typeof name !== "string") return;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i);
      else {
        diagnostics.push(
          diagnostic(
            "XO_CONFIG_DUPLICATE_NAME",
            { what: "stream name", value: name, firstPath: `source.streams[${first}].name` },
            where(["source", "streams", i, "name"]),
          ),
        );
      }
    });
  }
  const relativeFile = path.relative(project.dir, absolute).split(path.sep).join("/");
  if (!SAFE_RELATIVE_PATH.test(relativeFile)) {
    diagnostics.push(diagnostic("XO_CONFIG_UNSAFE_PATH", { value: relativeFile }, { file: parsed.file, line: 1, column: 1 }));
  }

  const errors = dedupe(diagnostics);
  if (errors.some((d) => d.severity === "error") || !config) return { diagnostics: errors };
  const normalized = normalize(config);
  return {
    pipeline: { config: normalized, file: absolute, projectDir: project.dir, relativeFile, configHash: configHash(normalized) },
    diagnostics: errors,
  };
}

/**
 * The composed schema merges plugin option shapes, which drops a plugin's
 * object-level checks (e.g. "`metric_set` is required when `kind: report`").
 * Once the shapes pass, each block is checked again with the plugin's own schema.
 */
function pluginRefinements(
  config: PipelineConfig,
  registry: Registry,
  merged: Record<string, unknown>,
  where: (p: readonly PathSegment[], mode?: "key" | "value") => Location,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const check = (schema: z.ZodType | undefined, value: Record<string, unknown>, at: PathSegment[]) => {
    if (!schema) return;
    const result = schema.safeParse(value);
    if (result.success) return;
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") continue; // the core's keys; already checked by the composed schema
      const prefixed = { ...issue, path: [...at, ...issue.path] } as Issue;
      out.push(issueToDiagnostic(prefixed, merged, schema, where));
    }
  };
  const source = registry.source(config.source.plugin);
  check(source?.options, pluginOptions(config.source, RESERVED_SOURCE_KEYS), ["source"]);
  config.source.streams.forEach((stream, i) => check(source?.stream, pluginOptions(stream, RESERVED_STREAM_KEYS), ["source", "streams", i]));
  check(registry.sink(config.sink.plugin)?.options, pluginOptions(config.sink, RESERVED_SINK_KEYS), ["sink"]);
  return out;
}

/** Fills the derived defaults that depend on other values. */
function normalize(config: PipelineConfig): PipelineConfig {
  return { ...config, pipeline: { ...config.pipeline, dag_id: config.pipeline.dag_id ?? config.pipeline.name } };
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

/** Precedence, lowest first: built-in defaults (schema), project `defaults:`, the pipeline file. */
export function mergeDefaults(defaults: Record<string, unknown>, pipeline: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...pipeline };
  for (const [block, value] of Object.entries(defaults)) {
    if (value === undefined) continue;
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
  if (!hasPath(parsed, p) && project.parsed && p.length > 0 && hasPath(project.parsed, ["defaults", ...p])) {
    return { ...at(project.parsed, ["defaults", ...p]), path: dotted };
  }
  return { ...at(parsed, p), path: dotted };
}

export function dottedPath(p: readonly PathSegment[]): string {
  return p.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

// ---------------------------------------------------------------- zod issues

type Issue = z.core.$ZodIssue;

function issueToDiagnostic(
  issue: Issue,
  input: unknown,
  schema: z.ZodType,
  where: (p: readonly PathSegment[], mode?: "key" | "value") => Location,
): Diagnostic {
  const p = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
  const value = valueAt(input, p);
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = issue.keys[0]!;
      const allowed = objectKeysAt(schema, input, p);
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
        const what = last === "name" && p[0] === "source" ? "stream name" : last === "name" ? "pipeline name" : String(last ?? "name");
        return diagnostic("XO_CONFIG_UNSAFE_NAME", { what, value, pattern: NAME_RULE }, where(p));
      }
      return diagnostic("XO_CONFIG_INVALID_VALUE", { detail: issue.message, found: describe(value) }, where(p));
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
