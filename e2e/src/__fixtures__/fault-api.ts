/**
 * A loopback REST API that serves a known set of records per day and misbehaves on
 * purpose: 5xx, 429 with Retry-After, connections reset before or during the body,
 * 200s whose JSON ends early, and slow bodies. Whether a request fails, and how, is a
 * pure function of (seed, request URL, how many times that URL was asked before), so a
 * run sees the same faults every time whatever else runs in parallel. Tests can also
 * hold a request (never answer it) to catch a client in the middle of an extract, or
 * break a page for good.
 *
 *   GET /v1/events?day=YYYY-MM-DD&n=<records>&pad=<chars>&since=<ISO>&offset=<o>&limit=<l>
 *   -> { "data": [{ id, day, seq, updated_at, pad }], "total": <records of the day after since> }
 *
 * Records of a day have `updated_at` spread over that UTC day; `since` keeps those at or
 * after it (the incremental cursor). Only 127.0.0.1 is bound.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const FAULT_KINDS = ["http_5xx", "http_429", "reset", "reset_mid_body", "truncated", "slow"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface EventQuery {
  readonly day: string;
  readonly offset: number;
  readonly limit: number;
}

export interface HeldRequest {
  readonly query: EventQuery;
  /** Answers the held request normally. */
  release(): void;
}

export interface FaultApi {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Faults injected so far, by kind. */
  readonly faults: Record<FaultKind, number>;
  /** Requests answered so far (faults included). */
  requests(day?: string): number;
  /** Ids served with a 200 for a day: what the API handed out for that window. */
  served(day: string): ReadonlySet<string>;
  /** Holds the next request that matches (no answer until released or the client dies); resolves when it arrives. */
  hold(match: (q: EventQuery) => boolean): Promise<HeldRequest>;
  /** Answers every matching request with 503 until `heal()`. */
  breakPages(match: (q: EventQuery) => boolean): void;
  heal(): void;
  close(): Promise<void>;
}

export interface FaultApiOptions {
  readonly seed: number;
  /** Share of requests that misbehave, 0..1. */
  readonly rate: number;
}

/** The records of one day, the same on every call. */
export function dayRecords(day: string, n: number, pad: number): { id: string; day: string; seq: number; updated_at: string; pad: string }[] {
  const start = Date.parse(`${day}T00:00:00Z`);
  const step = Math.floor(86_400_000 / n);
  return Array.from({ length: n }, (_, seq) => ({
    id: `${day}-${String(seq).padStart(6, "0")}`,
    day,
    seq,
    updated_at: new Date(start + seq * step).toISOString(),
    pad: "x".repeat(pad),
  }));
}

/** A uniform number in [0, 1) from a hash of the parts. */
function unit(...parts: (string | number)[]): number {
  return createHash("sha256").update(parts.join("|")).digest().readUInt32BE(0) / 2 ** 32;
}

export async function startFaultApi(options: FaultApiOptions): Promise<FaultApi> {
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const attempts = new Map<string, number>();
  const streak = new Map<string, number>();
  const perDay = new Map<string, number>();
  const served = new Map<string, Set<string>>();
  const holds: { match: (q: EventQuery) => boolean; resolve: (h: HeldRequest) => void }[] = [];
  let broken: ((q: EventQuery) => boolean) | undefined;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/v1/events") return json(res, 404, { error: "not found" });
    const day = url.searchParams.get("day") ?? "";
    const query: EventQuery = { day, offset: Number(url.searchParams.get("offset") ?? 0), limit: Number(url.searchParams.get("limit") ?? 100) };
    perDay.set(day, (perDay.get(day) ?? 0) + 1);

    const hold = holds.findIndex((h) => h.match(query));
    if (hold !== -1) {
      const [{ resolve }] = holds.splice(hold, 1) as [(typeof holds)[number]];
      resolve({ query, release: () => answer(req, res, url, query) });
      return;
    }
    if (broken?.(query)) return json(res, 503, { error: "this page is down for maintenance" });

    // Which URL this is, and how often it was asked: the whole input of the fault decision.
    const key = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join("&");
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    // Never more than two faults in a row for one URL: the client's retries always get through.
    const fault = (streak.get(key) ?? 0) < 2 && unit(options.seed, key, attempt) < options.rate;
    if (!fault) {
      streak.set(key, 0);
      return answer(req, res, url, query);
    }
    streak.set(key, (streak.get(key) ?? 0) + 1);
    const kind = FAULT_KINDS[Math.floor(unit(options.seed, key, attempt, "kind") * FAULT_KINDS.length)]!;
    faults[kind]++;
    switch (kind) {
      case "http_5xx":
        return json(res, [500, 502, 503][attempt % 3]!, { error: "upstream failed" });
      case "http_429":
        return json(res, 429, { error: "rate limited" }, { "retry-after": "0" });
      case "reset":
        return void req.socket.destroy();
      case "reset_mid_body": {
        const body = page(url, query);
        res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
        res.write(body.slice(0, Math.floor(body.length / 2)));
        return later(() => req.socket.destroy(), 5);
      }
      case "truncated": {
        // A complete HTTP message (chunked, properly ended) whose JSON stops half way.
        const body = page(url, query);
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(body.slice(0, Math.floor(body.length / 2)));
      }
      case "slow": {
        // Slow but complete: the first half now, the rest 150 ms later, well within the client's timeout.
        const body = page(url, query);
        res.writeHead(200, { "content-type": "application/json" });
        res.write(body.slice(0, Math.floor(body.length / 2)));
        return later(() => {
          record(url, query);
          res.end(body.slice(Math.floor(body.length / 2)));
        }, 150);
      }
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const selected = (url: URL, query: EventQuery) => {
    const n = Number(url.searchParams.get("n") ?? 100);
    const pad = Number(url.searchParams.get("pad") ?? 0);
    const since = url.searchParams.get("since");
    const all = dayRecords(query.day, n, pad).filter((r) => !since || Date.parse(r.updated_at) >= Date.parse(since));
    return { all, rows: all.slice(query.offset, query.offset + query.limit) };
  };
  const page = (url: URL, query: EventQuery) => {
    const { all, rows } = selected(url, query);
    return JSON.stringify({ data: rows, total: all.length });
  };
  const record = (url: URL, query: EventQuery) => {
    const ids = served.get(query.day) ?? new Set<string>();
    for (const r of selected(url, query).rows) ids.add(r.id);
    served.set(query.day, ids);
  };
  const answer = (_req: IncomingMessage, res: ServerResponse, url: URL, query: EventQuery) => {
    if (res.destroyed) return;
    record(url, query);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(page(url, query));
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    requests: (day) => (day === undefined ? [...perDay.values()].reduce((a, b) => a + b, 0) : (perDay.get(day) ?? 0)),
    served: (day) => served.get(day) ?? new Set(),
    hold: (match) => new Promise((resolve) => holds.push({ match, resolve })),
    breakPages(match) {
      broken = match;
    },
    heal() {
      broken = undefined;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
