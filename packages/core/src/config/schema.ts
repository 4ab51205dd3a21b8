/**
 * The pipeline schema, composed from the core's own blocks and the option schemas
 * of the installed plugins. The same validator produces the JSON Schema for editors.
 */
import { z } from "zod";
import type { Registry } from "../registry.js";
import type { OptionsSchema } from "../plugin.js";
import {
  IMAGE_PULL_POLICIES,
  LOAD_STRATEGIES,
  POD_FINISH_ACTIONS,
  RUNNER_ENV_RESERVED,
  RUNNER_ENV_RESERVED_PREFIX,
  isReservedRunnerEnv,
} from "./types.js";

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
  startup_timeout_seconds: z.number().int().positive().optional().describe("How long a pod may take to start; the provider's default (120) when unset."),
  kubernetes_conn_id: name().optional().describe("Airflow connection to the cluster; the provider's default (`kubernetes_default`) when unset."),
  in_cluster: z.boolean().optional().describe("Use the service account of the Airflow worker's own pod to reach the cluster."),
  config_file: z.string().min(1).optional().describe("Path of a kubeconfig file on the Airflow worker."),
  get_logs: z.boolean().default(true).describe("Stream the pod's output into the Airflow task log."),
  on_finish_action: z.enum(POD_FINISH_ACTIONS).default("delete_pod").describe("What happens to a pod when its task ends."),
});

const runnerBlock = z.discriminatedUnion("type", [bashRunner, kubernetesRunner], {
  error: () => "expected runner type \"bash\" or \"kubernetes\"",
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
    pool: name().optional().describe("Airflow pool for the extract tasks (create it with `airflow pools set <name> <slots> <description>`); one slot runs one extract at a time."),
    streams: z.array(streamSchema(stream, target)).min(1),
  });
}

function sinkVariant(id: string, options: OptionsSchema) {
  return z.strictObject({
    ...options.shape,
    plugin: z.literal(id),
    connection: name().optional(),
    pool: name().optional().describe("Airflow pool for the load tasks."),
  });
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
