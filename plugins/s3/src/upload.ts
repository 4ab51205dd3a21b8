/**
 * The `s3.upload` step: delivers the files an upstream task published (or a landing folder)
 * to an S3 prefix, one object per file, each uploaded whole with its checksum in metadata
 * (deliver.ts). Keys depend only on the landed names and the logical date, so a re-run of a
 * date meets its own objects again and writes nothing twice; no state is kept, the objects'
 * metadata is the ledger.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { fillDeliveryName, upstreamFiles, type FileFormat, type StepContext, type StepResult, type StepType, type UpstreamFile } from "@xo-foundry/core";
import { createS3Client } from "./client.js";
import { abortable, deliverObject } from "./deliver.js";
import { S3Error, type ErrorScope } from "./errors.js";
import { DEFAULT_PART_SIZE, DEFAULT_QUEUE_SIZE, MIN_PART_SIZE } from "./landing.js";
import { EXTENSION_FORMATS, S3_UPLOAD, type UploadOptions } from "./options.js";
import { folderPrefix, formatS3Uri, parseS3Uri } from "./uri.js";

export interface S3UploadTuning {
  /** A ready client instead of one built from the connection (tests observe requests with it). */
  readonly client?: S3Client;
  /** Multipart part size in bytes, at least 5 MiB (tests lower it to make small multipart uploads). */
  readonly partSize?: number;
  readonly queueSize?: number;
}

export function createS3Upload(tuning: S3UploadTuning = {}): StepType<UploadOptions> {
  const partSize = tuning.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) {
    throw new RangeError(`partSize must be an integer of at least ${MIN_PART_SIZE} bytes (5 MiB), got ${partSize}`);
  }
  return { ...S3_UPLOAD, run: (ctx) => run(ctx, { ...tuning, partSize }) };
}

export const s3Upload = createS3Upload();

async function run(ctx: StepContext<UploadOptions>, tuning: S3UploadTuning & { readonly partSize: number }): Promise<StepResult> {
  ctx.signal.throwIfAborted();
  const options = ctx.options;
  const landed = await upstreamFiles(ctx, { task: options.task, from: options.from });
  const ds = ctx.window.logicalDate;
  const fill = (template: string, name?: string) => fillDeliveryName(template, ds, name);
  const { bucket, key: prefix } = parseS3Uri(fill(options.uri));
  const folder = folderPrefix(prefix);
  const targets = landed.files.map((file) => ({ file, key: `${folder}${fill(options.name, file.name)}` }));
  refuseClashes(targets, options.name);

  const writer = `${ctx.pipeline.pipeline.name}/${ctx.taskId}`;
  const scope: ErrorScope = { bucketOption: `the uri of step ${ctx.taskId}`, connectionId: ctx.connection?.id };
  const client = tuning.client ?? createS3Client(ctx.connection);
  const store = ctx.landing.store;
  let sent = 0;
  let skipped = 0;
  let bytes = 0;
  try {
    for (const { file, key } of targets) {
      ctx.signal.throwIfAborted();
      const open = () => store.read(file.uri);
      const outcome = await deliverObject({
        client,
        bucket,
        key,
        open,
        bytes: file.bytes,
        // A landing folder (`from:`) has no manifest: hash the file first, its checksum decides what a re-run keeps.
        sha256: file.sha256 ?? (await sha256Of(open(), ctx.signal)),
        writer,
        overwrite: options.overwrite,
        contentType: contentTypeOf(file),
        partSize: tuning.partSize,
        queueSize: tuning.queueSize ?? DEFAULT_QUEUE_SIZE,
        signal: ctx.signal,
        log: ctx.log,
        scope,
      });
      if (outcome === "sent") {
        sent++;
        bytes += file.bytes;
        ctx.log.info(`delivered ${formatS3Uri(bucket, key)} (${file.bytes} bytes)`);
      } else {
        skipped++;
      }
    }
  } finally {
    if (!tuning.client) client.destroy();
  }
  const uri = formatS3Uri(bucket, prefix.replace(/\/+$/, ""));
  return {
    summary: { files: landed.files.length, sent, skipped, bytes, uri },
    reads: [{ uri: landed.from }],
    writes: [{ uri }],
  };
}

/** Two files under one key would replace each other silently; say so before anything is sent. */
function refuseClashes(targets: readonly { readonly file: UpstreamFile; readonly key: string }[], template: string): void {
  const seen = new Map<string, string>();
  for (const { file, key } of targets) {
    const first = seen.get(key);
    if (first !== undefined) {
      throw new S3Error(
        "XO_S3_NAME_CLASH",
        `landed files ${first} and ${file.name} would both be delivered as ${key} (name: ${JSON.stringify(template)})`,
        "put `{name}` in `name`, e.g. `orders_{ds_nodash}_{name}`",
      );
    }
    seen.set(key, file.name);
  }
}

const CONTENT_TYPES: Readonly<Record<FileFormat, string>> = {
  csv: "text/csv",
  json: "application/json",
  ndjson: "application/x-ndjson",
  parquet: "application/vnd.apache.parquet",
};

function contentTypeOf(file: UpstreamFile): string {
  const format = file.format ?? EXTENSION_FORMATS[path.posix.extname(file.name).toLowerCase()];
  return (format && CONTENT_TYPES[format]) ?? "application/octet-stream";
}

async function sha256Of(body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of abortable(body, signal)) hash.update(chunk);
  return hash.digest("hex");
}
