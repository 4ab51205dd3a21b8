/**
 * The `s3` source: copies the objects that match a stream's prefix and glob into
 * the landing zone, one file batch per object, in key order. Bodies stream from
 * GetObject straight into the landing store's upload; nothing is buffered whole.
 * A `file://` uri reads a local folder instead (folder.ts), with no S3 client.
 */
import { GetObjectCommand, type S3Client, type _Object } from "@aws-sdk/client-s3";
import picomatch from "picomatch";
import type { ExtractBatch, ExtractContext, FileFormat, SourceDefinition } from "@xo-foundry/core";
import { byKey, createS3Client, listObjects } from "./client.js";
import { wrapS3Error, type ErrorScope } from "./errors.js";
import { extractFolder } from "./folder.js";
import { formatOf, S3_SOURCE, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { folderPrefix, sourceLocation } from "./uri.js";

export { formatOf } from "./options.js";

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
  const location = sourceLocation(stream, ctx.projectDir);
  if (location.scheme === "file") {
    yield* extractFolder(ctx, stream, location.dir);
    return;
  }
  const { bucket, prefix } = location;
  const client = tuning.client ?? createS3Client(ctx.connection);
  const scope: ErrorScope = {
    bucketOption: `the ${stream.uri === undefined ? "bucket" : "uri"} of stream ${ctx.stream.name}`,
    connectionId: ctx.connection?.id ?? ctx.pipeline.sources[ctx.source]?.connection,
  };
  const objects = await matchObjects(client, ctx, { ...stream, bucket, prefix }, scope, tuning.listPageSize ?? 1000);
  ctx.log.info(`matched ${objects.length} object(s) in s3://${bucket}/${folderPrefix(prefix)}`, {
    objects: objects.length,
    bytes: objects.reduce((n, o) => n + o.size, 0),
  });
  for (const object of objects) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    yield {
      type: "file",
      name: object.relative.split("/").join("__"),
      format: object.format,
      body: objectBody(client, bucket, object.key, scope, ctx.signal),
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
  stream: StreamOptions & { readonly bucket: string },
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
