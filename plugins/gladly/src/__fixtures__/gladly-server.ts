/**
 * A loopback emulator of Gladly's REST API, on node:http at 127.0.0.1 and a free port. It is the
 * only emulated part of the tests: the plugin talks to it through the real axios client and the
 * real Node HTTP stack.
 *
 * Follows: Gladly's REST API reference (developer.gladly.com/rest/), Reports and Export sections,
 * in the OpenAPI documents "Gladly Agents Reports API" 1.0 (openapi/gladly-reports-api-openapi.yml)
 * and "Gladly Export API" 1.0 (openapi/gladly-export-api-openapi.yml) of github.com/api-evangelist/gladly.
 * The request rules are transcribed, rule by rule with their source, in gladly-api.ts; ADR 0009
 * says why and how. Every request the description refuses is refused here with HTTP 400 and
 * Gladly's body `{"errors": [{"attr", "code", "detail"}]}`.
 *
 * From the description:
 * - HTTP Basic auth: agent email as user name, API token as password.
 * - `POST /api/v1/reports`: `metricSet` from the published enum; `startAt`/`endAt` as dates
 *   (`YYYY-mm-dd`) in `timezone` (the organization's zone when omitted), `endAt` inclusive;
 *   `startAtTime`/`endAtTime` only for the metric sets that take them and never with dates;
 *   filters only for the metric sets they apply to, inboxes and teams that exist, `phoneNumber`
 *   where it is required. 200 answers `text/csv` with a `Content-Disposition` file name.
 * - `GET /api/v1/export/jobs` (`status`, `startAt`, `endAt`; the last 14 days only),
 *   `GET /api/v1/export/jobs/{jobId}`, `GET /api/v1/export/jobs/{jobId}/files/{filename}`
 *   (`application/x-ndjson`), 404 with `{"errors": [{"code": "not_exist", ...}]}`.
 * Emulated by assumption (the description says nothing about them):
 * - the CSV: one row per 10 minutes of real time, with fields holding commas, quotes and
 *   newlines and CRLF record ends (to exercise the row counter); the columns are made up;
 * - a row cap (`rowCap`): a report stops silently after that many rows;
 * - data latency (`now`, `dataLatencyMs`): rows newer than now minus the latency are not in
 *   reports yet (Gladly's help pages: report data is about an hour behind);
 * - the endAtTime of a time range includes its minute, as documented for work-session-events;
 * - the 401 body; scripted faults (429 with Retry-After, 5xx, broken bodies) queued per path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { addDays, wallClock, zonedMidnight } from "@xo-foundry/core";
import { JOB_RETENTION_MS, NOT_FOUND, validateJobsQuery, validateReportRequest, type ApiError, type ExportJob, type ReportInterval, type ReportRequest } from "./gladly-api.js";

export { METRIC_SETS, type ExportJob, type ReportInterval } from "./gladly-api.js";

export const EMAIL = "agent@acme.com";
export const TOKEN = "tok-s3cr3t-0123456789";

/** Inbox and team ids that exist in the emulated organization (filters naming others are refused). */
export const INBOXES = ["c23d738960f946988e943f400313133a", "2c475a4351ce4aa39ff5cb9f526d77db"];
export const TEAMS = ["dd96426e5d2b4fed86dad91cdcc84112", "cab03fe3066e4fa7ba3397e8925c5132"];

export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Send `status` with this text as the start of the body, then break off. */
  readonly partial?: { readonly text: string; readonly then: "reset" | "stall" | "end" };
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  readonly body: unknown;
  /** The status the emulator answered with (set when the response finished). */
  status?: number;
  /** `performance.now()` when the request arrived and when its response finished. */
  readonly startedAt: number;
  endedAt?: number;
}

export interface GladlyEmulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Report rows returned at most (ASSUMED row cap). */
  rowCap: number;
  /** Delay before a report answers, to make overlapping requests visible. */
  reportDelayMs: number;
  /** The emulator's clock in epoch ms; undefined: the real clock. */
  now: number | undefined;
  /** Rows newer than `now - dataLatencyMs` are not in reports yet. */
  dataLatencyMs: number;
  /** The organization's default time zone, for reports that send none. */
  timezone: string;
  jobs: ExportJob[];
  /** `jobId/fileName` -> NDJSON content. */
  readonly files: Map<string, string>;
  /** Most reports the server was generating at the same time. */
  readonly maxConcurrentReports: number;
  /** Queue responses served (in order) before the normal answer of `path`, e.g. `/api/v1/reports`. */
  fail(path: string, ...responses: ScriptedResponse[]): void;
  /** Forget requests, faults and counters; restore defaults. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS = { rowCap: 100_000, reportDelayMs: 0, now: undefined as number | undefined, dataLatencyMs: 0, timezone: "America/New_York" };

export async function startGladlyEmulator(): Promise<GladlyEmulator> {
  const faults = new Map<string, ScriptedResponse[]>();
  let active = 0;
  const state = {
    ...DEFAULTS,
    requests: [] as RecordedRequest[],
    jobs: [] as ExportJob[],
    files: new Map<string, string>(),
    maxConcurrentReports: 0,
  };
  const now = () => state.now ?? Date.now();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Kept as text: the handler answers 400.
      }
      const record: RecordedRequest = { method: req.method ?? "", path: url.pathname, query: url.searchParams, headers: req.headers, body, startedAt: performance.now() };
      state.requests.push(record);
      res.on("finish", () => {
        record.endedAt = performance.now();
        record.status = res.statusCode;
      });
      void handle(req, res, url, body, text).catch((e: unknown) => sendJson(res, 500, { errors: [{ code: "internal", detail: String(e) }] }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown, text: string): Promise<void> {
    const fault = faults.get(url.pathname)?.shift();
    if (fault?.partial) {
      res.writeHead(fault.status, { "content-type": "text/csv", ...fault.headers });
      res.write(fault.partial.text);
      // "stall" keeps the socket open and silent; close() cleans it up.
      if (fault.partial.then === "reset") setTimeout(() => res.socket?.destroy(), 20);
      if (fault.partial.then === "end") res.end();
      return;
    }
    if (fault) return sendJson(res, fault.status, fault.body ?? { errors: [{ code: "scripted", detail: `scripted HTTP ${fault.status}` }] }, fault.headers);

    if (!authorized(req)) return sendJson(res, 401, { errors: [{ code: "unauthorized", detail: "Invalid credentials" }] });

    if (url.pathname === "/api/v1/reports" && req.method === "POST") {
      if (text && typeof body === "string") return sendJson(res, 400, { errors: [{ code: "invalid", detail: "the request body is not valid JSON" }] });
      return report(res, body);
    }
    if (url.pathname === "/api/v1/export/jobs" && req.method === "GET") return listJobs(res, url.searchParams);
    const job = /^\/api\/v1\/export\/jobs\/([^/]+)$/.exec(url.pathname);
    if (job && req.method === "GET") {
      const found = visibleJob(decodeURIComponent(job[1]!));
      return found ? sendJson(res, 200, found) : sendJson(res, 404, NOT_FOUND);
    }
    const file = /^\/api\/v1\/export\/jobs\/([^/]+)\/files\/([^/]+)$/.exec(url.pathname);
    if (file && req.method === "GET") {
      const [id, name] = [decodeURIComponent(file[1]!), decodeURIComponent(file[2]!)];
      const found = visibleJob(id);
      const content = state.files.get(`${id}/${name}`);
      // ASSUMED: a job that is not COMPLETED has no files to download yet.
      if (!found || found.status !== "COMPLETED" || !found.files.includes(name) || content === undefined) return sendJson(res, 404, NOT_FOUND);
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      return void res.end(content);
    }
    sendJson(res, 404, { errors: [{ code: "not_exist", detail: `no route ${req.method} ${url.pathname}` }] });
  }

  /** "jobs older than 14 days are not available from the API". */
  function visibleJob(id: string): ExportJob | undefined {
    const job = state.jobs.find((j) => j.id === id);
    return job && Date.parse(job.updatedAt) >= now() - JOB_RETENTION_MS ? job : undefined;
  }

  function listJobs(res: ServerResponse, query: URLSearchParams): void {
    const { errors, filter } = validateJobsQuery(query, now());
    if (!filter) return sendJson(res, 400, { errors });
    const listed = state.jobs.filter((j) => {
      const updated = Date.parse(j.updatedAt);
      return updated >= filter.from && updated <= filter.to && (!filter.status || j.status === filter.status);
    });
    sendJson(res, 200, listed);
  }

  async function report(res: ServerResponse, body: unknown): Promise<void> {
    const org = { timezone: state.timezone, inboxes: new Set(INBOXES), teams: new Set(TEAMS) };
    const { errors, request } = validateReportRequest(body, org);
    if (!request) return sendJson(res, 400, { errors });
    active++;
    state.maxConcurrentReports = Math.max(state.maxConcurrentReports, active);
    try {
      if (state.reportDelayMs) await new Promise((r) => setTimeout(r, state.reportDelayMs));
      const { csv } = reportCsv(request, { rowCap: state.rowCap, visibleBefore: now() - state.dataLatencyMs });
      res.writeHead(200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename=${reportFileName(request)}` });
      // Several writes, so the client sees the body in pieces.
      const bytes = Buffer.from(csv, "utf8");
      for (let i = 0; i < bytes.length; i += 4096) res.write(bytes.subarray(i, i + 4096));
      await new Promise<void>((r) => res.end(r));
    } finally {
      active--;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get rowCap() {
      return state.rowCap;
    },
    set rowCap(v) {
      state.rowCap = v;
    },
    get reportDelayMs() {
      return state.reportDelayMs;
    },
    set reportDelayMs(v) {
      state.reportDelayMs = v;
    },
    get now() {
      return state.now;
    },
    set now(v) {
      state.now = v;
    },
    get dataLatencyMs() {
      return state.dataLatencyMs;
    },
    set dataLatencyMs(v) {
      state.dataLatencyMs = v;
    },
    get timezone() {
      return state.timezone;
    },
    set timezone(v) {
      state.timezone = v;
    },
    get jobs() {
      return state.jobs;
    },
    set jobs(v) {
      state.jobs = v;
    },
    files: state.files,
    get maxConcurrentReports() {
      return state.maxConcurrentReports;
    },
    fail(path, ...responses) {
      faults.set(path, [...(faults.get(path) ?? []), ...responses]);
    },
    reset() {
      faults.clear();
      Object.assign(state, DEFAULTS);
      state.requests.length = 0;
      state.jobs = [];
      state.files.clear();
      state.maxConcurrentReports = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function authorized(req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? "";
  const match = /^Basic (.+)$/.exec(header);
  if (!match) return false;
  return Buffer.from(match[1]!, "base64").toString("utf8") === `${EMAIL}:${TOKEN}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Shaped like the description's examples: `SummaryReportV2-20190501-20190516-Daily.csv`, `WorkSessionEventsReport-20200302T1000Z-20200302T2000Z.csv`. */
function reportFileName(request: ReportRequest): string {
  const i = request.interval;
  if (i.kind === "dates") return `${request.metricSet}-${i.startAt.replaceAll("-", "")}-${i.endAt.replaceAll("-", "")}.csv`;
  const t = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, "")}Z`;
  return `${request.metricSet}-${t(i.startMs)}-${t(i.endMs)}.csv`;
}

// ---------------------------------------------------------------- deterministic reports

const STEP_MS = 10 * 60_000;

/** The instants `[start, end)` a report interval covers: dates from the first midnight to the midnight after `endAt`. */
export function intervalMs(interval: ReportInterval): { start: number; end: number } {
  if (interval.kind === "time") return { start: interval.startMs, end: interval.endMs };
  return { start: Date.parse(zonedMidnight(interval.startAt, interval.timezone)), end: Date.parse(zonedMidnight(addDays(interval.endAt, 1), interval.timezone)) };
}

/** The CSV the emulator answers for a valid report request, and its data rows (ids in order). */
export function reportCsv(request: ReportRequest, options: { rowCap?: number; visibleBefore?: number } = {}): { csv: string; rows: number; ids: string[] } {
  const { start, end } = intervalMs(request.interval);
  const until = Math.min(end, options.visibleBefore ?? Number.POSITIVE_INFINITY);
  const zone = request.interval.kind === "dates" ? request.interval.timezone : "UTC";
  const lines = ['"Contact ID","Timestamp","Agent","Note"'];
  const ids: string[] = [];
  // Rows sit on the real-time 10-minute grid, so adjacent windows never share one.
  for (let t = Math.ceil(start / STEP_MS) * STEP_MS; t < until && ids.length < (options.rowCap ?? Infinity); t += STEP_MS) {
    const n = t / STEP_MS;
    const id = `${request.metricSet}-${new Date(t).toISOString()}`;
    ids.push(id);
    const note = n % 3 === 0 ? '"said ""hi"", then left"' : n % 4 === 0 ? '"line one\nline two, with a comma"' : "plain";
    lines.push(`${id},${wallClock(t, zone)},"Agent ${n % 5}, Team ${n % 2}",${note}`);
  }
  return { csv: `${lines.join("\r\n")}\r\n`, rows: ids.length, ids };
}

/** The report of whole days `startAt`..`endAt` (inclusive) in `timezone`, as the emulator serves it. */
export function daysCsv(metricSet: string, timezone: string, startAt: string, endAt: string = startAt, options: { rowCap?: number; visibleBefore?: number } = {}) {
  return reportCsv({ metricSet, interval: { kind: "dates", timezone, startAt, endAt } }, options);
}

export type { ApiError };
