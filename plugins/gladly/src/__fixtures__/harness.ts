/**
 * Builds an ExtractContext by hand (the runtime is not involved) and drains the
 * source's batches, so tests see exactly what the runtime would land.
 */
import { rejectionOf, streamContext } from "@xo-foundry/testkit";
import { dataWindow, type Connection, type ExtractBatch, type ExtractContext, type LoadStrategy, type Logger } from "@xo-foundry/core";
import { gladlySource } from "../source.js";
import type { SourceOptions, StreamOptions } from "../options.js";
import { EMAIL, TOKEN } from "./gladly-server.js";

export interface ContextInput {
  readonly source: Record<string, unknown>;
  readonly stream: Record<string, unknown>;
  readonly connection?: Connection;
  readonly timezone?: string;
  readonly logicalDate?: string;
  readonly strategy?: LoadStrategy;
  /** For `historical`: the window's days, as the pipeline's `lookback_days`. */
  readonly lookbackDays?: number;
  readonly log?: Logger;
}

export function connection(overrides: Partial<Connection> = {}): Connection {
  return { id: "gladly", login: EMAIL, password: TOKEN, extra: {}, ...overrides };
}

export function makeContext(input: ContextInput): ExtractContext<SourceOptions, StreamOptions> {
  const timezone = input.timezone ?? "UTC";
  const logicalDate = input.logicalDate ?? "2026-01-15";
  const strategy = input.strategy ?? "incremental";
  const base = streamContext({ timezone, logicalDate, strategy, stream: { name: "gladly_stream" } });
  return {
    ...base,
    // The window as the runtime derives it, with the pipeline's lookback_days.
    window: dataWindow(logicalDate, strategy, timezone, input.lookbackDays ?? 7),
    ...(input.log ? { log: input.log } : {}),
    source: "main",
    // Raw options on purpose: the source must apply its own defaults.
    options: { backoff_ms: 10, ...input.source } as unknown as SourceOptions,
    streamOptions: input.stream as unknown as StreamOptions,
    connection: input.connection ?? connection(),
    state: undefined,
  };
}

export interface LandedFile {
  readonly name: string;
  readonly format: string;
  readonly rows: number | undefined;
  readonly metadata: Readonly<Record<string, string | number>> | undefined;
  readonly bytes: Buffer;
}

/** Runs the extract to the end, reading each file body before asking for the next batch (as the runtime does). */
export async function extractFiles(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<LandedFile[]> {
  const files: LandedFile[] = [];
  for await (const batch of gladlySource.extract(ctx) as AsyncIterable<ExtractBatch>) {
    if (batch.type !== "file") throw new Error(`unexpected batch type ${batch.type}`);
    const chunks: Uint8Array[] = [];
    for await (const chunk of batch.body) chunks.push(chunk);
    files.push({ name: batch.name, format: batch.format, rows: batch.rows, metadata: batch.metadata, bytes: Buffer.concat(chunks) });
  }
  return files;
}

/** The error an extract fails with (fails the test if it succeeds). */
export function extractError(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<Error> {
  return rejectionOf(() => extractFiles(ctx));
}

export { recordingLogger, type RecordingLogger } from "@xo-foundry/testkit";
