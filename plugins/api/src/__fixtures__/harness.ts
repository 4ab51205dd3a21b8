/**
 * Test harness: a scripted loopback HTTP server (each test installs its own
 * handler) and a hand-built ExtractContext, so the source is exercised through
 * real sockets and the real axios client without the runtime.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger, type Connection, type DataWindow, type ExtractBatch, type ExtractContext, type Logger, type PipelineConfig } from "@xo-foundry/core";
import { rejectionOf } from "@xo-foundry/testkit";
import { apiSource } from "../source.js";
import type { SourceOptions, StreamOptions } from "../options.js";

export interface RecordedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage["headers"];
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
    requests.push({ method: req.method ?? "", url, headers: req.headers });
    handler(req, res, url);
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
}

export function makeContext(input: ContextInput): ExtractContext<SourceOptions, StreamOptions> {
  const stream = { name: "items", target: {}, ...input.stream };
  // Only the fields the source reads are real; the rest of the pipeline is not its business.
  const pipeline = {
    pipeline: { name: "test_pipeline", dag_id: "test_pipeline", timezone: "UTC", load_strategy: "incremental" },
    template: "ingest",
    source: { plugin: "api", connection: input.connection?.id, ...input.source, streams: [stream] },
  } as unknown as PipelineConfig;
  return {
    pipeline,
    projectDir: process.cwd(),
    stream,
    strategy: "incremental",
    window: WINDOW,
    runId: "manual__2026-01-15",
    log: input.log ?? silentLogger,
    signal: input.signal ?? new AbortController().signal,
    // Raw options on purpose: the source must apply its own defaults.
    options: input.source as unknown as SourceOptions,
    streamOptions: input.stream as unknown as StreamOptions,
    connection: input.connection,
  };
}

/** Runs the extract to the end and returns its pages. */
export async function extractPages(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<Record<string, unknown>[][]> {
  const pages: Record<string, unknown>[][] = [];
  for await (const batch of apiSource.extract(ctx) as AsyncIterable<ExtractBatch>) {
    if (batch.type !== "records") throw new Error(`unexpected batch type ${batch.type}`);
    pages.push([...batch.records]);
  }
  return pages;
}

/** The error an extract fails with (fails the test if it succeeds). */
export function extractError(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<Error> {
  return rejectionOf(() => extractPages(ctx));
}

export { recordingLogger, type RecordingLogger } from "@xo-foundry/testkit";
