/**
 * Test harness: a scripted loopback HTTP server (each test installs its own
 * handler) and a hand-built ExtractContext, so the source is exercised through
 * real sockets and the real axios client without the runtime.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  silentLogger,
  type Connection,
  type DataWindow,
  type ExtractBatch,
  type ExtractContext,
  type JsonObject,
  type Logger,
  type PipelineConfig,
} from "@xo-foundry/core";
import { rejectionOf, streamContext } from "@xo-foundry/testkit";
import { apiSource } from "../source.js";
import type { SourceOptions, StreamOptions } from "../options.js";

export interface RecordedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage["headers"];
  /** The request body as text ("" for none). */
  readonly body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Installs the handler for the next test and forgets earlier requests. */
  script(handler: Handler): void;
  close(): Promise<void>;
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  let handler: Handler = (_req, res) => sendJson(res, 500, { error: "no handler scripted" });
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      handler(req, res, url);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(next) {
      handler = next;
      requests.length = 0;
    },
    close() {
      // Handlers that never answer leave sockets open; close() alone would wait for them.
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** `count` records `{ id: start.. }`. */
export function rows(start: number, count: number): Record<string, unknown>[] {
  return Array.from({ length: Math.max(0, count) }, (_, i) => ({ id: start + i, name: `row ${start + i}` }));
}

export const WINDOW: DataWindow = {
  logicalDate: "2026-01-15",
  start: "2026-01-15T00:00:00+00:00",
  end: "2026-01-16T00:00:00+00:00",
  timezone: "UTC",
};

export interface ContextInput {
  readonly source: Record<string, unknown>;
  readonly stream: Record<string, unknown>;
  readonly connection?: Connection;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
  /** The stream's saved state, as the runtime would pass it after a successful load. */
  readonly state?: JsonObject;
}

export function makeContext(input: ContextInput): ExtractContext<SourceOptions, StreamOptions> {
  const stream = { name: "items", target: {}, ...input.stream };
  const base = streamContext({ stream, logicalDate: "2026-01-15", runId: "manual__2026-01-15", ...(input.signal ? { signal: input.signal } : {}) });
  const pipeline: PipelineConfig = {
    ...base.pipeline,
    sources: { main: { plugin: "api", ...(input.connection ? { connection: input.connection.id } : {}), ...input.source, streams: [stream] } },
  };
  return {
    ...base,
    pipeline,
    source: "main",
    stream,
    window: WINDOW,
    log: input.log ?? silentLogger,
    // Raw options on purpose: the source must apply its own defaults.
    options: input.source as unknown as SourceOptions,
    streamOptions: input.stream as unknown as StreamOptions,
    connection: input.connection,
    state: input.state,
  };
}

export interface ExtractRun {
  readonly pages: Record<string, unknown>[][];
  /** The state batches, in the order they came (the runtime keeps the last). */
  readonly states: JsonObject[];
}

/** Runs the extract to the end and returns its pages and state batches. */
export async function extractRun(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<ExtractRun> {
  const pages: Record<string, unknown>[][] = [];
  const states: JsonObject[] = [];
  for await (const batch of apiSource.extract(ctx) as AsyncIterable<ExtractBatch>) {
    if (batch.type === "records") pages.push([...batch.records]);
    else if (batch.type === "state") states.push(batch.state);
    else throw new Error(`unexpected batch type ${batch.type}`);
  }
  return { pages, states };
}

/** Runs the extract to the end and returns its pages. */
export async function extractPages(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<Record<string, unknown>[][]> {
  return (await extractRun(ctx)).pages;
}

/** The error an extract fails with (fails the test if it succeeds). */
export function extractError(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<Error> {
  return rejectionOf(() => extractPages(ctx));
}

export { recordingLogger, type RecordingLogger } from "@xo-foundry/testkit";
