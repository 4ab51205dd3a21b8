/**
 * Delivering one landed file as one S3 object for `s3.upload`. S3 publishes a PutObject or a
 * completed multipart upload whole, so no temporary name is needed: an upload that fails or
 * is killed leaves parts (aborted here, or later by the bucket's lifecycle rule) and never a
 * partial object under the final key.
 *
 * Every object carries the landed file's sha256 and its writer (`<pipeline>/<task id>`) as
 * user metadata. That is how a re-run tells what it delivered before (same writer: kept when
 * the sha256 matches, replaced when it does not) from what someone else put there (left to
 * the overwrite policy). Where the policy forbids replacing, the write is conditional
 * (If-None-Match: * when nothing was there, If-Match on the ETag seen when replacing our own
 * object), so an object another writer puts there between our check and our write is never
 * replaced: S3 answers 412 and the decision is taken again.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Logger } from "@xo-foundry/core";
import { isConditionFailed, isNotFound, S3Error, wrapS3Error, type ErrorScope } from "./errors.js";
import { formatS3Uri } from "./uri.js";

/** User metadata keys (S3 sends them as `x-amz-meta-*` and returns them lowercased). */
export const SHA256_METADATA = "xo-foundry-sha256";
export const TASK_METADATA = "xo-foundry-task";

export type Overwrite = "fail" | "skip" | "replace";

export interface ObjectDelivery {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** Opens the landed file's bytes; called again when a lost conditional write is retried. */
  readonly open: () => AsyncIterable<Uint8Array>;
  readonly bytes: number;
  readonly sha256: string;
  /** `<pipeline>/<task id>`: who the metadata says wrote the object. */
  readonly writer: string;
  readonly overwrite: Overwrite;
  readonly contentType: string;
  readonly partSize: number;
  readonly queueSize: number;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly scope: ErrorScope;
}

/** How long an aborted upload may go on cleaning up (aborting its multipart upload) before the step gives up on it. */
const ABORT_GRACE_MS = 5_000;

/** Delivers one object, or finds it delivered or kept by the policy. */
export async function deliverObject(d: ObjectDelivery): Promise<"sent" | "skipped"> {
  const uri = formatS3Uri(d.bucket, d.key);
  // One retry after a lost conditional write: the object changed under us once, so look again.
  for (let attempt = 1; ; attempt++) {
    const plan = decide(await headObject(d), d, uri);
    if (plan.kind === "skip") {
      d.log.info(`kept ${uri}: ${plan.why}`);
      return "skipped";
    }
    if (plan.why) d.log.info(`replacing ${uri}: ${plan.why}`);
    const written = await upload(d, plan.condition);
    if (written === "condition failed") {
      if (attempt < 2) {
        d.log.info(`${uri} changed while it was being uploaded; checking it again`);
        continue;
      }
      throw new S3Error(
        "XO_S3_TARGET_EXISTS",
        `${uri} was written by someone else twice while this step uploaded it, so it was left as it is`,
        "find out who else writes under this prefix; give this step a prefix of its own (`uri`) or set `overwrite: replace`",
      );
    }
    await verify(d, uri);
    return "sent";
  }
}

type Condition = { readonly IfNoneMatch: "*" } | { readonly IfMatch: string } | Record<string, never>;

type Plan = { readonly kind: "skip"; readonly why: string } | { readonly kind: "put"; readonly condition: Condition; readonly why?: string };

function decide(head: HeadObjectCommandOutput | undefined, d: ObjectDelivery, uri: string): Plan {
  const guarded = d.overwrite !== "replace";
  if (!head) return { kind: "put", condition: guarded ? { IfNoneMatch: "*" } : {} };
  const writer = head.Metadata?.[TASK_METADATA];
  if (writer === d.writer) {
    if (head.Metadata?.[SHA256_METADATA] === d.sha256 && head.ContentLength === d.bytes) {
      return { kind: "skip", why: "this task delivered it before with the same content (sha256)" };
    }
    return { kind: "put", condition: guarded && head.ETag ? { IfMatch: head.ETag } : {}, why: "this task's earlier delivery, with other content" };
  }
  const by = writer ? ` (written by ${writer})` : "";
  switch (d.overwrite) {
    case "skip":
      return { kind: "skip", why: `it is already there${by} and overwrite is skip` };
    case "replace":
      return { kind: "put", condition: {}, why: `it was already there${by} and overwrite is replace` };
    case "fail":
      throw new S3Error(
        "XO_S3_TARGET_EXISTS",
        `${uri} is already there${by} and this task (${d.writer}) did not write it; overwrite is fail`,
        "set `overwrite: skip` to keep it or `overwrite: replace` to replace it, or deliver elsewhere (`uri`, `name`)",
      );
  }
}

async function headObject(d: ObjectDelivery): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await d.client.send(new HeadObjectCommand({ Bucket: d.bucket, Key: d.key }), { abortSignal: d.signal });
  } catch (e) {
    if (d.signal.aborted) throw d.signal.reason;
    if (isNotFound(e)) return undefined;
    throw wrapS3Error(e, "HeadObject", d.bucket, d.key, d.scope);
  }
}

async function upload(d: ObjectDelivery, condition: Condition): Promise<"written" | "condition failed"> {
  // lib-storage reads the body until it ends before it completes the upload, so a check that
  // throws at the end of the body keeps a wrong file from ever becoming the object.
  const body = Readable.from(checked(d), { objectMode: false, highWaterMark: 64 * 1024 });
  const upload = new Upload({
    client: d.client,
    params: {
      Bucket: d.bucket,
      Key: d.key,
      Body: body,
      ContentType: d.contentType,
      Metadata: { [SHA256_METADATA]: d.sha256, [TASK_METADATA]: d.writer },
      ...condition,
    },
    partSize: d.partSize,
    queueSize: d.queueSize,
    leavePartsOnError: false,
  });
  try {
    await withinGrace(upload.done(), d.signal, ABORT_GRACE_MS);
    return "written";
  } catch (e) {
    if (d.signal.aborted) throw d.signal.reason;
    if (e instanceof S3Error) throw e;
    if (isConditionFailed(e)) return "condition failed";
    throw wrapS3Error(e, "Upload", d.bucket, d.key, d.scope);
  } finally {
    // On failure the SDK stops reading; closing the stream also closes the landed file's reader.
    body.destroy();
  }
}

/** The landed bytes as they stream, failing when the task is aborted or when they are not the landed file. */
async function* checked(d: ObjectDelivery): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of abortable(d.open(), d.signal)) {
    hash.update(chunk);
    bytes += chunk.length;
    yield chunk;
  }
  const uri = formatS3Uri(d.bucket, d.key);
  if (bytes !== d.bytes) {
    throw new S3Error(
      "XO_S3_SIZE_MISMATCH",
      `the landed file for ${uri} has ${bytes} bytes, but its manifest says ${d.bytes}; nothing was written`,
      "the landed file changed after it was published: re-run the upstream task, then this step",
    );
  }
  const sha256 = hash.digest("hex");
  if (sha256 !== d.sha256) {
    throw new S3Error(
      "XO_S3_CHECKSUM_MISMATCH",
      `the landed file for ${uri} has sha256 ${sha256}, but its manifest says ${d.sha256}; nothing was written`,
      "the landed file changed after it was published: re-run the upstream task, then this step",
    );
  }
}

/** HeadObject after the upload: the object S3 now serves is the one this step sent. */
async function verify(d: ObjectDelivery, uri: string): Promise<void> {
  const head = await headObject(d);
  const hint = "re-run the step; if it repeats, find out who else writes under this prefix (or whether the store keeps user metadata)";
  if (!head) throw new S3Error("XO_S3_SIZE_MISMATCH", `${uri} is not there right after its upload completed`, hint);
  if (head.ContentLength !== d.bytes) {
    throw new S3Error("XO_S3_SIZE_MISMATCH", `${uri} holds ${head.ContentLength ?? "?"} bytes after the upload, but ${d.bytes} were sent`, hint);
  }
  const sha256 = head.Metadata?.[SHA256_METADATA];
  const writer = head.Metadata?.[TASK_METADATA];
  if (sha256 !== d.sha256 || writer !== d.writer) {
    throw new S3Error(
      "XO_S3_CHECKSUM_MISMATCH",
      `${uri} carries ${SHA256_METADATA}=${sha256 ?? "(none)"} and ${TASK_METADATA}=${writer ?? "(none)"} after the upload, but ${d.sha256} from ${d.writer} was sent`,
      hint,
    );
  }
}

/** Iterates `source` until it ends or `signal` aborts (then throws the abort reason without waiting for the next chunk). */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  signal.throwIfAborted();
  const iterator = source[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  let done = false;
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    // A reader cut short is told to close (a pending read may hold it; do not wait for that).
    if (!done) void Promise.resolve(iterator.return?.()).catch(() => {});
  }
}

/** Waits for `work`; once `signal` aborts, lets it clean up for `graceMs`, then gives up with the abort reason. */
async function withinGrace<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    onAbort = () => (timer = setTimeout(() => reject(signal.reason), graceMs));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, abandoned]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    work.catch(() => {});
  }
}
