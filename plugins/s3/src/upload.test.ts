/**
 * The `s3.upload` step against a real S3 API. Real: the AWS SDK (client-s3, lib-storage's
 * multipart Upload), HTTP on loopback, moto's S3 (conditional writes included), the s3://
 * landing store holding the upstream partition, and core's publishStepFiles and
 * upstreamFiles. Emulated: S3 itself (moto_server stands in for AWS). Concurrent writers are
 * made deterministic by a client middleware that writes with a second client at the moment
 * the step's own request is sent.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { clearSecrets, publishStepFiles, type StepResult, type TaskSummary } from "@xo-foundry/core";
import { recordingLogger, stepContext, testdir, type RecordingLogger, type TestDir } from "@xo-foundry/testkit";
import { createS3Client } from "./client.js";
import { MIN_PART_SIZE, s3Landing } from "./landing.js";
import { uploadOptions } from "./options.js";
import { createS3Upload, s3Upload } from "./upload.js";
import { startMoto, type Moto } from "./__fixtures__/moto.js";
import { collect, generatedBody, recordCommands } from "./__fixtures__/helpers.js";

let moto: Moto;
let dir: TestDir;
let partner: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  await moto.createBucket("landing");
  await moto.createBucket("partner-drop");
  dir = await testdir();
  partner = moto.client();
});
afterAll(async () => {
  partner?.destroy();
  await moto?.stop();
  await dir?.remove();
  clearSecrets();
});

interface Env {
  readonly landing: { readonly root: string; readonly store: ReturnType<typeof s3Landing> };
  readonly upstream: Record<string, TaskSummary>;
}

let landings = 0;

/** A fresh S3 landing zone. */
function landingZone(): Env["landing"] {
  const root = `s3://landing/run-${++landings}`;
  return { root, store: s3Landing(root, moto.connection()) };
}

let published = 0;

/** Publishes `files` as the partition of export task `task` (core's publishStepFiles) and returns its summary. */
async function publish(landing: Env["landing"], files: Record<string, string | Buffer>, task = "export_orders"): Promise<Env> {
  const folder = dir.path(`published-${++published}`);
  await mkdir(folder, { recursive: true });
  const local = [];
  for (const [name, body] of Object.entries(files)) {
    await writeFile(path.join(folder, name), body);
    local.push({ path: path.join(folder, name), format: "csv" as const });
  }
  const manifest = await publishStepFiles(stepContext({ options: {}, taskId: task, landing }), local);
  const summary: TaskSummary = { task, step: "sql.export", state: "success", summary: { partition: manifest.partition }, reads: [], writes: [] };
  return { landing, upstream: { [task]: summary } };
}

interface RunInput {
  readonly signal?: AbortSignal;
  readonly client?: S3Client;
  readonly log?: RecordingLogger;
}

function run(options: Record<string, unknown>, env: Env, input: RunInput = {}): Promise<StepResult> {
  const step = createS3Upload({ client: input.client ?? moto.client(), partSize: MIN_PART_SIZE, queueSize: 1 });
  const ctx = stepContext({
    options: uploadOptions.parse(options),
    connection: moto.connection("aws_partner"),
    landing: env.landing,
    upstream: env.upstream,
    taskId: "to_bucket",
    ...(input.signal ? { signal: input.signal } : {}),
  });
  return step.run(input.log ? { ...ctx, log: input.log } : ctx);
}

const sha256 = (body: string | Buffer) => createHash("sha256").update(body).digest("hex");

async function keys(prefix: string): Promise<string[]> {
  const page = await partner.send(new ListObjectsV2Command({ Bucket: "partner-drop", Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

async function text(key: string): Promise<string> {
  const object = await partner.send(new GetObjectCommand({ Bucket: "partner-drop", Key: key }));
  return (await object.Body!.transformToString("utf-8"));
}

const head = (key: string) => partner.send(new HeadObjectCommand({ Bucket: "partner-drop", Key: key }));

/** A foreign object, as a partner (or another tool) would put it: no xo-foundry metadata, or another writer's. */
const putForeign = (key: string, body: string, metadata?: Record<string, string>) =>
  partner.send(new PutObjectCommand({ Bucket: "partner-drop", Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));

/** A client that runs `act` (once) when the step sends `command`: before the request, or after its answer. */
function clientThat(command: string, when: "before" | "after", act: () => Promise<unknown>): S3Client {
  const client = moto.client();
  let done = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const mine = !done && context.commandName === command;
      if (mine && when === "before") {
        done = true;
        await act();
      }
      const result = await next(args);
      if (mine && when === "after") {
        done = true;
        await act();
      }
      return result;
    },
    { step: "initialize", name: "xoConcurrentWriter" },
  );
  return client;
}

describe("s3.upload", () => {
  it("delivers the upstream partition under the prefix, with the date in uri and name, checksum and writer in metadata", async () => {
    const env = await publish(landingZone(), { "part-00000.csv": "id\n1\n", "part-00001.csv": "id\n2\n" });
    const result = await run({ uri: "s3://partner-drop/daily/{ds}/", name: "orders_{ds_nodash}_{name}" }, env);

    expect(await keys("daily/")).toEqual(["daily/2026-01-15/orders_20260115_part-00000.csv", "daily/2026-01-15/orders_20260115_part-00001.csv"]);
    expect(await text("daily/2026-01-15/orders_20260115_part-00001.csv")).toBe("id\n2\n");
    const meta = await head("daily/2026-01-15/orders_20260115_part-00000.csv");
    expect(meta.Metadata).toEqual({ "xo-foundry-sha256": sha256("id\n1\n"), "xo-foundry-task": "test_pipeline/to_bucket" });
    expect(meta.ContentLength).toBe(5);
    expect(meta.ContentType).toBe("text/csv");
    expect(result.summary).toEqual({ files: 2, sent: 2, skipped: 0, bytes: 10, uri: "s3://partner-drop/daily/2026-01-15" });
    expect(result.reads).toEqual([{ uri: env.upstream.export_orders!.summary.partition }]);
    expect(result.writes).toEqual([{ uri: "s3://partner-drop/daily/2026-01-15" }]);
  });

  it("sends a file bigger than a part as a multipart upload with conditional completion, then checks it with HeadObject", async () => {
    const total = 11 * 1024 * 1024 + 17;
    const source = generatedBody(total);
    const env = await publish(landingZone(), { "big.csv": await collect(source.body()) });
    const client = moto.client();
    const sent = recordCommands(client);
    const conditions: Record<string, string | undefined> = {};
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        conditions[String(context.commandName)] = headers["if-none-match"] ?? headers["If-None-Match"];
        return next(args);
      },
      { step: "finalizeRequest", name: "xoRecordConditions" },
    );
    const result = await run({ uri: "s3://partner-drop/big" }, env, { client });

    expect(result.summary).toMatchObject({ sent: 1, bytes: total });
    expect(sent.filter((c) => c === "UploadPartCommand")).toHaveLength(3);
    expect(sent.slice(-2)).toEqual(["CompleteMultipartUploadCommand", "HeadObjectCommand"]);
    // Nothing was there and the policy is fail: the completion is conditional, the parts are not.
    expect(conditions).toMatchObject({ CompleteMultipartUploadCommand: "*", UploadPartCommand: undefined });
    const meta = await head("big/big.csv");
    expect(meta.ETag).toMatch(/-3"?$/);
    expect(meta.ContentLength).toBe(total);
    expect(meta.Metadata?.["xo-foundry-sha256"]).toBe(source.sha256);
  });

  it("a re-run of the date finds every object delivered with the same checksum and sends nothing, whatever the policy", async () => {
    const env = await publish(landingZone(), { "a.csv": "a\n", "b.csv": "b\n" });
    const options = { uri: "s3://partner-drop/rerun/{ds}" };
    expect((await run(options, env)).summary).toMatchObject({ sent: 2, skipped: 0 });
    const first = await head("rerun/2026-01-15/a.csv");

    const client = moto.client();
    const sent = recordCommands(client);
    const log = recordingLogger();
    // overwrite: fail (the default) does not stop a re-run: the objects are this task's own.
    expect((await run(options, env, { client, log })).summary).toEqual({ files: 2, sent: 0, skipped: 2, bytes: 0, uri: "s3://partner-drop/rerun/2026-01-15" });
    expect(sent).toEqual(["HeadObjectCommand", "HeadObjectCommand"]);
    expect(log.infos).toContain("kept s3://partner-drop/rerun/2026-01-15/a.csv: this task delivered it before with the same content (sha256)");
    expect((await head("rerun/2026-01-15/a.csv")).ETag).toBe(first.ETag);
  });

  it("replaces its own earlier delivery when the date's content changed, though the policy is fail", async () => {
    const landing = landingZone();
    const options = { uri: "s3://partner-drop/changed" };
    expect((await run(options, await publish(landing, { "a.csv": "a\n", "b.csv": "b\n" }))).summary).toMatchObject({ sent: 2 });
    // The export of the date ran again with a corrected row: same names, new content.
    const log = recordingLogger();
    const changed = await publish(landing, { "a.csv": "a, corrected\n", "b.csv": "b\n" });
    expect((await run(options, changed, { log })).summary).toMatchObject({ sent: 1, skipped: 1, bytes: 13 });
    expect(await text("changed/a.csv")).toBe("a, corrected\n");
    expect((await head("changed/a.csv")).Metadata?.["xo-foundry-sha256"]).toBe(sha256("a, corrected\n"));
    expect(log.infos).toContain("replacing s3://partner-drop/changed/a.csv: this task's earlier delivery, with other content");
  });

  it("leaves an object it did not write to the policy: fail names the object and the fix, skip keeps it, replace replaces it", async () => {
    const env = await publish(landingZone(), { "a.csv": "ours\n" });
    await putForeign("foreign/a.csv", "partner's\n");

    const failed = await run({ uri: "s3://partner-drop/foreign" }, env).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: "XO_S3_TARGET_EXISTS" });
    expect((failed as Error).message).toContain("s3://partner-drop/foreign/a.csv is already there");
    expect((failed as Error).message).toMatch(/hint: set `overwrite: skip`.*`overwrite: replace`/);
    expect(await text("foreign/a.csv")).toBe("partner's\n");

    expect((await run({ uri: "s3://partner-drop/foreign", overwrite: "skip" }, env)).summary).toMatchObject({ sent: 0, skipped: 1 });
    expect(await text("foreign/a.csv")).toBe("partner's\n");

    expect((await run({ uri: "s3://partner-drop/foreign", overwrite: "replace" }, env)).summary).toMatchObject({ sent: 1, skipped: 0 });
    expect(await text("foreign/a.csv")).toBe("ours\n");
    // Now it is this task's own: the next run keeps it, under any policy.
    expect((await run({ uri: "s3://partner-drop/foreign" }, env)).summary).toMatchObject({ sent: 0, skipped: 1 });
  });

  it("treats an object another xo-foundry task wrote as foreign, and says who wrote it", async () => {
    const env = await publish(landingZone(), { "a.csv": "ours\n" });
    await putForeign("other-task/a.csv", "ours\n", { "xo-foundry-sha256": sha256("ours\n"), "xo-foundry-task": "other_pipeline/to_bucket" });
    await expect(run({ uri: "s3://partner-drop/other-task" }, env)).rejects.toThrow(/already there \(written by other_pipeline\/to_bucket\)/);
  });

  it("does not overwrite an object that another writer puts there between the check and the write (If-None-Match)", async () => {
    const env = await publish(landingZone(), { "a.csv": "ours\n" });
    const racing = () => clientThat("PutObjectCommand", "before", () => putForeign("race/a.csv", "theirs\n"));

    await expect(run({ uri: "s3://partner-drop/race" }, env, { client: racing() })).rejects.toMatchObject({ code: "XO_S3_TARGET_EXISTS" });
    expect(await text("race/a.csv")).toBe("theirs\n");

    await partner.send(new DeleteObjectCommand({ Bucket: "partner-drop", Key: "race/a.csv" }));
    const log = recordingLogger();
    expect((await run({ uri: "s3://partner-drop/race", overwrite: "skip" }, env, { client: racing(), log })).summary).toMatchObject({ sent: 0, skipped: 1 });
    expect(await text("race/a.csv")).toBe("theirs\n");
    expect(log.infos).toContain("s3://partner-drop/race/a.csv changed while it was being uploaded; checking it again");
  });

  it("does not replace its own object when another writer replaced it meanwhile (If-Match on the ETag it saw)", async () => {
    const landing = landingZone();
    await run({ uri: "s3://partner-drop/race-own" }, await publish(landing, { "a.csv": "v1\n" }));
    const changed = await publish(landing, { "a.csv": "v2\n" });
    const client = clientThat("PutObjectCommand", "before", () => putForeign("race-own/a.csv", "theirs\n"));
    await expect(run({ uri: "s3://partner-drop/race-own" }, changed, { client })).rejects.toMatchObject({ code: "XO_S3_TARGET_EXISTS" });
    expect(await text("race-own/a.csv")).toBe("theirs\n");
  });

  it("checks the landed bytes against the manifest while sending: a changed file is never delivered", async () => {
    const env = await publish(landingZone(), { "a.csv": "0123456789\n", "b.csv": "abc\n" });
    const partition = env.upstream.export_orders!.summary.partition as string;
    const landed = createS3Client(moto.connection());
    // The landed files changed after the manifest was written: one shorter, one with the same size.
    await landed.send(new PutObjectCommand({ Bucket: "landing", Key: `${partition.slice("s3://landing/".length)}/a.csv`, Body: "012\n" }));
    await expect(run({ uri: "s3://partner-drop/size" }, env)).rejects.toMatchObject({ code: "XO_S3_SIZE_MISMATCH" });
    await landed.send(new PutObjectCommand({ Bucket: "landing", Key: `${partition.slice("s3://landing/".length)}/a.csv`, Body: "9876543210\n" }));
    await expect(run({ uri: "s3://partner-drop/size" }, env)).rejects.toMatchObject({ code: "XO_S3_CHECKSUM_MISMATCH" });
    landed.destroy();
    expect(await keys("size/")).toEqual([]);
  });

  it("checks the object with HeadObject after the upload: one replaced right after it was written fails the size check", async () => {
    const env = await publish(landingZone(), { "a.csv": "ours\n" });
    // overwrite: replace writes unconditionally, so nothing stops this writer; the check notices.
    const client = clientThat("PutObjectCommand", "after", () => putForeign("after/a.csv", "somebody else's\n"));
    const failed = await run({ uri: "s3://partner-drop/after", overwrite: "replace" }, env, { client }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: "XO_S3_SIZE_MISMATCH" });
    expect((failed as Error).message).toContain("s3://partner-drop/after/a.csv holds 16 bytes after the upload, but 5 were sent");

    // Same size, but not what this step wrote: the checksum metadata tells.
    const same = clientThat("PutObjectCommand", "after", () => putForeign("after/a.csv", "xxxx\n"));
    await expect(run({ uri: "s3://partner-drop/after", overwrite: "replace" }, env, { client: same })).rejects.toMatchObject({ code: "XO_S3_CHECKSUM_MISMATCH" });
  });

  it("delivers a landing folder with `from:`, hashing each file for the metadata, and a re-run keeps them", async () => {
    const landing = landingZone();
    await landing.store.writeText(`${landing.root}/exports/orders/x.csv`, "x\n");
    await landing.store.writeText(`${landing.root}/exports/orders/sub/y.csv`, "y\n");
    await landing.store.writeText(`${landing.root}/exports/orders/_SUCCESS`, "");
    const env = { landing, upstream: {} };
    const result = await run({ uri: "s3://partner-drop/from/", from: "exports/orders" }, env);
    expect(result.summary).toEqual({ files: 2, sent: 2, skipped: 0, bytes: 4, uri: "s3://partner-drop/from" });
    expect(result.reads).toEqual([{ uri: `${landing.root}/exports/orders` }]);
    expect(await keys("from/")).toEqual(["from/sub__y.csv", "from/x.csv"]);
    expect((await head("from/sub__y.csv")).Metadata?.["xo-foundry-sha256"]).toBe(sha256("y\n"));
    expect((await run({ uri: "s3://partner-drop/from/", from: "exports/orders" }, env)).summary).toMatchObject({ sent: 0, skipped: 2 });
  });

  it("a kill mid-multipart leaves no object under the final key, and the re-run delivers it exactly once", async () => {
    const total = 16 * 1024 * 1024 + 5;
    const source = generatedBody(total);
    const env = await publish(landingZone(), { "huge.csv": await collect(source.body()) });
    const controller = new AbortController();
    const reason = new Error("task killed");
    const client = moto.client();
    let parts = 0;
    const sent = recordCommands(client, (name) => {
      if (name === "UploadPartCommand" && ++parts === 2) controller.abort(reason);
    });
    const options = { uri: "s3://partner-drop/killed" };

    await expect(run(options, env, { client, signal: controller.signal })).rejects.toBe(reason);
    expect(parts).toBeLessThan(4);
    expect(sent).not.toContain("CompleteMultipartUploadCommand");
    expect(sent).toContain("AbortMultipartUploadCommand");
    expect(await keys("killed/")).toEqual([]);
    const uploads = await partner.send(new ListMultipartUploadsCommand({ Bucket: "partner-drop", Prefix: "killed/" }));
    expect(uploads.Uploads ?? []).toEqual([]);

    expect((await run(options, env)).summary).toMatchObject({ sent: 1, skipped: 0, bytes: total });
    expect((await run(options, env)).summary).toMatchObject({ sent: 0, skipped: 1 });
    expect(await keys("killed/")).toEqual(["killed/huge.csv"]);
    const object = await partner.send(new GetObjectCommand({ Bucket: "partner-drop", Key: "killed/huge.csv" }));
    const body = await collect(object.Body as AsyncIterable<Uint8Array>);
    expect(body.length).toBe(total);
    expect(sha256(body)).toBe(source.sha256);
  });

  it("delivers an empty file (an export with no rows) and keeps it on a re-run", async () => {
    const env = await publish(landingZone(), { "empty.ndjson": "" });
    expect((await run({ uri: "s3://partner-drop/empty" }, env)).summary).toMatchObject({ sent: 1, bytes: 0 });
    const meta = await head("empty/empty.ndjson");
    expect(meta.ContentLength).toBe(0);
    expect(meta.Metadata?.["xo-foundry-sha256"]).toBe(sha256(""));
    expect((await run({ uri: "s3://partner-drop/empty" }, env)).summary).toMatchObject({ sent: 0, skipped: 1 });
  });

  it("refuses a name that would put two files under one key, before sending anything", async () => {
    const env = await publish(landingZone(), { "a.csv": "a\n", "b.csv": "b\n" });
    await expect(run({ uri: "s3://partner-drop/clash", name: "orders_{ds}.csv" }, env)).rejects.toMatchObject({ code: "XO_S3_NAME_CLASH" });
    expect(await keys("clash/")).toEqual([]);
  });

  it("names a missing bucket and the step's uri; says when there is nothing to deliver", async () => {
    const env = await publish(landingZone(), { "a.csv": "a\n" });
    const missing = await run({ uri: "s3://no-such-bucket-upload/x" }, env).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "XO_S3_NO_SUCH_BUCKET" });
    expect((missing as Error).message).toContain("fix the uri of step to_bucket");
    await expect(run({ uri: "s3://partner-drop/none" }, { landing: env.landing, upstream: {} })).rejects.toMatchObject({ code: "XO_NOTHING_TO_DELIVER" });
  });

  it("runs through the plugin's lazy entry with a connection from the step", async () => {
    const env = await publish(landingZone(), { "a.csv": "a\n" });
    const { s3 } = await import("./index.js");
    const step = s3().steps!.find((s) => s.id === "s3.upload")!;
    expect(step).toMatchObject({ connection: "optional", canSkip: false });
    const ctx = stepContext({ options: uploadOptions.parse({ uri: "s3://partner-drop/lazy" }), connection: moto.connection(), landing: env.landing, upstream: env.upstream });
    expect((await step.run(ctx)).summary).toMatchObject({ sent: 1 });
    expect(s3Upload.id).toBe("s3.upload");
  });
});

describe("s3.upload options", () => {
  // The core composes step options into strict objects; test them the same way.
  const strict = z.strictObject(uploadOptions.shape);
  const problems = (value: Record<string, unknown>) => uploadOptions.safeParse(value).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);

  it("fills defaults", () => {
    expect(strict.parse({ uri: "s3://partner-drop/orders/{ds}/" })).toEqual({ uri: "s3://partner-drop/orders/{ds}/", name: "{name}", overwrite: "fail" });
  });

  it("refuses what cannot work, naming the key", () => {
    expect(problems({ uri: "https://partner-drop/x" })).toEqual([expect.stringMatching(/^uri: expected s3:\/\/bucket\/prefix\//)]);
    expect(problems({ uri: "s3://Partner_Drop/x" })).toEqual([expect.stringMatching(/^uri: "Partner_Drop" is not a bucket name/)]);
    expect(problems({ uri: "s3://drop-{ds}/x" })).toEqual([expect.stringMatching(/^uri: .*is not a bucket name/)]);
    expect(problems({ uri: "s3://partner-drop/{date}/" })).toEqual(["uri: placeholders in the prefix are `{ds}` and `{ds_nodash}`"]);
    expect(problems({ uri: "s3://partner-drop/{name}/" })).toEqual(["uri: `{name}` goes in `name`, not in the prefix"]);
    expect(problems({ uri: "s3://partner-drop/a/../b" })).toEqual([expect.stringMatching(/^uri: the prefix has an empty, `.` or `..` segment/)]);
    expect(problems({ uri: "s3://partner-drop/a//b/" })).toHaveLength(1);
    expect(problems({ uri: "s3://partner-drop/x", name: "sub/{name}" })).toEqual([expect.stringMatching(/^name: a name is one key segment/)]);
    expect(problems({ uri: "s3://partner-drop/x", name: "{file}" })).toEqual(["name: placeholders are `{name}`, `{ds}` and `{ds_nodash}`"]);
    expect(problems({ uri: "s3://partner-drop/x", overwrite: "append" })).toHaveLength(1);
    expect(problems({ uri: "s3://partner-drop/x", task: "a", from: "b" })).toEqual(["from: give `task` or `from`, not both"]);
    expect(problems({ uri: "s3://partner-drop/x", from: "../etc" })).toHaveLength(1);
    expect(strict.safeParse({ uri: "s3://partner-drop/x", folder: "/x" }).success).toBe(false);
  });

  it("names its destination by bucket, prefix and name, for validation's check that no two steps deliver to one place", () => {
    const destination = (options: Record<string, unknown>, connection = "partner") => s3Upload.destination?.({ options: uploadOptions.parse(options), connection });
    expect(destination({ uri: "s3://partner-drop/orders/{ds}/", name: "orders_{ds}.csv" })).toBe("s3://partner-drop/orders/{ds}/orders_{ds}.csv");
    expect(destination({ uri: "s3://partner-drop/orders" })).toBe(destination({ uri: "S3://partner-drop/orders/", name: "{name}" }, "other"));
    expect(destination({ uri: "s3://partner-drop" })).toBe("s3://partner-drop/{name}");
    expect(destination({ uri: "s3://partner-drop/orders" })).not.toBe(destination({ uri: "s3://partner-drop/orders-eu" }));
  });
});
