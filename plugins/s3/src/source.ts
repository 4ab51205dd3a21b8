/**
 * The `s3` source: copies the objects that match a stream's prefix and glob into
 * the landing zone, one file batch per object, in key order. Bodies stream from
 * GetObject straight into the landing store's upload; nothing is buffered whole.
 */
import path from "node:path";
import { GetObjectCommand, type S3Client, type _Object } from "@aws-sdk/client-s3";
import picomatch from "picomatch";
import type { ExtractBatch, ExtractContext, FileFormat, SourceDefinition } from "@xo-foundry/core";
import { byKey, createS3Client, listObjects } from "./client.js";
import { wrapS3Error, type ErrorScope } from "./errors.js";
import { EXTENSION_FORMATS, S3_SOURCE, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { folderPrefix } from "./uri.js";

export interface S3SourceTuning {
  /** Keys per ListObjectsV2 page (tests lower it). */
  readonly listPageSize?: number;
  /** A ready client instead of one built from the connection (tests). */
  readonly client?: S3Client;
}

export function createS3Source(tuning: S3SourceTuning = {}): SourceDefinition<SourceOptions, StreamOptions> {
  return { ...S3_SOURCE, extract: (ctx) => extract(ctx, tuning) };
}

export const s3Source = createS3Source();

export interface MatchedObject {
  readonly key: string;
  /** The key relative to the stream's prefix. */
  readonly relative: string;
  readonly size: number;
  readonly lastModified: Date | undefined;
  readonly etag: string | undefined;
  readonly format: FileFormat;
}

async function* extract(
  ctx: ExtractContext<SourceOptions, StreamOptions>,
  tuning: S3SourceTuning,
): AsyncGenerator<ExtractBatch, void, undefined> {
  // Parsing again is idempotent for validated configs and applies defaults when a caller passes raw options.
  const stream = streamOptions.parse(ctx.streamOptions);
  const client = tuning.client ?? createS3Client(ctx.connection);
  const scope: ErrorScope = {
    bucketOption: `the bucket of stream ${ctx.stream.name}`,
    connectionId: ctx.connection?.id ?? ctx.pipeline.source.connection,
  };
  const objects = await matchObjects(client, ctx, stream, scope, tuning.listPageSize ?? 1000);
  ctx.log.info(`matched ${objects.length} object(s) in s3://${stream.bucket}/${folderPrefix(stream.prefix)}`, {
    objects: objects.length,
    bytes: objects.reduce((n, o) => n + o.size, 0),
  });
  for (const object of objects) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    yield {
      type: "file",
      name: object.relative.split("/").join("__"),
      format: object.format,
      body: objectBody(client, stream.bucket, object.key, scope, ctx.signal),
      metadata: {
        key: object.key,
        size: object.size,
        ...(object.lastModified ? { last_modified: object.lastModified.toISOString() } : {}),
        ...(object.etag ? { etag: object.etag.replace(/"/g, "") } : {}),
      },
    };
  }
}

/** The stream's objects, sorted by key, after prefix, glob, window and cap. */
export async function matchObjects(
  client: S3Client,
  ctx: Pick<ExtractContext, "window" | "signal">,
  stream: StreamOptions,
  scope: ErrorScope,
  pageSize: number,
): Promise<MatchedObject[]> {
  const prefix = folderPrefix(stream.prefix);
  const isMatch = picomatch(stream.pattern, { dot: false });
  const start = Date.parse(ctx.window.start);
  const end = Date.parse(ctx.window.end);
  const matched: MatchedObject[] = [];
  try {
    for await (const o of listObjects(client, stream.bucket, prefix, pageSize, ctx.signal)) {
      const key = o.Key!;
      const relative = key.slice(prefix.length);
      // "Folder" placeholders that consoles create are not data.
      if (relative === "" || key.endsWith("/")) continue;
      if (!isMatch(relative)) continue;
      if (stream.incremental && !inWindow(o, start, end)) continue;
      matched.push({
        key,
        relative,
        size: o.Size ?? 0,
        lastModified: o.LastModified,
        etag: o.ETag,
        format: stream.format ?? formatOf(key),
      });
    }
  } catch (e) {
    throw wrapS3Error(e, "ListObjectsV2", stream.bucket, prefix, scope);
  }
  if (stream.max_files !== undefined && matched.length > stream.max_files) {
    throw new Error(
      `${matched.length} objects match s3://${stream.bucket}/${prefix}${stream.pattern}, more than max_files (${stream.max_files}). ` +
        "Narrow `prefix` or `pattern`, use `incremental: true`, or raise `max_files`",
    );
  }
  return matched.sort((a, b) => byKey(a.key, b.key));
}

function inWindow(o: _Object, start: number, end: number): boolean {
  const t = o.LastModified?.getTime();
  return t !== undefined && t >= start && t < end;
}

export function formatOf(key: string): FileFormat {
  const format = EXTENSION_FORMATS[path.posix.extname(key).toLowerCase()];
  if (!format) {
    throw new Error(
      `cannot tell the format of s3 object ${JSON.stringify(key)} from its extension; ` +
        `set the stream's \`format\` (csv, json, ndjson or parquet) or narrow \`pattern\` (e.g. "**/*.csv")`,
    );
  }
  return format;
}

/** GetObject is sent when the runtime starts reading, so at most one download is open at a time. */
async function* objectBody(
  client: S3Client,
  bucket: string,
  key: string,
  scope: ErrorScope,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    const body = response.Body as AsyncIterable<Uint8Array> | undefined;
    if (body) yield* body;
  } catch (e) {
    throw wrapS3Error(e, "GetObject", bucket, key, scope);
  }
}
