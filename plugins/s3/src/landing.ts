/**
 * The `s3://` landing zone. Objects appear whole or not at all (S3 publishes a
 * PutObject or a completed multipart upload atomically), so, unlike the `file://`
 * store, no temporary names are needed. Uploads stream in parts: memory holds
 * about `partSize * (queueSize + 1)` bytes whatever the size of the file.
 */
import { createHash } from "node:crypto";
import { createWriteStream, rmSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Connection, LandingDefinition, LandingObject, LandingStore } from "@xo-foundry/core";
import { byKey, createS3Client, listObjects } from "./client.js";
import { isConditionFailed, isNotFound, wrapS3Error, type ErrorScope } from "./errors.js";
import { S3_LANDING } from "./options.js";
import { folderPrefix, formatS3Uri, parseS3Uri } from "./uri.js";

/** S3's smallest part size (except the last part). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** The largest object CopyObject copies in one request. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
/** Parts in flight at once; with the part being filled, memory stays near 3 parts. */
export const DEFAULT_QUEUE_SIZE = 2;
/** S3's own maximum for ListObjectsV2 and DeleteObjects. */
const MAX_KEYS = 1000;

export interface S3LandingOptions {
  /** Multipart part size in bytes, at least 5 MiB. */
  readonly partSize?: number;
  readonly queueSize?: number;
  /** Keys per ListObjectsV2 page; tests lower it to exercise pagination. */
  readonly listPageSize?: number;
  /** Keys per DeleteObjects request, at most 1000 (tests lower it). */
  readonly deleteBatchSize?: number;
  /** A ready client (tests add middleware to observe requests); default: one built from the connection. */
  readonly client?: S3Client;
}

export const s3LandingDefinition: LandingDefinition = { ...S3_LANDING, open: (uri, connection) => s3Landing(uri, connection) };

export function s3Landing(rootUri: string, connection: Connection | undefined, options: S3LandingOptions = {}): LandingStore {
  parseS3Uri(rootUri); // fail at open time on a malformed root, not at the first write
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) {
    throw new RangeError(`partSize must be an integer of at least ${MIN_PART_SIZE} bytes (5 MiB), got ${partSize}`);
  }
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
  const pageSize = Math.min(options.listPageSize ?? MAX_KEYS, MAX_KEYS);
  const deleteBatch = Math.min(options.deleteBatchSize ?? MAX_KEYS, MAX_KEYS);
  const client = options.client ?? createS3Client(connection);
  const scope: ErrorScope = { bucketOption: "landing.uri", connectionId: connection?.id };

  /** Runs one S3 call and rephrases its failure. */
  const call = async <T>(operation: string, bucket: string, key: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw wrapS3Error(e, operation, bucket, key, scope);
    }
  };

  const listKeys = async (bucket: string, prefix: string): Promise<{ key: string; bytes: number }[]> =>
    call("ListObjectsV2", bucket, prefix, async () => {
      const out: { key: string; bytes: number }[] = [];
      for await (const o of listObjects(client, bucket, prefix, pageSize)) out.push({ key: o.Key!, bytes: o.Size ?? 0 });
      return out.sort((a, b) => byKey(a.key, b.key));
    });

  const store: LandingStore = {
    async write(uri, body) {
      const { bucket, key } = parseS3Uri(uri);
      const hash = createHash("sha256");
      let bytes = 0;
      // Hashing as the SDK pulls the stream: one pass, and backpressure reaches the source.
      const metered = Readable.from(
        (async function* () {
          for await (const chunk of body) {
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        })(),
        { objectMode: false, highWaterMark: 64 * 1024 },
      );
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: metered },
        partSize,
        queueSize,
        leavePartsOnError: false,
      });
      try {
        await call("Upload", bucket, key, () => upload.done());
      } finally {
        // On failure the SDK stops reading; closing the stream also closes the source (e.g. a GetObject body).
        metered.destroy();
      }
      return { bytes, sha256: hash.digest("hex") };
    },

    read(uri) {
      const { bucket, key } = parseS3Uri(uri);
      return (async function* () {
        const response = await call("GetObject", bucket, key, () => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
        const stream = response.Body as AsyncIterable<Uint8Array> | undefined;
        if (!stream) return;
        try {
          for await (const chunk of stream) yield chunk;
        } catch (e) {
          throw wrapS3Error(e, "GetObject", bucket, key, scope);
        }
      })();
    },

    async readText(uri) {
      const { bucket, key } = parseS3Uri(uri);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await response.Body?.transformToString("utf-8")) ?? "";
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw wrapS3Error(e, "GetObject", bucket, key, scope);
      }
    },

    async writeText(uri, text) {
      const { bucket, key } = parseS3Uri(uri);
      const body = Buffer.from(text, "utf8");
      await call("PutObject", bucket, key, () =>
        client.send(
          // An explicit length: the SDK cannot tell it for an empty body (the `_SUCCESS` marker) and warns.
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType(key) }),
        ),
      );
    },

    async createText(uri, text) {
      const { bucket, key } = parseS3Uri(uri);
      const body = Buffer.from(text, "utf8");
      try {
        // S3's conditional write: exactly one of several concurrent creators gets a 200.
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType(key), IfNoneMatch: "*" }),
        );
        return true;
      } catch (e) {
        if (isConditionFailed(e)) return false;
        throw wrapS3Error(e, "PutObject", bucket, key, scope);
      }
    },

    async copy(fromUri, toUri) {
      const from = parseS3Uri(fromUri);
      const to = parseS3Uri(toUri);
      // CopyObject copies server-side up to 5 GiB; bigger objects take the streaming path.
      const head = await call("HeadObject", from.bucket, from.key, () => client.send(new HeadObjectCommand({ Bucket: from.bucket, Key: from.key })));
      if ((head.ContentLength ?? 0) > MAX_COPY_BYTES) {
        await store.write(toUri, store.read(fromUri));
        return;
      }
      await call("CopyObject", to.bucket, to.key, () =>
        client.send(
          new CopyObjectCommand({
            Bucket: to.bucket,
            Key: to.key,
            CopySource: `${from.bucket}/${from.key.split("/").map(encodeURIComponent).join("/")}`,
          }),
        ),
      );
    },

    async list(prefixUri) {
      const { bucket, key } = parseS3Uri(prefixUri);
      const objects = await listKeys(bucket, folderPrefix(key));
      return objects.map((o): LandingObject => ({ uri: formatS3Uri(bucket, o.key), bytes: o.bytes }));
    },

    async deletePrefix(prefixUri) {
      const { bucket, key } = parseS3Uri(prefixUri);
      const keys = (await listKeys(bucket, folderPrefix(key))).map((o) => o.key);
      // The "prefix" may name one object (the runtime removes `_SUCCESS` this way); deleting a missing key is not an error.
      const trimmed = key.replace(/\/+$/, "");
      if (trimmed) keys.unshift(trimmed);
      for (let i = 0; i < keys.length; i += deleteBatch) {
        const batch = keys.slice(i, i + deleteBatch);
        const result = await call("DeleteObjects", bucket, key, () =>
          client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
          ),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0]!;
          throw wrapS3Error(
            Object.assign(new Error(`${failed.length} object(s) not deleted, first ${first.Key}: ${first.Message ?? ""}`), {
              name: first.Code ?? "DeleteFailed",
            }),
            "DeleteObjects",
            bucket,
            first.Key ?? key,
            scope,
          );
        }
      }
    },

    async localPath(uri) {
      const { bucket, key } = parseS3Uri(uri);
      // The ETag tells a re-published object from the one downloaded earlier in this process.
      const head = await call("HeadObject", bucket, key, () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      return download(`${uri}#${head.ETag ?? ""}`, key, () => store.read(uri));
    },
  };
  return store;
}

/** One download per object version per process: a load that asks twice for the same file gets the same path. */
const downloads = new Map<string, Promise<string>>();
let downloadRoot: string | undefined;

function downloadFolder(): string {
  if (!downloadRoot) {
    const root = path.join(os.tmpdir(), `xo-foundry-s3-${process.pid}`);
    // Downloads live as long as the task process that needed them.
    process.once("exit", () => rmSync(root, { recursive: true, force: true }));
    downloadRoot = root;
  }
  return downloadRoot;
}

async function download(id: string, key: string, open: () => AsyncIterable<Uint8Array>): Promise<string> {
  const cached = downloads.get(id);
  if (cached) {
    const file = await cached.catch(() => undefined);
    if (file && (await stat(file).catch(() => undefined))) return file;
  }
  const pending = (async () => {
    // A hash folder keeps the original file name (loaders infer formats from it) without collisions.
    const dir = path.join(downloadFolder(), createHash("sha256").update(id).digest("hex").slice(0, 24));
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, path.posix.basename(key) || "object");
    try {
      await pipeline(Readable.from(open()), createWriteStream(file));
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    }
    return file;
  })();
  downloads.set(id, pending);
  pending.catch(() => downloads.delete(id));
  return pending;
}

function contentType(key: string): string {
  if (key.endsWith(".json")) return "application/json";
  return "text/plain; charset=utf-8";
}
