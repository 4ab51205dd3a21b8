/**
 * The s3:// landing store against a real S3 API. Real: the AWS SDK (client-s3 and
 * lib-storage's multipart Upload), HTTP on loopback, moto's implementation of the
 * S3 REST API. Emulated: S3 itself (moto_server stands in for AWS; it accepts any
 * credentials, so the credential hints are checked on synthetic SDK errors).
 */
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HeadObjectCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearSecrets, redact, registerSecret, resolveConnection } from "@xo-foundry/core";
import { s3 } from "./index.js";
import { MIN_PART_SIZE, s3Landing } from "./landing.js";
import { S3OperationError, wrapS3Error } from "./errors.js";
import { clientSettings, createS3Client } from "./client.js";
import { startMoto, type Moto } from "./__fixtures__/moto.js";
import { generatedBody, once, recordCommands, sha256Of } from "./__fixtures__/helpers.js";

const SECRET = "moto-secret-key-do-not-print-42";
let moto: Moto;
/** Download folders to remove (vitest may end workers before the store's exit hook runs). */
const downloaded: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  await moto.createBucket("landing");
});
afterAll(async () => {
  await Promise.all(downloaded.map((dir) => rm(dir, { recursive: true, force: true })));
  await moto?.stop();
  clearSecrets();
});

describe("s3 landing store", () => {
  it("streams a body larger than one part as a multipart upload with the right sha256 and size", async () => {
    const connection = moto.connection("aws_landing", SECRET);
    const client = createS3Client(connection);
    const total = 16 * 1024 * 1024 + 123;
    const source = generatedBody(total);
    let pulledAtFirstPart: number | undefined;
    const sent = recordCommands(client, (name) => {
      if (name === "UploadPartCommand") pulledAtFirstPart ??= source.pulled();
    });
    const store = s3Landing("s3://landing/xo", connection, { client, partSize: MIN_PART_SIZE, queueSize: 1 });

    const uri = "s3://landing/xo/big/part-00000.bin";
    const written = await store.write(uri, source.body());

    expect(written).toEqual({ bytes: total, sha256: source.sha256 });
    expect(sent.filter((c) => c === "UploadPartCommand")).toHaveLength(4);
    expect(sent).toContain("CompleteMultipartUploadCommand");
    // The first part left before the generator was drained: memory holds parts, not the file.
    expect(pulledAtFirstPart).toBeDefined();
    expect(pulledAtFirstPart!).toBeLessThan(2 * MIN_PART_SIZE + 1024 * 1024);
    const head = await client.send(new HeadObjectCommand({ Bucket: "landing", Key: "xo/big/part-00000.bin" }));
    expect(head.ETag).toMatch(/-4"?$/);
    expect(head.ContentLength).toBe(total);
    expect(await sha256Of(store.read(uri))).toEqual({ sha256: source.sha256, bytes: total });
  });

  it("aborts the multipart upload when the body fails, leaving no object and no parts", async () => {
    const connection = moto.connection();
    const client = createS3Client(connection);
    const sent = recordCommands(client);
    const store = s3Landing("s3://landing/xo", connection, { client, partSize: MIN_PART_SIZE });
    const source = generatedBody(12 * 1024 * 1024);
    const failing = (async function* () {
      for await (const chunk of source.body()) {
        yield chunk;
        if (source.pulled() > 7 * 1024 * 1024) throw new Error("source connection reset");
      }
    })();
    await expect(store.write("s3://landing/xo/broken/part.bin", failing)).rejects.toThrow(/source connection reset/);
    expect(sent).toContain("AbortMultipartUploadCommand");
    expect(await store.readText("s3://landing/xo/broken/part.bin")).toBeUndefined();
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: "landing", Prefix: "xo/broken/" }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it("writes small and empty bodies in one request", async () => {
    const store = s3Landing("s3://landing/xo", moto.connection());
    const text = "id,name\n1,a\n";
    expect(await store.write("s3://landing/xo/small/a.csv", once(text))).toEqual({
      bytes: text.length,
      sha256: createHash("sha256").update(text).digest("hex"),
    });
    expect(await store.readText("s3://landing/xo/small/a.csv")).toBe(text);
    const empty = await store.write("s3://landing/xo/small/empty.csv", (async function* () {})());
    expect(empty).toEqual({ bytes: 0, sha256: createHash("sha256").digest("hex") });
    expect(await store.readText("s3://landing/xo/small/empty.csv")).toBe("");
  });

  it("lists across several pages, sorted, without sibling prefixes", async () => {
    const connection = moto.connection();
    const client = createS3Client(connection);
    const sent = recordCommands(client);
    const store = s3Landing("s3://landing/xo", connection, { client, listPageSize: 4 });
    const names = Array.from({ length: 11 }, (_, i) => `f-${String(10 - i).padStart(2, "0")}.json`);
    await Promise.all(names.map((n) => store.writeText(`s3://landing/xo/list/date=1/${n}`, `{"n":"${n}"}`)));
    await store.writeText("s3://landing/xo/list/date=10/other.json", "{}");
    sent.length = 0;

    const listed = await store.list("s3://landing/xo/list/date=1");

    expect(listed.map((o) => o.uri)).toEqual([...names].sort().map((n) => `s3://landing/xo/list/date=1/${n}`));
    expect(listed.every((o) => o.bytes > 0)).toBe(true);
    expect(sent.filter((c) => c === "ListObjectsV2Command")).toHaveLength(3);
    expect(await store.list("s3://landing/xo/list/nothing-here")).toEqual([]);
  });

  it("deletes a prefix across pages and batches, and a single key, leaving siblings", async () => {
    const connection = moto.connection();
    const client = createS3Client(connection);
    const sent = recordCommands(client);
    const store = s3Landing("s3://landing/xo", connection, { client, listPageSize: 3, deleteBatchSize: 4 });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.writeText(`s3://landing/xo/del/p=1/sub/${i}.json`, "{}")),
    );
    await store.writeText("s3://landing/xo/del/p=1/_SUCCESS", "");
    await store.writeText("s3://landing/xo/del/p=10/keep.json", "{}");
    await store.writeText("s3://landing/xo/del/p=1_SUCCESS_sibling", "");

    await store.deletePrefix("s3://landing/xo/del/p=1/_SUCCESS");
    expect(await store.readText("s3://landing/xo/del/p=1/_SUCCESS")).toBeUndefined();
    expect(await store.list("s3://landing/xo/del/p=1")).toHaveLength(8);

    sent.length = 0;
    await store.deletePrefix("s3://landing/xo/del/p=1");
    expect(await store.list("s3://landing/xo/del/p=1")).toEqual([]);
    // 8 keys under the folder plus the key `p=1` itself, 4 per request.
    expect(sent.filter((c) => c === "DeleteObjectsCommand")).toHaveLength(3);
    expect((await store.list("s3://landing/xo/del")).map((o) => o.uri)).toEqual([
      "s3://landing/xo/del/p=10/keep.json",
      "s3://landing/xo/del/p=1_SUCCESS_sibling",
    ].sort());
    // Deleting what is not there is not an error (a first run has no partition to replace).
    await store.deletePrefix("s3://landing/xo/del/never");
  });

  it("creates an object only when none exists (If-None-Match: *), so exactly one of many creators wins", async () => {
    const store = s3Landing("s3://landing/xo", moto.connection());
    const uri = "s3://landing/xo/locks/p/lock-000000000001.json";
    const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => store.createText!(uri, JSON.stringify({ holder: i }))));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = wins.indexOf(true);
    expect(JSON.parse((await store.readText(uri))!)).toEqual({ holder: winner });
    expect(await store.createText!(uri, "{}")).toBe(false);
  });

  it("returns undefined from readText for a missing key", async () => {
    const store = s3Landing("s3://landing/xo", moto.connection());
    expect(await store.readText("s3://landing/xo/missing/_SUCCESS")).toBeUndefined();
  });

  it("downloads to a local path once per object version", async () => {
    const store = s3Landing("s3://landing/xo", moto.connection());
    await store.writeText("s3://landing/xo/local/data.ndjson", '{"a":1}\n');
    const first = await store.localPath("s3://landing/xo/local/data.ndjson");
    downloaded.push(path.dirname(path.dirname(first)));
    expect(first.startsWith(os.tmpdir())).toBe(true);
    expect(first.endsWith("data.ndjson")).toBe(true);
    expect(await readFile(first, "utf8")).toBe('{"a":1}\n');
    expect(await store.localPath("s3://landing/xo/local/data.ndjson")).toBe(first);
    // A re-published object is downloaded again, not served stale.
    await store.writeText("s3://landing/xo/local/data.ndjson", '{"a":2}\n');
    const second = await store.localPath("s3://landing/xo/local/data.ndjson");
    expect(await readFile(second, "utf8")).toBe('{"a":2}\n');
  });

  it("names the bucket, the operation and the fix for a missing bucket, without the secret", async () => {
    const connection = moto.connection("aws_landing", SECRET);
    const store = s3Landing("s3://no-such-bucket/xo", connection);
    const errors = await Promise.all([
      store.write("s3://no-such-bucket/xo/a.csv", once("a\n")).catch((e: unknown) => e),
      store.readText("s3://no-such-bucket/xo/_SUCCESS").catch((e: unknown) => e),
      store.list("s3://no-such-bucket/xo").catch((e: unknown) => e),
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(S3OperationError);
      const message = (error as Error).message;
      expect(message).toMatch(/s3:\/\/no-such-bucket\/xo/);
      expect(message).toMatch(/NoSuchBucket.*Create the bucket or fix landing\.uri/);
      expect(message).not.toContain(SECRET);
    }
    expect((errors[1] as S3OperationError).operation).toBe("GetObject");
  });

  it("opens through the plugin with a connection from XO_CONN_<ID>", async () => {
    const json = JSON.stringify({ conn_type: "aws", login: "AKIAENV", password: SECRET, extra: { endpoint_url: moto.endpoint } });
    const connection = resolveConnection("aws_landing", { XO_CONN_AWS_LANDING: json });
    const store = s3().landings![0]!.open("s3://landing/env", connection);
    await store.writeText("s3://landing/env/_manifest.json", "{}");
    expect(await store.readText("s3://landing/env/_manifest.json")).toBe("{}");
    // The secret is registered, so anything printed through the redactor masks it.
    expect(redact(`key ${SECRET}`)).toBe("key ***");
  });

  it("rejects a part size below S3's minimum", () => {
    expect(() => s3Landing("s3://landing/xo", moto.connection(), { partSize: 1024 })).toThrow(/at least 5242880/);
  });
});

describe("connection settings", () => {
  it("reads Airflow's aws connection shape", () => {
    const s = clientSettings({
      id: "aws_landing",
      login: "AKIAEXAMPLE",
      password: "secret-value-1",
      extra: { region_name: "eu-west-1", endpoint_url: "http://127.0.0.1:9000", aws_session_token: "session-token-1" },
    });
    expect(s).toEqual({
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:9000",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret-value-1", sessionToken: "session-token-1" },
    });
    expect(clientSettings({ id: "a", extra: { endpoint_url: "http://x", addressing_style: "virtual" } }).forcePathStyle).toBe(false);
    expect(clientSettings({ id: "a", extra: { force_path_style: true } }).forcePathStyle).toBe(true);
    expect(clientSettings(undefined)).toEqual({ region: "us-east-1", endpoint: undefined, forcePathStyle: false, credentials: undefined });
  });

  it("hints at the connection for credential errors and masks secrets the SDK echoes", () => {
    registerSecret("super-secret-key-xyz");
    const sdkError = Object.assign(new Error("The request signature we calculated does not match (key super-secret-key-xyz)"), {
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
    const error = wrapS3Error(sdkError, "PutObject", "landing", "xo/a.csv", { bucketOption: "landing.uri", connectionId: "aws_landing" });
    expect(error.message).toContain("S3 PutObject on s3://landing/xo/a.csv failed: SignatureDoesNotMatch");
    expect(error.message).toContain("Check connection aws_landing (XO_CONN_AWS_LANDING)");
    expect(error.message).not.toContain("super-secret-key-xyz");
    const noConnection = wrapS3Error(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }), "GetObject", "b", "k", {
      bucketOption: "landing.uri",
      connectionId: undefined,
    });
    expect(noConnection.message).toMatch(/default credential chain/);
  });
});

describe("copy", () => {
  it("copies an object server-side, keys with spaces and all, leaving the source", async () => {
    const store = s3Landing("s3://landing/xo", moto.connection());
    await store.writeText("s3://landing/xo/ingest/run=a b/part 1.csv", "id\n1\n");
    await store.copy!("s3://landing/xo/ingest/run=a b/part 1.csv", "s3://landing/xo/stage/part 1.csv");
    expect(await store.readText("s3://landing/xo/stage/part 1.csv")).toBe("id\n1\n");
    expect(await store.readText("s3://landing/xo/ingest/run=a b/part 1.csv")).toBe("id\n1\n");
  });
});
