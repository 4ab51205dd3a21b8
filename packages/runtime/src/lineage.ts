/**
 * OpenLineage run events for each task: START when it starts, COMPLETE or FAIL when it
 * ends, with what it read and wrote, POSTed to an OpenLineage backend (Marquez, a catalog).
 * Configured the way OpenLineage's own clients are, from the environment:
 *
 *   OPENLINEAGE_URL        the backend; events are off when it is unset
 *   OPENLINEAGE_ENDPOINT   path joined to the URL (default `api/v1/lineage`)
 *   OPENLINEAGE_API_KEY    sent as `Authorization: Bearer <key>`
 *   OPENLINEAGE_NAMESPACE  the jobs' namespace (default `default`)
 *   OPENLINEAGE_DISABLED   `true` turns events off whatever else is set
 *
 * Lineage is an observer, never a reason to fail: a backend that is slow, down or refuses
 * an event costs a warning and at most one short timeout per event, with no retries, and
 * after it is found unreachable this process sends it nothing more.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import {
  openLineageName,
  redact,
  registerSecret,
  resolveDataset,
  withoutCredentials,
  type DatasetName,
  type DatasetRef,
  type Logger,
  type Registry,
  type ResolvedPipeline,
  type TaskSummary,
} from "@xo-foundry/core";

const pkg = createRequire(import.meta.url)("../package.json") as { version: string; repository?: { url?: string; directory?: string } };

/** The OpenLineage spec version the events follow (the `$id` of spec/OpenLineage.json). */
export const OPENLINEAGE_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

/** Where each facet's schema is, as the OpenLineage spec versions them. */
const FACET_SCHEMAS = {
  jobType: "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
  parent: "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
  errorMessage: "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
  processing_engine: "https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet",
} as const;

/** Who wrote the events: this package at its version, as a URI. */
export const OPENLINEAGE_PRODUCER = `${(pkg.repository?.url ?? "https://example.invalid/xo-foundry.git").replace(/^git\+/, "").replace(/\.git$/, "")}/tree/v${pkg.version}/${pkg.repository?.directory ?? "packages/runtime"}`;

/** How long one event may take; OpenLineage's Python client waits as long. */
export const OPENLINEAGE_TIMEOUT_MS = 5_000;

export interface LineageEmitterOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly pipeline: ResolvedPipeline;
  /** The Airflow run id (or the local run's), which names the DAG run the task belongs to. */
  readonly runId: string;
  /** `YYYY-MM-DD`. */
  readonly logicalDate: string;
  /** Names the tables steps report by sink (`xo-sink://<sink>/table/<t>`) as their sinks name them. */
  readonly registry?: Pick<Registry, "sink">;
  readonly timeoutMs?: number;
}

/** Sends one task's events; each call resolves (never rejects) once its event was sent or given up. */
export interface LineageEmitter {
  /** False when OPENLINEAGE_URL is unset or OPENLINEAGE_DISABLED is true: every call does nothing. */
  readonly enabled: boolean;
  start(task: string): Promise<void>;
  complete(task: string, summary: Pick<TaskSummary, "reads" | "writes">): Promise<void>;
  /** `message` is redacted before it is sent; `summary`, when the step failed with one, adds its datasets. */
  fail(task: string, message: string, summary?: Pick<TaskSummary, "reads" | "writes">): Promise<void>;
}

/** Backends found unreachable in this process: no more events go there. */
const unreachable = new Set<string>();

export function lineageEmitter(options: LineageEmitterOptions): LineageEmitter {
  const config = lineageConfig(options.env, options.log);
  if (!config) return { enabled: false, start: async () => {}, complete: async () => {}, fail: async () => {} };
  const { pipeline, runId, logicalDate } = options;
  const dagId = pipeline.config.pipeline.dag_id;
  const tryNumber = options.env.AIRFLOW_CTX_TRY_NUMBER ?? "";
  const instant = Date.parse(`${logicalDate}T00:00:00Z`) || 0;
  const parent = { runId: staticUuid(instant, [config.namespace, dagId, runId]), job: { namespace: config.namespace, name: dagId } };
  const datasets = (refs: readonly DatasetRef[] | undefined) => namedDatasets(refs ?? [], pipeline, options.registry);

  const send = async (type: "START" | "COMPLETE" | "FAIL", task: string, extra: { summary?: Pick<TaskSummary, "reads" | "writes">; message?: string }) => {
    const event = {
      eventType: type,
      eventTime: new Date().toISOString(),
      producer: OPENLINEAGE_PRODUCER,
      schemaURL: OPENLINEAGE_SCHEMA_URL,
      run: {
        // The same for START and its end, and for every try of the task its own (Airflow's try number).
        runId: staticUuid(instant, [config.namespace, dagId, task, runId, tryNumber]),
        facets: {
          parent: facet("parent", { run: { runId: parent.runId }, job: parent.job, root: { run: { runId: parent.runId }, job: parent.job } }),
          processing_engine: facet("processing_engine", { name: "xo-foundry", version: pkg.version, openlineageAdapterVersion: pkg.version }),
          ...(extra.message !== undefined ? { errorMessage: facet("errorMessage", { message: redact(extra.message), programmingLanguage: "JavaScript" }) } : {}),
        },
      },
      job: {
        namespace: config.namespace,
        name: `${dagId}.${task}`,
        facets: { jobType: facet("jobType", { processingType: "BATCH", integration: "XO_FOUNDRY", jobType: "TASK" }) },
      },
      inputs: datasets(extra.summary?.reads),
      outputs: datasets(extra.summary?.writes),
    };
    await post(config, event, { task, type, log: options.log, timeoutMs: options.timeoutMs ?? OPENLINEAGE_TIMEOUT_MS });
  };
  return {
    enabled: true,
    start: (task) => send("START", task, {}),
    complete: (task, summary) => send("COMPLETE", task, { summary }),
    fail: (task, message, summary) => send("FAIL", task, { message, ...(summary ? { summary } : {}) }),
  };
}

interface LineageConfig {
  readonly url: string;
  /** For messages: the URL without credentials. */
  readonly shown: string;
  readonly authorization: string | undefined;
  readonly namespace: string;
}

function lineageConfig(env: NodeJS.ProcessEnv, log: Logger): LineageConfig | undefined {
  if ((env.OPENLINEAGE_DISABLED ?? "").trim().toLowerCase() === "true") return undefined;
  const base = env.OPENLINEAGE_URL?.trim();
  if (!base) return undefined;
  let url: URL;
  try {
    // As OpenLineage's clients join them (Python's urljoin): a relative endpoint replaces the URL's last path segment.
    url = new URL(env.OPENLINEAGE_ENDPOINT?.trim() || "api/v1/lineage", base);
  } catch {
    log.warn(`OpenLineage: OPENLINEAGE_URL ${JSON.stringify(withoutCredentials(base))} is not a URL; no lineage events are sent`);
    return undefined;
  }
  // fetch refuses a URL with a user and password in it: they travel as Basic auth, unless an API key is set.
  const basic = url.username ? Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64") : undefined;
  url.username = "";
  url.password = "";
  const apiKey = env.OPENLINEAGE_API_KEY?.trim();
  registerSecret(apiKey);
  registerSecret(decodeURIComponent(url.password));
  return {
    url: url.href,
    shown: withoutCredentials(url.href),
    authorization: apiKey ? `Bearer ${apiKey}` : basic ? `Basic ${basic}` : undefined,
    namespace: env.OPENLINEAGE_NAMESPACE?.trim() || "default",
  };
}

function facet<K extends keyof typeof FACET_SCHEMAS>(key: K, body: Record<string, unknown>): Record<string, unknown> {
  return { _producer: OPENLINEAGE_PRODUCER, _schemaURL: FACET_SCHEMAS[key], ...body };
}

/** OpenLineage names of the datasets, each once, in a stable order. */
function namedDatasets(refs: readonly DatasetRef[], pipeline: ResolvedPipeline, registry: Pick<Registry, "sink"> | undefined): DatasetName[] {
  const byKey = new Map<string, DatasetName>();
  for (const ref of refs) {
    const named = openLineageName(ref);
    const d = registry ? resolveDataset(pipeline, registry, named) : named;
    byKey.set(`${d.namespace}\0${d.name}`, { namespace: d.namespace, name: d.name });
  }
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** Statuses that say this event was wrong, not the backend: the next event may well go through. */
const EVENT_REFUSED = new Set([400, 413, 422]);

async function post(config: LineageConfig, event: unknown, what: { task: string; type: string; log: Logger; timeoutMs: number }): Promise<void> {
  if (unreachable.has(config.url)) return;
  const warn = (why: string, off: boolean) => {
    what.log.warn(redact(`OpenLineage: ${what.type} event of ${what.task} not sent to ${config.shown}: ${why}${off ? "; no more lineage events are sent by this process" : ""}`));
    if (off) unreachable.add(config.url);
  };
  try {
    const response = await fetch(config.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(config.authorization ? { authorization: config.authorization } : {}) },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(what.timeoutMs),
      redirect: "error",
    });
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const text = (await response.text().catch(() => "")).replace(/\s+/g, " ").trim().slice(0, 300);
    warn(`HTTP ${response.status}${text ? ` (${text})` : ""}`, !EVENT_REFUSED.has(response.status));
  } catch (e) {
    const error = e as Error & { cause?: { code?: string; message?: string } };
    const why = error.name === "TimeoutError" ? `no answer within ${what.timeoutMs} ms` : (error.cause?.code ?? error.cause?.message ?? error.message);
    warn(why, true);
  }
}

/**
 * A UUID that the same inputs always give: version 7's layout (the instant's milliseconds
 * first, so runs sort by date) with SHA-1 of the inputs in place of random bits, as
 * OpenLineage's clients make run ids from a scheduler's run.
 */
export function staticUuid(instantMs: number, parts: readonly string[]): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.min(instantMs, 2 ** 48 - 1)), 0, 6);
  createHash("sha1").update(JSON.stringify(parts)).digest().copy(bytes, 6, 0, 10);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
