/**
 * A scripted HTTP server on 127.0.0.1 and a free port, for sources that read HTTP APIs:
 * each route answers a list of scripted responses (status, headers, body, delay, or no
 * answer at all), and every request is recorded. Real sockets and the plugin's real
 * HTTP client, nothing mocked in between.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";

export interface ScriptedResponse {
  /** 200 by default. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string or bytes are sent as they are; anything else as JSON (with a JSON content type). */
  readonly body?: unknown;
  /** Milliseconds to wait before answering. */
  readonly delayMs?: number;
  /** Never answer: the request hangs until the client gives up or the server closes. */
  readonly stall?: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: URL;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  /** The request body as UTF-8 text ("" for none). */
  readonly body: string;
}

export type PathMatcher = string | RegExp | ((request: RecordedRequest) => boolean);

export interface Route {
  /** Any method when unset. */
  readonly method?: string;
  /** The exact path (without the query), a regular expression on it, or a predicate. */
  readonly path: PathMatcher;
  /**
   * One response for every request, a list answered in order (the last one repeats), or
   * a function of the request (for pagination: read `query`).
   */
  readonly respond: ScriptedResponse | readonly ScriptedResponse[] | ((request: RecordedRequest, index: number) => ScriptedResponse);
}

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Adds routes; later routes win over earlier ones that match the same request. */
  route(...routes: Route[]): void;
  /** Forgets every route and recorded request. */
  reset(): void;
  close(): Promise<void>;
}

export async function startScriptedServer(routes: readonly Route[] = []): Promise<ScriptedServer> {
  const installed: { route: Route; served: number }[] = routes.map((route) => ({ route, served: 0 }));
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      const entry = [...installed].reverse().find(({ route }) => matches(route, recorded));
      if (!entry) {
        send(res, { status: 404, body: { error: `no scripted response for ${recorded.method} ${recorded.path}` } });
        return;
      }
      const index = entry.served++;
      const { respond } = entry.route;
      const response = typeof respond === "function" ? respond(recorded, index) : isList(respond) ? (respond[Math.min(index, respond.length - 1)] ?? {}) : respond;
      if (response.stall) return;
      if (response.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(res, response);
        }, response.delayMs);
        timers.add(timer);
      } else send(res, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    route: (...more) => void installed.push(...more.map((route) => ({ route, served: 0 }))),
    reset() {
      installed.length = 0;
      requests.length = 0;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      // Stalled requests keep sockets open; close() alone would wait for them forever.
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/**
 * A scripted server for the test file: started in `beforeAll`, closed in `afterAll`.
 * Use its members inside tests and hooks, not at the top level (it is not started yet).
 */
export function useScriptedServer(routes: readonly Route[] = []): ScriptedServer {
  let server: ScriptedServer | undefined;
  beforeAll(async () => {
    server = await startScriptedServer(routes);
  });
  afterAll(async () => {
    await server?.close();
  });
  const started = (): ScriptedServer => {
    if (!server) throw new Error("the scripted server starts in beforeAll; use it inside tests and hooks");
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get requests() {
      return started().requests;
    },
    route: (...more) => started().route(...more),
    reset: () => started().reset(),
    close: () => started().close(),
  };
}

function isList(respond: Route["respond"]): respond is readonly ScriptedResponse[] {
  return Array.isArray(respond);
}

function matches(route: Route, request: RecordedRequest): boolean {
  if (route.method !== undefined && route.method.toUpperCase() !== request.method) return false;
  const p = route.path;
  if (typeof p === "string") return p === request.path;
  if (p instanceof RegExp) return p.test(request.path);
  return p(request);
}

function send(res: ServerResponse, response: ScriptedResponse): void {
  const body = response.body;
  const raw = typeof body === "string" || body instanceof Uint8Array;
  const headers: Record<string, string> = { ...(raw || body === undefined ? {} : { "content-type": "application/json" }), ...response.headers };
  res.writeHead(response.status ?? 200, headers);
  res.end(body === undefined ? undefined : raw ? body : JSON.stringify(body));
}
