/**
 * A loopback emulator of Gladly's public API (developer.gladly.com), on node:http at
 * 127.0.0.1 and a free port. It is the only emulated part of the tests: the plugin
 * talks to it through the real axios client and the real Node HTTP stack.
 *
 * - HTTP Basic auth (agent email + API token) on every `/api/v1` path.
 * - `POST /api/v1/reports`: validates the body like Gladly (400 with
 *   `{ errors: [{ attr, code, detail }] }`), reads startAt/endAt as wall-clock times in
 *   `timezone`, and answers a deterministic CSV with one row per 10 minutes of real
 *   time; it truncates at `rowCap` rows like the real API. Fields hold commas, quotes
 *   and newlines, and records end in CRLF, to exercise the row counter.
 * - `GET /api/v1/export/jobs?status=COMPLETED` and `GET /api/v1/export/jobs/{id}/files/{name}`.
 * - Scripted faults: queued responses (429 with Retry-After, 5xx, 400...) served
 *   before the normal answer of a path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { wallClock, zonedToUtc } from "@xo-foundry/core";

export const EMAIL = "agent@acme.com";
export const TOKEN = "tok-s3cr3t-0123456789";

export const METRIC_SETS = ["ContactTimestampsReport", "AgentTimestampsReport", "ConversationTimestampsReport", "WorkSessionsReportV3"];

export interface ExportJob {
  readonly id: string;
  readonly status: string;
  readonly parameters: { readonly type: string; readonly startAt: string; readonly endAt: string };
  readonly updatedAt: string;
  readonly files: readonly string[];
}

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
  /** `performance.now()` when the request arrived and when its response finished. */
  readonly startedAt: number;
  endedAt?: number;
}

export interface GladlyEmulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Report rows returned at most (Gladly's row cap). */
  rowCap: number;
  /** Delay before a report answers, to make overlapping requests visible. */
  reportDelayMs: number;
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

export async function startGladlyEmulator(): Promise<GladlyEmulator> {
  const faults = new Map<string, ScriptedResponse[]>();
  let active = 0;
  const state = {
    requests: [] as RecordedRequest[],
    rowCap: 100_000,
    reportDelayMs: 0,
    jobs: [] as ExportJob[],
    files: new Map<string, string>(),
    maxConcurrentReports: 0,
  };

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
      res.on("finish", () => (record.endedAt = performance.now()));
      void handle(req, res, url, body).catch((e: unknown) => sendJson(res, 500, { errors: [{ code: "internal", detail: String(e) }] }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown): Promise<void> {
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

    if (url.pathname === "/api/v1/reports" && req.method === "POST") return report(res, body);
    if (url.pathname === "/api/v1/export/jobs" && req.method === "GET") {
      const status = url.searchParams.get("status");
      return sendJson(res, 200, state.jobs.filter((j) => !status || j.status === status));
    }
    const file = /^\/api\/v1\/export\/jobs\/([^/]+)\/files\/([^/]+)$/.exec(url.pathname);
    if (file && req.method === "GET") {
      const content = state.files.get(`${decodeURIComponent(file[1]!)}/${decodeURIComponent(file[2]!)}`);
      if (content === undefined) return sendJson(res, 404, { errors: [{ code: "not_found", detail: "file not found" }] });
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      return void res.end(content);
    }
    sendJson(res, 404, { errors: [{ code: "not_found", detail: `no route ${req.method} ${url.pathname}` }] });
  }

  async function report(res: ServerResponse, body: unknown): Promise<void> {
    const errors = validateReport(body);
    if (errors.length) return sendJson(res, 400, { errors });
    const { metricSet, timezone, startAt, endAt } = body as Record<string, string>;
    active++;
    state.maxConcurrentReports = Math.max(state.maxConcurrentReports, active);
    try {
      if (state.reportDelayMs) await new Promise((r) => setTimeout(r, state.reportDelayMs));
      const { csv } = reportCsv({ metricSet: metricSet!, timezone: timezone!, startAt: startAt!, endAt: endAt!, rowCap: state.rowCap });
      res.writeHead(200, { "content-type": "text/csv; charset=utf-8" });
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
      state.requests.length = 0;
      state.rowCap = 100_000;
      state.reportDelayMs = 0;
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

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

function validateReport(body: unknown): { attr: string; code: string; detail: string }[] {
  if (typeof body !== "object" || body === null) return [{ attr: "body", code: "invalid", detail: "must be a JSON object" }];
  const b = body as Record<string, unknown>;
  const errors: { attr: string; code: string; detail: string }[] = [];
  if (typeof b.metricSet !== "string" || !b.metricSet) errors.push({ attr: "metricSet", code: "blank", detail: "is required" });
  else if (!METRIC_SETS.includes(b.metricSet)) errors.push({ attr: "metricSet", code: "invalid", detail: `unknown metric set ${b.metricSet}` });
  if (typeof b.timezone !== "string" || !validZone(b.timezone)) errors.push({ attr: "timezone", code: "invalid", detail: "must be an IANA time zone" });
  for (const attr of ["startAt", "endAt"]) {
    if (typeof b[attr] !== "string" || !LOCAL_TIME.test(b[attr] as string)) errors.push({ attr, code: "invalid", detail: "must be a local time like 2026-01-15T00:00:00" });
  }
  if (!errors.length && (b.startAt as string) >= (b.endAt as string)) errors.push({ attr: "startAt", code: "invalid", detail: "must be before endAt" });
  return errors;
}

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- deterministic reports

const STEP_MS = 10 * 60_000;

export interface ReportRequest {
  readonly metricSet: string;
  readonly timezone: string;
  readonly startAt: string;
  readonly endAt: string;
  readonly rowCap?: number;
}

/** The CSV the emulator answers for a report request, and its data row count. */
export function reportCsv(request: ReportRequest): { csv: string; rows: number; ids: string[] } {
  const start = zonedToUtc(request.startAt, request.timezone);
  const end = zonedToUtc(request.endAt, request.timezone);
  const lines = ['"Contact ID","Timestamp","Agent","Note"'];
  const ids: string[] = [];
  // Rows sit on the real-time 10-minute grid, so adjacent windows never share one.
  for (let t = Math.ceil(start / STEP_MS) * STEP_MS; t < end && ids.length < (request.rowCap ?? Infinity); t += STEP_MS) {
    const n = t / STEP_MS;
    const id = `${request.metricSet}-${new Date(t).toISOString()}`;
    ids.push(id);
    const note = n % 3 === 0 ? '"said ""hi"", then left"' : n % 4 === 0 ? '"line one\nline two, with a comma"' : "plain";
    lines.push(`${id},${wallClock(t, request.timezone)},"Agent ${n % 5}, Team ${n % 2}",${note}`);
  }
  return { csv: `${lines.join("\r\n")}\r\n`, rows: ids.length, ids };
}
