/**
 * `dbt_cloud.run`: trigger a dbt Cloud job through the Administrative API v2, poll the run
 * until it ends, keep its artifacts with the run, and fail the task naming what failed. A
 * cancelled task (or a run past `timeout_seconds`) cancels the dbt Cloud run.
 */
import {
  backoffDelay,
  connectionBaseUrl,
  joinUri,
  lowerCaseHeaders,
  parseRetryAfter,
  registerSecret,
  sleep,
  type Connection,
  type JsonObject,
  type StepContext,
  type StepResult,
  type StepType,
} from "@xo-foundry/core";
import type { AxiosInstance, AxiosResponse } from "axios";
import { z } from "zod";
import { artifactsUri } from "./core.js";
import { DbtError } from "./errors.js";
import { failureReport, parseRunResults, runSummary, type RunResults } from "./results.js";

export const cloudOptions = z.strictObject({
  job_id: z.number().int().positive().describe("The dbt Cloud job to run."),
  account_id: z.number().int().positive().optional().describe("The dbt Cloud account; defaults to the connection's `login` (Airflow's dbt_cloud connection keeps it there)."),
  cause: z.string().min(1).optional().describe("Why the job runs, shown in dbt Cloud; defaults to the pipeline, task and run id."),
  git_branch: z.string().min(1).optional().describe("Check out this branch before running."),
  git_sha: z.string().min(1).optional().describe("Check out this commit before running."),
  schema_override: z.string().min(1).optional().describe("Build into this schema instead of the job's."),
  target_name_override: z.string().min(1).optional().describe("The `target.name` of the run."),
  steps_override: z.array(z.string().min(1)).min(1).optional().describe("Run these dbt commands instead of the job's steps (`[\"dbt build -s tag:daily\"]`)."),
  threads_override: z.number().int().min(1).optional().describe("Threads for the run."),
  timeout_seconds_override: z.number().int().min(1).optional().describe("dbt Cloud's own timeout for the run."),
  wait: z.boolean().default(true).describe("Wait for the run to end and fail the task when it fails; false: trigger and succeed."),
  poll_interval_seconds: z.number().positive().default(10).describe("Seconds between two looks at the run."),
  timeout_seconds: z.number().positive().default(3600).describe("How long to wait for the run; past it the run is cancelled and the task fails."),
  artifacts: z.array(z.string().min(1)).default(["run_results.json", "manifest.json"]).describe("Artifacts of the run kept with the run in the landing zone."),
});

export type CloudOptions = z.output<typeof cloudOptions>;

const STATUS = { 1: "Queued", 2: "Starting", 3: "Running", 10: "Success", 20: "Error", 30: "Cancelled" } as const;
type Status = keyof typeof STATUS;
const MAX_RETRIES = 5;
const REQUEST_TIMEOUT_MS = 30_000;

interface Run {
  readonly id: number;
  readonly status: Status;
  readonly href?: string;
  readonly is_complete?: boolean;
  readonly artifacts_saved?: boolean;
  readonly duration?: string;
  readonly run_steps?: readonly { readonly name: string; readonly status: number; readonly logs?: string }[];
}

export const dbtCloudRun: StepType<CloudOptions> = {
  id: "dbt_cloud.run",
  description: "Trigger a dbt Cloud job (API v2), wait for its run, keep its artifacts, and fail naming what failed.",
  options: cloudOptions,
  connection: "required",
  canSkip: false,
  run: (ctx) => runCloudJob(ctx),
};

async function runCloudJob(ctx: StepContext<CloudOptions>): Promise<StepResult> {
  ctx.signal.throwIfAborted();
  const o = ctx.options;
  const api = await cloudClient(ctx.connection, o.account_id);
  const body: Record<string, JsonObject[string]> = { cause: o.cause ?? `xo-foundry ${ctx.pipeline.pipeline.name} ${ctx.taskId} ${ctx.runId}`.slice(0, 255) };
  for (const key of ["git_branch", "git_sha", "schema_override", "target_name_override", "steps_override", "threads_override", "timeout_seconds_override"] as const) {
    if (o[key] !== undefined) body[key] = o[key];
  }
  // A trigger is retried only when the service says it did nothing (429, 503): another error may have started a run.
  const triggered = await api.request<Run>("POST", `jobs/${o.job_id}/run/`, ctx.signal, body, [429, 503]);
  let run = triggered;
  ctx.log.info(`dbt Cloud job ${o.job_id}: run ${run.id} ${STATUS[run.status] ?? run.status}`, { href: run.href });
  if (!o.wait) return { summary: { job_id: o.job_id, run_id: run.id, status: STATUS[run.status] ?? String(run.status), ...(run.href ? { href: run.href } : {}) } };

  const deadline = Date.now() + o.timeout_seconds * 1000;
  const cancel = async (why: string) => {
    ctx.log.warn(`cancelling dbt Cloud run ${run.id}: ${why}`);
    await api.request("POST", `runs/${run.id}/cancel/`, AbortSignal.timeout(REQUEST_TIMEOUT_MS), undefined, [429, 500, 502, 503, 504]).catch((e: unknown) => {
      ctx.log.warn(`could not cancel dbt Cloud run ${run.id}: ${e instanceof Error ? e.message : String(e)}`);
    });
  };
  try {
    while (!(run.status >= 10)) {
      if (Date.now() >= deadline) {
        await cancel(`not finished after ${o.timeout_seconds} s`);
        throw new DbtError("XO_DBT_CLOUD_TIMEOUT", `dbt Cloud run ${run.id} of job ${o.job_id} did not finish within ${o.timeout_seconds} s and was cancelled (${run.href ?? ""})`, "raise `timeout_seconds`, or look at the run in dbt Cloud");
      }
      await sleep(Math.min(o.poll_interval_seconds * 1000, Math.max(0, deadline - Date.now())), ctx.signal);
      const previous = run.status;
      run = await api.request<Run>("GET", `runs/${run.id}/`, ctx.signal);
      if (run.status !== previous) ctx.log.info(`dbt Cloud run ${run.id}: ${STATUS[run.status] ?? run.status}`);
    }
  } catch (e) {
    if (ctx.signal.aborted) await cancel("the task was cancelled");
    throw e;
  }

  const results = await keepArtifacts(api, ctx, run);
  // The steps' logs, kept next to the artifacts: dbt Cloud's own record of what ran.
  const detailed = await api.request<Run>("GET", `runs/${run.id}/?include_related=${encodeURIComponent('["run_steps"]')}`, ctx.signal).catch(() => run);
  if (detailed.run_steps?.length) {
    const text = detailed.run_steps.map((s) => `== ${s.name} (${STATUS[s.status as Status] ?? s.status})\n${s.logs ?? ""}`.trimEnd()).join("\n\n");
    await ctx.landing.store.writeText(joinUri(artifactsUri(ctx), "run_steps.log"), `${text}\n`);
  }
  if (run.status === 10) {
    return { summary: { job_id: o.job_id, run_id: run.id, status: "Success", ...(run.href ? { href: run.href } : {}), ...(results ? runSummary(`cloud job ${o.job_id}`, results) : {}) } };
  }
  const step = detailed.run_steps?.find((s) => s.status === 20);
  const stepText = step ? `\n  failed step: ${step.name}${step.logs ? `\n${tailLines(step.logs, 15)}` : ""}` : "";
  const what = run.status === 30 ? "was cancelled" : "failed";
  throw new DbtError(
    "XO_DBT_CLOUD_FAILED",
    `dbt Cloud run ${run.id} of job ${o.job_id} ${what} (${run.href ?? "no link"})${results && run.status === 20 ? `\n${failureReport(`cloud job ${o.job_id}`, results)}` : ""}${stepText}`,
    run.status === 30 ? "someone or something cancelled the run in dbt Cloud; re-run the task to trigger it again" : "fix the nodes or step named above; the run's artifacts are kept with the run in the landing zone",
  );
}

async function keepArtifacts(api: CloudClient, ctx: StepContext<CloudOptions>, run: Run): Promise<RunResults | undefined> {
  if (!run.artifacts_saved) return undefined;
  let results: RunResults | undefined;
  for (const name of ctx.options.artifacts) {
    const text = await api.artifact(run.id, name, ctx.signal);
    if (text === undefined) {
      ctx.log.debug(`dbt Cloud run ${run.id} has no artifact ${name}`);
      continue;
    }
    await ctx.landing.store.writeText(joinUri(artifactsUri(ctx), name), text);
    if (name === "run_results.json") results = parseRunResults(text);
  }
  return results;
}

function tailLines(text: string, n: number): string {
  return text
    .trimEnd()
    .split("\n")
    .slice(-n)
    .map((l) => `  | ${l}`)
    .join("\n");
}

interface CloudClient {
  request<T>(method: "GET" | "POST", path: string, signal: AbortSignal, body?: JsonObject, retryOn?: readonly number[]): Promise<T>;
  /** The artifact's text, or undefined when the run has none by that name. */
  artifact(runId: number, name: string, signal: AbortSignal): Promise<string | undefined>;
}

let axiosModule: Promise<typeof import("axios")> | undefined;

async function cloudClient(conn: Connection | undefined, accountOption: number | undefined): Promise<CloudClient> {
  if (!conn) throw new DbtError("XO_DBT_CLOUD_REQUEST_FAILED", "dbt_cloud.run needs a connection", "add `connection: <id>` to the step and set XO_CONN_<ID> (Airflow: a dbt_cloud connection)");
  const token = conn.password;
  if (!token) throw new DbtError("XO_DBT_CLOUD_REQUEST_FAILED", `connection ${JSON.stringify(conn.id)} has no API token`, "put the dbt Cloud API token (or service token) in the connection's password");
  registerSecret(token);
  const fromLogin = conn.login !== undefined && /^\d+$/.test(conn.login) ? Number(conn.login) : undefined;
  const account = accountOption ?? fromLogin ?? (typeof conn.extra.account_id === "number" ? conn.extra.account_id : undefined);
  if (account === undefined) throw new DbtError("XO_DBT_CLOUD_REQUEST_FAILED", `connection ${JSON.stringify(conn.id)} names no account`, "set the account id as the connection's login, or `account_id` in the step");
  // Multi-tenant US by default; EMEA, AU, cell-based (ab123.us1.dbt.com) and single-tenant hosts come from the connection.
  const base = connectionBaseUrl(conn.host ? conn : { ...conn, host: "cloud.getdbt.com" })!;
  const root = `${base.origin}${base.pathname.replace(/\/+$/, "")}/api/v2/accounts/${account}/`;
  const { default: axios } = await (axiosModule ??= import("axios"));
  const http: AxiosInstance = axios.create({
    baseURL: root,
    timeout: REQUEST_TIMEOUT_MS,
    headers: { Authorization: `Token ${token}`, Accept: "application/json", "Content-Type": "application/json" },
    validateStatus: () => true,
    transformResponse: (data: unknown) => data,
    responseType: "text",
  });

  const send = async (method: "GET" | "POST", path: string, signal: AbortSignal, body: JsonObject | undefined, retryOn: readonly number[]): Promise<AxiosResponse<string>> => {
    for (let attempt = 0; ; attempt++) {
      let response: AxiosResponse<string> | undefined;
      let failure: unknown;
      try {
        response = await http.request<string>({ method, url: path, data: body === undefined ? undefined : JSON.stringify(body), signal });
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        failure = e;
      }
      const retryable = response ? retryOn.includes(response.status) : method === "GET";
      if (!retryable || attempt >= MAX_RETRIES) {
        if (response) return response;
        throw new DbtError("XO_DBT_CLOUD_REQUEST_FAILED", `${method} ${root}${path} failed: ${(failure as Error).message}`, "check that dbt Cloud is reachable at the connection's host");
      }
      const wait = parseRetryAfter(response ? lowerCaseHeaders(response.headers)["retry-after"] : undefined) ?? backoffDelay(attempt, 1000, 30_000);
      await sleep(Math.min(wait, 60_000), signal);
    }
  };

  return {
    async request<T>(method: "GET" | "POST", path: string, signal: AbortSignal, body?: JsonObject, retryOn: readonly number[] = [429, 500, 502, 503, 504]): Promise<T> {
      const response = await send(method, path, signal, body, retryOn);
      let parsed: { data?: unknown; status?: { user_message?: string } } = {};
      try {
        parsed = JSON.parse(response.data) as typeof parsed;
      } catch {
        // A body that is not JSON is reported with the HTTP status below.
      }
      if (response.status >= 400 || parsed.data === undefined || parsed.data === null) {
        const message = parsed.status?.user_message ?? response.data.slice(0, 200);
        const hint =
          response.status === 401 || response.status === 403
            ? "check the API token in the connection's password and the account id"
            : response.status === 404
              ? "check the job id and the account id"
              : "retry later, or look at dbt Cloud's status page";
        throw new DbtError("XO_DBT_CLOUD_REQUEST_FAILED", `dbt Cloud answered ${method} ${path} with ${response.status}: ${message}`, hint);
      }
      return parsed.data as T;
    },
    async artifact(runId: number, name: string, signal: AbortSignal): Promise<string | undefined> {
      const response = await send("GET", `runs/${runId}/artifacts/${name.split("/").map(encodeURIComponent).join("/")}`, signal, undefined, [429, 500, 502, 503, 504]);
      if (response.status === 404) return undefined;
      if (response.status >= 400) throw new DbtError("XO_DBT_CLOUD_REQUEST_FAILED", `dbt Cloud answered the artifact ${name} of run ${runId} with ${response.status}`, "retry later");
      return response.data;
    },
  };
}
