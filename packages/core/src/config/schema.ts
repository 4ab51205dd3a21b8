/**
 * The pipeline schema, composed from the core's own blocks and the option schemas
 * of the installed plugins. The same validator produces the JSON Schema for editors.
 */
import { z } from "zod";
import type { Registry } from "../registry.js";
import type { OptionsSchema } from "../plugin.js";
import {
  COMPARISONS,
  IMAGE_PULL_POLICIES,
  LOAD_STRATEGIES,
  TRIGGER_RULES,
  WEEKDAYS,
  POD_FINISH_ACTIONS,
  STREAM_MODES,
  RUNNER_ENV_RESERVED,
  RUNNER_ENV_RESERVED_PREFIX,
  isReservedRunnerEnv,
} from "./types.js";
import { parseDate } from "../dates.js";
import { pipelineSchedule } from "./schedule.js";
import { timeZoneSchema } from "./timezone.js";
import { alertEntry, checksBlock, deadlineBlock } from "./quality.js";

/**
 * A name people read (a table, a column) written into SQL or a path: a control character
 * never belongs there, and a NUL would cut the name short.
 */
export function nameWithoutControlCharacters(what = "a table name") {
  return z
    .string()
    .min(1)
    .check((ctx) => {
      const control = /\p{Cc}/u.exec(ctx.value);
      if (!control) return;
      const code = control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message: `${what} cannot contain control characters (found U+${code} at character ${control.index + 1})`,
        params: { expected: `${what} without control characters (NUL, tab, line breaks, ...)` },
      });
    });
}

export const NAME_PATTERN = "^[a-z][a-z0-9_]{0,62}$";
export const NAME_RULE = "lowercase letters, digits and `_`, starting with a letter, at most 63 characters";
const name = () => z.string().regex(new RegExp(NAME_PATTERN));

/**
 * A pipeline file's path relative to its project, as validation and the emitter both
 * check it: it becomes a word of a bash command line and an argument of `xo-foundry
 * task`, so it holds nothing bash gives meaning to, no part reads as an option (`-x`),
 * and no part is `.` or `..`.
 */
export function isSafeRelativePath(relative: string): boolean {
  return relative.split("/").every((part) => /^[A-Za-z0-9._-]+$/.test(part) && !part.startsWith("-") && part !== "." && part !== "..");
}

// The dates pendulum can hold in every zone: 9999-12-31 overflows Python's datetime
// west of UTC, and years before 1900 are typos in a data pipeline.
export const MIN_DATE = "1900-01-01";
export const MAX_DATE = "9999-12-30";
const DATE_FORMAT = /^\d{4}-\d{2}-\d{2}$/;

/** Why `value` is not a date a DAG can start or end on, or undefined when it is one. */
function dateProblem(value: string): string | undefined {
  if (!DATE_FORMAT.test(value)) return undefined; // reported by the format check
  try {
    parseDate(value);
  } catch {
    return `${value} is not a date: the month has no such day`;
  }
  if (value < MIN_DATE || value > MAX_DATE) return `${value} is outside ${MIN_DATE}..${MAX_DATE}, the dates Airflow can schedule in every time zone`;
  return undefined;
}

const isoDate = () =>
  z
    .string()
    .regex(DATE_FORMAT, { message: "expected a date as YYYY-MM-DD" })
    .check((ctx) => {
      const problem = dateProblem(ctx.value);
      if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
    });

// Numbers that become Python values in the DAG file: each is bounded where Airflow
// stops making sense, well before Python's timedelta (999999999 days) overflows.
/** One week: a longer retry delay belongs in the schedule, not in a retry. */
export const MAX_RETRY_DELAY_MINUTES = 7 * 24 * 60;
export const MAX_ACTIVE_RUNS = 1000;
/** One day for a pod to start. */
export const MAX_STARTUP_TIMEOUT_SECONDS = 24 * 60 * 60;

export const pipelineBlock = z
  .strictObject({
    name: name().describe("Pipeline name: the DAG id, landing path segment and task prefix."),
    dag_id: name().optional().describe("Airflow dag_id; defaults to `name`."),
    description: z.string().optional(),
    schedule: pipelineSchedule.default("@daily").describe("Cron expression or Airflow preset, `{ assets: [...] }` to run after upstream pipelines, or null for manual runs only."),
    start_date: isoDate().describe(`First logical date, ${MIN_DATE}..${MAX_DATE}.`),
    end_date: isoDate().optional().describe("Last logical date; not before `start_date`."),
    catchup: z.boolean().default(false),
    owner: z.string().min(1).default("data-platform"),
    tags: z.array(z.string()).default([]),
    retries: z.number().int().min(0).max(100).default(2),
    retry_delay_minutes: z
      .number()
      .positive()
      .max(MAX_RETRY_DELAY_MINUTES, { message: `retry_delay_minutes is at most ${MAX_RETRY_DELAY_MINUTES} (one week)` })
      .default(5),
    timezone: timeZoneSchema.default("UTC"),
    load_strategy: z.enum(LOAD_STRATEGIES).default("incremental"),
    lookback_days: z.number().int().min(1).max(3660).default(7),
    max_active_runs: z.number().int().min(1).max(MAX_ACTIVE_RUNS, { message: `max_active_runs is at most ${MAX_ACTIVE_RUNS}` }).default(1),
    airflow_version: z.union([z.literal(2), z.literal(3)]).default(3),
  })
  .check((ctx) => {
    const { start_date: start, end_date: end } = ctx.value;
    if (end === undefined || dateProblem(start) || dateProblem(end) || !DATE_FORMAT.test(start) || !DATE_FORMAT.test(end) || end >= start) return;
    ctx.issues.push({
      code: "custom",
      path: ["end_date"],
      message: `end_date ${end} is before start_date ${start}: the DAG would have no run`,
      input: end,
      params: { expected: `a date on or after ${start}, or no end_date` },
    });
  });

const landingBlock = z.strictObject({
  uri: z.string().min(1).default("file://.xo-foundry/landing").describe("file:// (relative to the project) or s3:// URI."),
  connection: name().optional().describe("Connection with the object store's credentials and endpoint (for s3://)."),
});

const bashRunner = z.strictObject({
  type: z.literal("bash").default("bash").describe("Run each task in a BashOperator on an Airflow worker."),
  command: z.string().min(1).default("xo-foundry").describe("How Airflow workers start the CLI: shell words, written as in bash."),
});

// Kubernetes' own syntax rules, so a bad value fails `validate` instead of the pod launch.
const DNS_LABEL = "[a-z0-9](?:[-a-z0-9]*[a-z0-9])?";
const DNS_SUBDOMAIN = `${DNS_LABEL}(?:\\.${DNS_LABEL})*`;
const LABEL_NAME = "[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?";
const QUANTITY = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[eE][+-]?\d+|[numkMGTPE])?$/;
/** Names a runner's `env` may use: portable shell names, which Airflow's Jinja leaves as they are. */
export const ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";

const quantity = () =>
  z.string().regex(QUANTITY, { message: "expected a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi" });

const podResources = z.strictObject({
  cpu: quantity().optional().describe("CPU, e.g. `500m` (half a core) or `2`."),
  memory: quantity().optional().describe("Memory, e.g. `512Mi` or `2Gi`."),
});

const labelKey = z
  .string()
  .regex(new RegExp(`^(?:${DNS_SUBDOMAIN}/)?${LABEL_NAME}$`), {
    message: "expected a Kubernetes label key: [prefix/]name, name of letters, digits, `-`, `_`, `.`",
  })
  .refine((key) => {
    const slash = key.lastIndexOf("/");
    return key.length - slash - 1 <= 63 && slash <= 253;
  }, { message: "a label key's name is at most 63 characters, its prefix at most 253" });

const labelValue = z
  .string()
  .max(63, { message: "a Kubernetes label value is at most 63 characters" })
  .regex(new RegExp(`^(?:${LABEL_NAME})?$`), {
    message: "expected a Kubernetes label value: at most 63 letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit",
  });

/** A record whose bad keys are reported with the key schema's own message, not "Invalid key in record". */
function keyedRecord<K extends z.ZodType<string, string>, V extends z.ZodType>(key: K, value: V) {
  return z.record(key, value, {
    error: (issue) => (issue.code === "invalid_key" ? issue.issues[0]?.message : undefined),
  });
}

const envName = z
  .string()
  .regex(new RegExp(ENV_NAME_PATTERN), { message: "expected an environment variable name: letters, digits and `_`, not starting with a digit" })
  .refine((key) => !isReservedRunnerEnv(key), {
    message: `xo-foundry sets ${RUNNER_ENV_RESERVED.join(", ")} and ${RUNNER_ENV_RESERVED_PREFIX}<ID> itself; credentials come from Airflow connections`,
  });

const kubernetesRunner = z.strictObject({
  type: z.literal("kubernetes").describe("Run each task in its own pod with a KubernetesPodOperator."),
  image: z
    .string()
    .regex(/^\S+$/, { message: "expected a container image reference without spaces" })
    .describe("Container image with Node.js, the project and its plugins, e.g. `registry.example.com/data/pipelines:1.4.0`."),
  namespace: z
    .string()
    .max(63, { message: "a Kubernetes namespace is at most 63 characters" })
    .regex(new RegExp(`^${DNS_LABEL}$`), { message: "expected a Kubernetes namespace: lowercase letters, digits and `-`" })
    .default("default")
    .describe("Namespace the pods run in."),
  command: z
    .array(z.string().min(1))
    .min(1)
    .default(["xo-foundry"])
    .describe("Entrypoint inside the image that starts the CLI, one list item per argument (no shell)."),
  image_pull_policy: z.enum(IMAGE_PULL_POLICIES).optional().describe("When the kubelet pulls the image; Kubernetes' default when unset."),
  service_account_name: z
    .string()
    .max(253)
    .regex(new RegExp(`^${DNS_SUBDOMAIN}$`), { message: "expected a Kubernetes service account name" })
    .optional()
    .describe("Service account of the pods, e.g. one allowed to read the landing bucket."),
  resources: z
    .strictObject({
      requests: podResources.prefault({}).describe("Resources the scheduler reserves for each pod."),
      limits: podResources.prefault({}).describe("Most each pod may use."),
    })
    .prefault({})
    .describe("CPU and memory of each task's pod."),
  env: keyedRecord(envName, z.string())
    .default({})
    .describe("Plain, non-secret environment variables for the pods; credentials come from Airflow connections."),
  labels: keyedRecord(labelKey, labelValue).default({}).describe("Kubernetes labels added to each pod."),
  startup_timeout_seconds: z
    .number()
    .int()
    .positive()
    .max(MAX_STARTUP_TIMEOUT_SECONDS, { message: `startup_timeout_seconds is at most ${MAX_STARTUP_TIMEOUT_SECONDS} (one day)` })
    .optional()
    .describe("How long a pod may take to start; the provider's default (120) when unset."),
  kubernetes_conn_id: name().optional().describe("Airflow connection to the cluster; the provider's default (`kubernetes_default`) when unset."),
  in_cluster: z.boolean().optional().describe("Use the service account of the Airflow worker's own pod to reach the cluster."),
  config_file: z.string().min(1).optional().describe("Path of a kubeconfig file on the Airflow worker."),
  get_logs: z.boolean().default(true).describe("Stream the pod's output into the Airflow task log."),
  on_finish_action: z.enum(POD_FINISH_ACTIONS).default("delete_pod").describe("What happens to a pod when its task ends."),
});

const runnerBlock = z.discriminatedUnion("type", [bashRunner, kubernetesRunner], {
  error: () => "expected runner type \"bash\" or \"kubernetes\"",
});

const coreStream = {
  name: name(),
  mode: z
    .enum(STREAM_MODES)
    .optional()
    .describe("`full` (the default): extract, then load. `ingest_only`: land the files in the landing zone and stop; no load task (a `load` step may still load them)."),
};

function streamSchema(streamOptions: OptionsSchema, target: z.ZodType) {
  return z.strictObject({ ...streamOptions.shape, ...coreStream, target: target.default({}) });
}

const coreSourceKeys = {
  connection: name().optional().describe("Connection with the source's credentials (`XO_CONN_<ID>` locally, an Airflow connection in Airflow)."),
  pool: name()
    .optional()
    .describe("Airflow pool for the extract tasks (create it with `airflow pools set <name> <slots> <description>`); one slot runs one extract at a time."),
  sink: name().optional().describe("The sink (a name under `sinks:`) this source's streams load into; optional with one sink."),
};

const coreSinkKeys = {
  connection: name().optional().describe("Connection with the warehouse's credentials."),
  pool: name().optional().describe("Airflow pool for the load tasks."),
};

/**
 * Schemas built from plugin schemas, kept for as long as those are: zod compiles an object
 * schema on its first parse, so a variant built once per plugin set (not once per file)
 * is compiled once per run. Zod schemas are immutable, so sharing them is safe.
 */
class SchemaCache<V> {
  readonly #root: CacheNode<V> = { next: new WeakMap(), values: new Map() };

  /** The value for these schemas (by identity) and this id, made on first use. */
  get(schemas: readonly object[], id: string, make: () => V): V {
    let node = this.#root;
    for (const schema of schemas) {
      let next = node.next.get(schema);
      if (!next) node.next.set(schema, (next = { next: new WeakMap(), values: new Map() }));
      node = next;
    }
    let value = node.values.get(id);
    if (value === undefined) node.values.set(id, (value = make()));
    return value;
  }
}

interface CacheNode<V> {
  readonly next: WeakMap<object, CacheNode<V>>;
  readonly values: Map<string, V>;
}

function buildSourceVariant(id: string, options: OptionsSchema, stream: OptionsSchema, target: z.ZodType) {
  return z.strictObject({
    ...options.shape,
    plugin: z.literal(id),
    ...coreSourceKeys,
    streams: z.array(streamSchema(stream, target)).min(1),
  });
}

function buildSinkVariant(id: string, options: OptionsSchema) {
  return z.strictObject({ ...options.shape, plugin: z.literal(id), ...coreSinkKeys });
}

const sourceVariants = new SchemaCache<ReturnType<typeof buildSourceVariant>>();
const sinkVariants = new SchemaCache<ReturnType<typeof buildSinkVariant>>();

/** A source block of one plugin, with its streams' targets checked by `target`. */
export function sourceVariant(id: string, options: OptionsSchema, stream: OptionsSchema, target: z.ZodType) {
  return sourceVariants.get([options, stream, target], id, () => buildSourceVariant(id, options, stream, target));
}

export function sinkVariant(id: string, options: OptionsSchema) {
  return sinkVariants.get([options], id, () => buildSinkVariant(id, options));
}

/** What the core itself checks in a source block before the plugin's schema runs. */
const anySource = z.looseObject({
  plugin: z.string().min(1),
  ...coreSourceKeys,
  streams: z.array(z.looseObject({ ...coreStream, target: z.looseObject({}).default({}) })).min(1),
});
const anySink = z.looseObject({ plugin: z.string().min(1), ...coreSinkKeys });

const whenBlock = z.strictObject({
  weekday: z.array(z.enum(WEEKDAYS)).min(1).optional().describe("Run only on these days of the week of the logical date, e.g. [mon, thu]."),
  day_of_month: z
    .array(z.number().int().min(-1).max(31).refine((d) => d !== 0, { message: "days of the month are 1-31, or -1 for the last day" }))
    .min(1)
    .optional()
    .describe("Run only on these days of the month of the logical date; -1 is the last day."),
  summary: z
    .array(
      z.strictObject({
        task: z.string().min(1).describe("An upstream task id."),
        field: z.string().min(1).describe("Dotted path into that task's summary, e.g. `rowsLoaded`."),
        op: z.enum(COMPARISONS),
        value: z.union([z.string(), z.number(), z.boolean(), z.null()]),
      }),
    )
    .min(1)
    .optional()
    .describe("Comparisons on upstream tasks' summaries; all must hold."),
});

/** A notifier's block in an `alerts:` entry: its options and the connection it sends through. */
export function notifierBlock(options: OptionsSchema) {
  return options.strict().extend({ connection: name().optional().describe("The connection to send through.") });
}

/** A `steps:` entry as the core sees it; `with:` is checked against the step type's own schema. */
export function stepEntry(withSchema: z.ZodType = z.record(z.string(), z.unknown())) {
  return z.strictObject({
    id: name().describe("Task id of the step."),
    uses: z.string().min(1).describe("Step type, e.g. `load` or a plugin's `sql.run` (`xo-foundry plugins` lists them)."),
    description: z.string().optional(),
    with: withSchema.default({}).describe("The step type's options."),
    after: z.array(z.string().min(1)).default([]).describe("Task ids or globs (`load_*`, `shop.*`) this step runs after."),
    trigger_rule: z.enum(TRIGGER_RULES).optional().describe("When the step runs, by its upstream tasks' states (Airflow's trigger rules)."),
    pool: name().optional().describe("Airflow pool for the step."),
    connection: name().optional().describe("Connection the step uses."),
    when: whenBlock.optional().describe("Checked when the step starts; when false the task ends as skipped."),
  });
}

/** A name-keyed map whose bad keys are reported as unsafe names. */
function namedMap<V extends z.ZodType>(value: V) {
  return keyedRecord(name(), value);
}

function pipelineShape(source: z.ZodType, sink: z.ZodType, step: z.ZodType, alert: z.ZodType = alertEntry) {
  return z.strictObject({
    pipeline: pipelineBlock,
    template: name().optional().describe("DAG template; the installed default template when unset."),
    source: source.optional().describe("The pipeline's one source (shorthand for `sources: { main: ... }`)."),
    sources: namedMap(source).optional().describe("Named sources, each with its streams."),
    landing: landingBlock.default({ uri: "file://.xo-foundry/landing" }),
    sink: sink.optional().describe("The pipeline's one sink (shorthand for `sinks: { main: ... }`); the installed default sink when unset."),
    sinks: namedMap(sink).optional().describe("Named sinks that streams and steps load into."),
    steps: z.array(step).default([]).describe("Steps after (or between) the template's tasks."),
    runner: runnerBlock.default({ type: "bash", command: "xo-foundry" }),
    checks: checksBlock.default({}),
    alerts: z.array(alert).default([]).describe("Where to send alerts (Slack, email, a webhook), and when."),
    deadline: deadlineBlock.optional(),
  });
}

/**
 * The core's own view of a pipeline file: every core key checked, plugin blocks
 * passed through for their plugin's schema (see config/load.ts).
 */
export const pipelineCoreSchema = pipelineShape(anySource, anySink, stepEntry());

/** The installed step types' entries, discriminated by `uses`, for the editor schema. */
function anyStep(registry: Registry, sinkTarget: z.ZodType): z.ZodType {
  const variants = [
    ...builtinStepOptions(sinkTarget).map(([id, options]) => stepEntry(options).extend({ uses: z.literal(id) })),
    ...registry.steps().map((s) => stepEntry(s.options.strict()).extend({ uses: z.literal(s.id) })),
  ];
  return variants.length === 1 ? variants[0]! : z.discriminatedUnion("uses", variants as never);
}

const builtinSteps = new SchemaCache<readonly (readonly [string, OptionsSchema])[]>();

/** Options of the built-in step types, `extract` and `load`. */
export function builtinStepOptions(target: z.ZodType): [string, OptionsSchema][] {
  return builtinSteps.get([target], "", () => buildBuiltinStepOptions(target)).map(([id, options]) => [id, options]);
}

function buildBuiltinStepOptions(target: z.ZodType): [string, OptionsSchema][] {
  return [
    ["extract", z.strictObject({ source: name().describe("A source name."), stream: name().describe("A stream of that source.") })],
    [
      "load",
      z.strictObject({
        stream: name().describe("A landed stream."),
        sink: name().describe("The sink to load it into."),
        target: target.optional().describe("The target in that sink; the stream's own `target` when unset."),
      }),
    ],
  ];
}

/** JSON Schema (draft 2020-12) for pipeline files, for editors and the YAML language server. */
export function pipelineJsonSchema(registry: Registry): Record<string, unknown> {
  const sinks = registry.sinks();
  const anyTarget = sinks.length
    ? sinks.length === 1
      ? sinks[0]!.target.strict()
      : z.union(sinks.map((s) => s.target.strict()) as unknown as [z.ZodType, ...z.ZodType[]])
    : z.looseObject({});
  const union = <T extends { id: string }>(all: readonly T[], make: (d: T) => z.ZodType, fallback: z.ZodType): z.ZodType =>
    all.length === 0 ? fallback : all.length === 1 ? make(all[0]!) : z.discriminatedUnion("plugin", all.map(make) as never);
  const source = union(registry.sources(), (d) => sourceVariant(d.id, d.options, d.stream, anyTarget), anySource);
  const sink = union(sinks, (d) => sinkVariant(d.id, d.options), anySink);
  const notifiers = registry.notifiers();
  const alert = notifiers.length
    ? z.union(notifiers.map((n) => alertEntry.strict().extend({ [n.id]: notifierBlock(n.options) })) as unknown as [z.ZodType, ...z.ZodType[]])
    : alertEntry;
  const shape = pipelineShape(source, sink, anyStep(registry, anyTarget), alert);
  const schema = z.toJSONSchema(shape, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, $id: "https://xo-foundry.dev/schema/pipeline.json", title: "xo-foundry pipeline" };
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
