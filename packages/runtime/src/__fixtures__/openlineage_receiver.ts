/**
 * An OpenLineage backend on 127.0.0.1 for tests, following two published descriptions:
 * the OpenLineage spec (OpenLineage.json 2-0-2 and its facet schemas), which every event
 * must satisfy, read through the model OpenLineage's Python client generates from that
 * JSON Schema (openlineage-python, pinned in the services venv; see openlineage_check.py);
 * and Marquez's lineage API (`POST /api/v1/lineage`, JSON body; 201 Created when the event
 * is taken, 400 Bad Request when it is not a valid event). Like Marquez, it refuses what
 * the schema refuses; on top of that it checks facets against their own schemas, which
 * Marquez stores without checking, and refuses unknown properties outside facets.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVICES_PYTHON = path.resolve(here, "../../../../.venv/services/bin/python");

export interface EventCheck {
  /** Empty when the event is valid. */
  readonly errors: readonly string[];
  /** The facet schemas (their `$id`) each facet was checked against, as `<facet key> <id>`. */
  readonly facets: readonly string[];
}

export interface EventChecker {
  check(event: unknown): Promise<EventCheck>;
  close(): void;
}

/** Starts openlineage_check.py in the services venv; events are checked one line each, in order. */
export function openLineageChecker(python = SERVICES_PYTHON): EventChecker {
  if (!existsSync(python)) {
    throw new Error(`no Python at ${python}: run bash tools/services/setup.sh, which installs openlineage-python into .venv/services`);
  }
  const child = spawn(python, [path.join(here, "openlineage_check.py")], { stdio: ["pipe", "pipe", "pipe"] });
  const waiting: { resolve: (c: EventCheck) => void; reject: (e: Error) => void }[] = [];
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.resolve(JSON.parse(line) as EventCheck));
  child.on("exit", (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`openlineage_check.py exited with ${code}: ${stderr.trim()}`));
  });
  return {
    check: (event) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(event)}\n`);
      }),
    close: () => child.stdin.end(),
  };
}

export interface ReceivedEvent {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the event holds
  readonly event: any;
  readonly facets: readonly string[];
  readonly headers: IncomingHttpHeaders;
}

export interface OpenLineageReceiver {
  /** The base URL, for OPENLINEAGE_URL. */
  readonly url: string;
  /** Valid events, in the order they came. */
  readonly events: ReceivedEvent[];
  /** What was refused, and why. */
  readonly refused: { readonly body: string; readonly errors: readonly string[] }[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** The endpoint path; `/api/v1/lineage` by default, as Marquez serves it. */
  readonly endpoint?: string;
  /** When set, a request without `Authorization: Bearer <apiKey>` gets 401. */
  readonly apiKey?: string;
}

export async function openLineageReceiver(options: ReceiverOptions = {}): Promise<OpenLineageReceiver> {
  const checker = openLineageChecker();
  const endpoint = options.endpoint ?? "/api/v1/lineage";
  const events: ReceivedEvent[] = [];
  const refused: { body: string; errors: string[] }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    const respond = async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const answer = (status: number, payload?: unknown) => {
        res.writeHead(status, payload === undefined ? {} : { "content-type": "application/json" });
        res.end(payload === undefined ? undefined : JSON.stringify(payload));
      };
      if (new URL(req.url ?? "/", "http://x").pathname !== endpoint) return answer(404, { code: 404, message: "HTTP 404 Not Found" });
      if (req.method !== "POST") return answer(405, { code: 405, message: "HTTP 405 Method Not Allowed" });
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) return answer(401, { code: 401, message: "Unauthorized" });
      if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return answer(415, { code: 415, message: "HTTP 415 Unsupported Media Type" });
      let event: unknown;
      try {
        event = JSON.parse(body);
      } catch (e) {
        refused.push({ body, errors: [`not JSON: ${(e as Error).message}`] });
        return answer(400, { code: 400, message: "Unable to process JSON" });
      }
      let result: EventCheck;
      try {
        result = await checker.check(event);
      } catch (e) {
        refused.push({ body, errors: [(e as Error).message] });
        return answer(500, { code: 500, message: (e as Error).message });
      }
      if (result.errors.length > 0) {
        refused.push({ body, errors: [...result.errors] });
        return answer(400, { code: 400, errors: result.errors });
      }
      events.push({ event, facets: result.facets, headers: req.headers });
      answer(201);
    };
    req.on("end", () => void respond());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        checker.close();
        server.close(() => resolve());
      }),
  };
}
