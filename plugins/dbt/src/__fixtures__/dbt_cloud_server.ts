/**
 * A loopback emulator of the dbt Cloud Administrative API v2, following its published
 * OpenAPI description (github.com/dbt-labs/dbt-cloud-openapi-spec, openapi-v2.yaml):
 *
 *   POST /api/v2/accounts/{account_id}/jobs/{job_id}/run/      Trigger Job Run (TriggerRunRequestRequest)
 *   GET  /api/v2/accounts/{account_id}/runs/{id}/              Retrieve Run (?include_related=["run_steps"])
 *   POST /api/v2/accounts/{account_id}/runs/{run_id}/cancel/   Cancel Run
 *   GET  /api/v2/accounts/{account_id}/runs/{run_id}/artifacts/{remainder}   Retrieve Run Artifact
 *
 * Responses are enveloped `{ data, status: { code, is_success, user_message, developer_message } }`;
 * runs carry the numeric status (1 Queued, 2 Starting, 3 Running, 10 Success, 20 Error,
 * 30 Cancelled) with `is_complete`, `is_success`, `is_error`, `is_cancelled`, `href`.
 * Refused as the service refuses: a missing or wrong `Authorization: Token|Bearer <token>`
 * (401), another account (403), an unknown job or run (404), a trigger without `cause` or
 * with a field of the wrong type (400), an artifact of a run that saved none (404).
 * 429 with Retry-After, and 5xx, happen only when a test scripts them (`failNext`), as rate
 * limiting and outages do.
 *
 * A run advances one status per Retrieve Run along the script the test gave its job.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type RunStatus = 1 | 2 | 3 | 10 | 20 | 30;

export interface JobScript {
  /** The statuses Retrieve Run reports in turn; the last one stays. */
  readonly statuses: readonly RunStatus[];
  /** Artifacts by path (`run_results.json`), served once the run is complete. */
  readonly artifacts?: Readonly<Record<string, unknown>>;
  /** The run's steps as `include_related=["run_steps"]` shows them. */
  readonly steps?: readonly { readonly name: string; readonly status: RunStatus; readonly logs: string }[];
}

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface DbtCloudEmulator {
  /** `http://127.0.0.1:<port>`: the connection's host. */
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Runs by id: the trigger body and whether it was cancelled. */
  readonly runs: Map<number, { readonly jobId: number; readonly trigger: Record<string, unknown>; cancelled: boolean; polls: number }>;
  script(jobId: number, script: JobScript): void;
  /** The next `times` requests whose path matches answer `status` (429 with `retryAfter` seconds). */
  failNext(match: RegExp, status: number, times?: number, retryAfter?: number): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<RunStatus, string> = { 1: "Queued", 2: "Starting", 3: "Running", 10: "Success", 20: "Error", 30: "Cancelled" };
const TRIGGER_FIELDS: Record<string, "string" | "integer" | "boolean" | "string[]"> = {
  cause: "string",
  git_sha: "string",
  git_branch: "string",
  azure_pull_request_id: "integer",
  github_pull_request_id: "integer",
  gitlab_merge_request_id: "integer",
  non_native_pull_request_id: "integer",
  schema_override: "string",
  dbt_version_override: "string",
  threads_override: "integer",
  target_name_override: "string",
  generate_docs_override: "boolean",
  timeout_seconds_override: "integer",
  steps_override: "string[]",
};

export async function startDbtCloud(options: { accountId: number; token: string }): Promise<DbtCloudEmulator> {
  const scripts = new Map<number, JobScript>();
  const failures: { match: RegExp; status: number; times: number; retryAfter?: number }[] = [];
  const requests: ReceivedRequest[] = [];
  const runs: DbtCloudEmulator["runs"] = new Map();
  let nextRun = 70_000_001;
  let url = "";

  const envelope = (res: ServerResponse, code: number, data: unknown, message = code < 400 ? "Success!" : "Error") => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: { code, is_success: code < 400, user_message: message, developer_message: "" }, data }));
  };

  const runView = (id: number, withSteps: boolean) => {
    const run = runs.get(id)!;
    const script = scripts.get(run.jobId)!;
    const status: RunStatus = run.cancelled ? 30 : script.statuses[Math.min(run.polls, script.statuses.length - 1)]!;
    const complete = status >= 10;
    return {
      id,
      account_id: options.accountId,
      job_definition_id: run.jobId,
      job_id: run.jobId,
      status,
      status_humanized: STATUS_NAMES[status],
      status_message: status === 20 ? "dbt command failed" : null,
      git_branch: typeof run.trigger.git_branch === "string" ? run.trigger.git_branch : "main",
      in_progress: !complete,
      is_complete: complete,
      is_success: status === 10,
      is_error: status === 20,
      is_cancelled: status === 30,
      is_running: status === 3,
      artifacts_saved: complete && status !== 30 && script.artifacts !== undefined,
      href: `${url}/deploy/${options.accountId}/projects/1/runs/${id}/`,
      created_at: "2026-01-15 06:00:00.000000+00:00",
      updated_at: "2026-01-15 06:00:00.000000+00:00",
      duration: "00:00:42",
      ...(withSteps ? { run_steps: (script.steps ?? []).map((s, i) => ({ id: i + 1, run_id: id, index: i + 1, name: s.name, status: s.status, status_humanized: STATUS_NAMES[s.status], logs: s.logs })) } : {}),
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const parsed = new URL(req.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return envelope(res, 400, null, "The request body is not valid JSON.");
      }
    }
    requests.push({ method: req.method ?? "", path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), body });

    const failure = failures.find((f) => f.times > 0 && f.match.test(parsed.pathname));
    if (failure) {
      failure.times -= 1;
      if (failure.status === 429) res.setHeader("retry-after", String(failure.retryAfter ?? 1));
      return envelope(res, failure.status, null, failure.status === 429 ? "Too many requests." : "Internal server error.");
    }
    const auth = /^(?:Token|Bearer) (.+)$/.exec(req.headers.authorization ?? "");
    if (!auth || auth[1] !== options.token) return envelope(res, 401, null, "Invalid token.");

    const m = /^\/api\/v2\/accounts\/(\d+)\/(jobs\/(\d+)\/run|runs\/(\d+)(?:\/(cancel|artifacts\/(.+?)))?)\/?$/.exec(parsed.pathname);
    if (!m) return envelope(res, 404, null, "Not found.");
    if (Number(m[1]) !== options.accountId) return envelope(res, 403, null, "You do not have permission to access this account.");

    if (m[3] !== undefined) {
      if (req.method !== "POST") return envelope(res, 405, null, "Method not allowed.");
      const jobId = Number(m[3]);
      if (!scripts.has(jobId)) return envelope(res, 404, null, "The requested job does not exist.");
      const problem = triggerProblem(body);
      if (problem) return envelope(res, 400, null, problem);
      const id = nextRun++;
      runs.set(id, { jobId, trigger: body as Record<string, unknown>, cancelled: false, polls: 0 });
      return envelope(res, 200, runView(id, false));
    }
    const id = Number(m[4]);
    const run = runs.get(id);
    if (!run) return envelope(res, 404, null, "The requested run does not exist.");
    if (m[5] === "cancel") {
      if (req.method !== "POST") return envelope(res, 405, null, "Method not allowed.");
      if (!runView(id, false).is_complete) run.cancelled = true;
      return envelope(res, 200, runView(id, false));
    }
    if (m[6] !== undefined) {
      const view = runView(id, false);
      const artifact = view.artifacts_saved ? scripts.get(run.jobId)!.artifacts?.[decodeURIComponent(m[6])] : undefined;
      if (artifact === undefined) return envelope(res, 404, null, "The requested artifact does not exist.");
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify(artifact));
    }
    if (req.method !== "GET") return envelope(res, 405, null, "Method not allowed.");
    const withSteps = (parsed.searchParams.get("include_related") ?? "").includes("run_steps");
    const view = runView(id, withSteps);
    if (!view.is_complete) run.polls += 1;
    return envelope(res, 200, view);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) envelope(res, 500, null, String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    runs,
    script: (jobId, script) => void scripts.set(jobId, script),
    failNext: (match, status, times = 1, retryAfter) => void failures.push({ match, status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The TriggerRunRequestRequest schema: `cause` required, every field of its declared type. */
function triggerProblem(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "The request body must be an object.";
  const record = body as Record<string, unknown>;
  if (typeof record.cause !== "string" || record.cause.length === 0) return "cause: This field is required.";
  for (const [key, value] of Object.entries(record)) {
    const type = TRIGGER_FIELDS[key];
    if (type === undefined || value === null) continue;
    const ok =
      type === "string"
        ? typeof value === "string" && value.length > 0
        : type === "integer"
          ? Number.isInteger(value)
          : type === "boolean"
            ? typeof value === "boolean"
            : Array.isArray(value) && value.every((v) => typeof v === "string" && v.length > 0);
    if (!ok) return `${key}: expected ${type}.`;
  }
  return undefined;
}
