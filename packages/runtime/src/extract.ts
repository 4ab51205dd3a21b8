/**
 * The extract step: pull batches from the source one at a time, stream them into
 * this run's ingest folder, then publish a complete stage partition. Memory holds
 * one page at a time, whatever the size of the extract.
 */
import {
  joinUri,
  landingPaths,
  type ExtractBatch,
  type FileFormat,
  type JsonObject,
  type LandingStore,
  type Manifest,
  type ManifestFile,
  type SourceDefinition,
  type StreamContext,
  type Connection,
} from "@xo-foundry/core";
import { RESERVED_SOURCE_KEYS, RESERVED_STREAM_KEYS, pluginOptions } from "@xo-foundry/core";
import type { HeldLock } from "./lock.js";
import { publishPartition, removeStaleTemporaries } from "./partition.js";
import { taskProgress, type TaskProgress } from "./progress.js";

/** A records part file rolls over after this many bytes, so files stay loadable in parallel. */
const PART_BYTES = 128 * 1024 * 1024;

export interface ExtractInput extends StreamContext {
  /** The source block's name. */
  readonly sourceName: string;
  readonly source: SourceDefinition;
  readonly connection: Connection | undefined;
  readonly landing: LandingStore;
  readonly landingRoot: string;
  /** The stream's saved state, handed to the source. */
  readonly state: JsonObject | undefined;
  /**
   * The partition lock this task holds: checked before publishing, and what makes it
   * safe to remove other runs' stale temporaries. Without it neither happens.
   */
  readonly lock?: Pick<HeldLock, "check">;
  /** Counters to add rows, pages, bytes and files to as they land (per page, never per record). */
  readonly progress?: TaskProgress;
}

export async function runExtract(input: ExtractInput): Promise<Manifest> {
  const { source, landing, pipeline, stream } = input;
  const progress = input.progress ?? taskProgress("", "extract", "extracting");
  const block = pipeline.sources[input.sourceName]!;
  const paths = landingPaths({
    root: input.landingRoot,
    pipeline: pipeline.pipeline.name,
    stream: stream.name,
    strategy: input.strategy,
    window: input.window,
    runId: input.runId,
  });
  // A retry of the same run replaces its own raw files; other runs' files stay.
  await landing.deletePrefix(paths.ingest);

  const batches = source
    .extract({
      ...streamContext(input),
      source: input.sourceName,
      options: pluginOptions(block, RESERVED_SOURCE_KEYS),
      streamOptions: pluginOptions(stream, RESERVED_STREAM_KEYS),
      connection: input.connection,
      state: input.state,
    })
    [Symbol.asyncIterator]();

  const files: ManifestFile[] = [];
  let state: JsonObject | undefined;
  let pending: ExtractBatch | undefined;
  let done = false;
  const next = async (): Promise<ExtractBatch | undefined> => {
    if (pending) {
      const b = pending;
      pending = undefined;
      return b;
    }
    if (done) return undefined;
    const r = await batches.next();
    if (r.done) {
      done = true;
      return undefined;
    }
    return r.value;
  };

  const encoder = new TextEncoder();
  let part = 0;
  for (let batch = await next(); batch; batch = await next()) {
    if (batch.type === "state") {
      state = batch.state;
    } else if (batch.type === "records") {
      if (batch.records.length === 0) continue;
      let rows = 0;
      // Pulls further record pages into the same part until it is big enough or a file batch arrives.
      const body = async function* (first: readonly Record<string, unknown>[]): AsyncGenerator<Uint8Array> {
        let bytes = 0;
        let records = first;
        for (;;) {
          const chunk = encoder.encode(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
          rows += records.length;
          bytes += chunk.length;
          progress.rows += records.length;
          progress.pages++;
          progress.bytes += chunk.length;
          yield chunk;
          if (bytes >= PART_BYTES) return;
          const following = await next();
          if (!following) return;
          if (following.type !== "records") {
            pending = following;
            return;
          }
          records = following.records;
        }
      };
      const uri = joinUri(paths.ingest, `part-${String(part++).padStart(5, "0")}.ndjson`);
      const written = await landing.write(uri, body(batch.records));
      if (rows > 0) {
        files.push({ uri, format: "ndjson", rows, ...written });
        progress.files++;
      }
    } else {
      const uri = joinUri(paths.ingest, safeFileName(batch.name, part++));
      const written = await landing.write(uri, counted(batch.body, progress));
      progress.files++;
      progress.rows += batch.rows ?? 0;
      files.push({
        uri,
        format: batch.format,
        ...written,
        ...(batch.rows !== undefined ? { rows: batch.rows } : {}),
        ...(batch.metadata ? { metadata: batch.metadata } : {}),
      });
    }
    if (input.signal.aborted) throw input.signal.reason;
  }

  if (input.lock) {
    await input.lock.check();
    const removed = await removeStaleTemporaries(landing, paths);
    if (removed > 0) input.log.info(`removed ${removed} temporary file(s) that killed runs left in the ingest folders`);
  }
  return publishPartition(landing, paths, files, {
    pipeline: pipeline.pipeline.name,
    stream: stream.name,
    strategy: input.strategy,
    logicalDate: input.window.logicalDate,
    runId: input.runId,
    ...(state !== undefined ? { state } : {}),
  });
}

/** A whole file's chunks, added to the task's bytes as the landing zone pulls them. */
async function* counted(body: AsyncIterable<Uint8Array>, progress: TaskProgress): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    progress.bytes += chunk.length;
    yield chunk;
  }
}

function safeFileName(name: string, index: number): string {
  const base = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  return base ? `${String(index).padStart(5, "0")}-${base}` : `part-${String(index).padStart(5, "0")}`;
}

export function streamContext(input: StreamContext): StreamContext {
  const { pipeline, projectDir, stream, strategy, window, runId, log, signal } = input;
  return { pipeline, projectDir, stream, strategy, window, runId, log, signal };
}

export type { FileFormat };
