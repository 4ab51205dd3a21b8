/**
 * The `s3` source, alone and through the runtime's extract step into an s3://
 * landing zone. Real: the AWS SDK, HTTP on loopback, moto's implementation of the
 * S3 REST API, the runtime's runExtract and partition publishing. Emulated: S3
 * itself (moto_server stands in for AWS; it stamps LastModified with its clock).
 */
import { createHash } from "node:crypto";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clearSecrets,
  silentLogger,
  type Connection,
  type DataWindow,
  type ExtractBatch,
  type Manifest,
  type PipelineConfig,
  type StreamConfig,
} from "@xo-foundry/core";
import { runExtract } from "@xo-foundry/runtime";
import { s3Landing } from "./landing.js";
import { createS3Source } from "./source.js";
import { createS3Client } from "./client.js";
import { startMoto, type Moto } from "./__fixtures__/moto.js";
import { collect, generatedBody, recordCommands, sha256Of } from "./__fixtures__/helpers.js";

const SECRET = "source-secret-never-printed-77";
let moto: Moto;
let connection: Connection;
let client: S3Client;

const OBJECTS: Record<string, string> = {
  "exports/orders/2026-01-14.csv": "id,total\n1,10\n",
  "exports/orders/2026-01-15.csv": "id,total\n2,20\n3,30\n",
  "exports/orders/late/2026-01-15.csv": "id,total\n4,40\n",
  "exports/orders/summary.json": '{"orders":4}',
  "exports/orders/events.ndjson": '{"e":1}\n{"e":2}\n',
  "exports/orders/README.txt": "not data",
  "exports/orders-archive/old.csv": "id,total\n0,0\n",
  "other/elsewhere.csv": "id\n9\n",
};

const nowWindow = (): DataWindow => ({
  logicalDate: new Date().toISOString().slice(0, 10),
  start: new Date(Date.now() - 3_600_000).toISOString(),
  end: new Date(Date.now() + 3_600_000).toISOString(),
  timezone: "UTC",
});
const PAST: DataWindow = { logicalDate: "2020-01-01", start: "2020-01-01T00:00:00+00:00", end: "2020-01-02T00:00:00+00:00", timezone: "UTC" };

beforeAll(async () => {
  moto = await startMoto();
  connection = moto.connection("aws_source", SECRET);
  client = createS3Client(connection);
  await moto.createBucket("source-bucket");
  await moto.createBucket("landing-bucket");
  for (const [key, body] of Object.entries(OBJECTS)) {
    await client.send(new PutObjectCommand({ Bucket: "source-bucket", Key: key, Body: body }));
  }
});
afterAll(async () => {
  client?.destroy();
  await moto?.stop();
  clearSecrets();
});

function context(stream: Record<string, unknown>, window: DataWindow = nowWindow()) {
  const streamConfig = { name: "orders", target: {}, ...stream };
  // Only the fields the source and runExtract read are real.
  const pipeline = {
    pipeline: { name: "shop", dag_id: "shop", timezone: "UTC", load_strategy: "incremental" },
    template: "ingest",
    sources: { main: { plugin: "s3", connection: connection.id, streams: [streamConfig] } },
    landing: { uri: "s3://landing-bucket/xo", connection: "aws_landing" },
  } as unknown as PipelineConfig;
  return {
    pipeline,
    projectDir: process.cwd(),
    stream: streamConfig as StreamConfig,
    strategy: "incremental" as const,
    window,
    runId: "manual__1",
    log: silentLogger,
    signal: new AbortController().signal,
  };
}

async function extractAll(stream: Record<string, unknown>, window?: DataWindow, listPageSize?: number) {
  const source = createS3Source({ ...(listPageSize ? { listPageSize } : {}) });
  const batches: (ExtractBatch & { type: "file" })[] = [];
  const bodies: string[] = [];
  for await (const batch of source.extract({ ...context(stream, window), source: "main", options: {}, streamOptions: stream as never, connection, state: undefined })) {
    if (batch.type !== "file") throw new Error("expected file batches");
    batches.push(batch);
    bodies.push((await collect(batch.body)).toString());
  }
  return { batches, bodies };
}

async function extractError(stream: Record<string, unknown>): Promise<Error> {
  try {
    await extractAll(stream);
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the extract to fail");
}

describe("s3 source", () => {
  it("yields one file per matching object, sorted by key, with origin metadata", async () => {
    const { batches, bodies } = await extractAll({ bucket: "source-bucket", prefix: "exports/orders", pattern: "**/*.csv" });
    expect(batches.map((b) => b.metadata?.key)).toEqual([
      "exports/orders/2026-01-14.csv",
      "exports/orders/2026-01-15.csv",
      "exports/orders/late/2026-01-15.csv",
    ]);
    expect(batches.map((b) => b.name)).toEqual(["2026-01-14.csv", "2026-01-15.csv", "late__2026-01-15.csv"]);
    expect(batches.every((b) => b.format === "csv")).toBe(true);
    expect(bodies[1]).toBe(OBJECTS["exports/orders/2026-01-15.csv"]);
    const meta = batches[1]!.metadata!;
    expect(meta.size).toBe(OBJECTS["exports/orders/2026-01-15.csv"]!.length);
    expect(meta.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(String(meta.last_modified))).toBeGreaterThan(Date.now() - 600_000);
  });

  it("takes the bucket and prefix as one s3:// uri", async () => {
    const byUri = await extractAll({ uri: "s3://source-bucket/exports/orders", pattern: "**/*.csv" });
    const byBucket = await extractAll({ bucket: "source-bucket", prefix: "exports/orders", pattern: "**/*.csv" });
    expect(byUri.batches.map((b) => [b.name, b.metadata?.key])).toEqual(byBucket.batches.map((b) => [b.name, b.metadata?.key]));
    expect(byUri.bodies).toEqual(byBucket.bodies);
    const missing = await extractError({ uri: "s3://no-such-source/x", pattern: "**/*.csv" });
    expect(missing.message).toMatch(/NoSuchBucket.*Create the bucket or fix the uri of stream orders/);
  });

  it("matches the glob relative to the prefix and infers each format", async () => {
    const top = await extractAll({ bucket: "source-bucket", prefix: "exports/orders/", pattern: "*.{csv,json,ndjson}" });
    expect(top.batches.map((b) => [b.metadata?.key, b.format])).toEqual([
      ["exports/orders/2026-01-14.csv", "csv"],
      ["exports/orders/2026-01-15.csv", "csv"],
      ["exports/orders/events.ndjson", "ndjson"],
      ["exports/orders/summary.json", "json"],
    ]);
    const forced = await extractAll({ bucket: "source-bucket", prefix: "exports/orders", pattern: "README.txt", format: "csv" });
    expect(forced.batches.map((b) => b.format)).toEqual(["csv"]);
  });

  it("pages through listings", async () => {
    const listing = createS3Client(connection);
    const sent = recordCommands(listing);
    const source = createS3Source({ listPageSize: 2, client: listing });
    const keys: unknown[] = [];
    const stream = { bucket: "source-bucket", prefix: "", pattern: "**/*.csv" };
    for await (const b of source.extract({ ...context(stream), source: "main", options: {}, streamOptions: stream as never, connection, state: undefined })) {
      if (b.type === "file") keys.push(b.metadata?.key);
    }
    expect(keys).toHaveLength(5);
    expect(sent.filter((c) => c === "ListObjectsV2Command")).toHaveLength(4);
  });

  it("keeps only objects modified inside the window when incremental", async () => {
    const stream = { bucket: "source-bucket", prefix: "exports", pattern: "**/*.csv", incremental: true };
    expect((await extractAll(stream, nowWindow())).batches).toHaveLength(4);
    expect((await extractAll(stream, PAST)).batches).toHaveLength(0);
    expect((await extractAll({ ...stream, incremental: false }, PAST)).batches).toHaveLength(4);
  });

  it("fails on an unknown extension, a max_files overflow and a missing bucket", async () => {
    expect((await extractError({ bucket: "source-bucket", prefix: "exports/orders" })).message).toMatch(
      /cannot tell the format of s3 object "exports\/orders\/README.txt".*set the stream's `format`/,
    );
    expect((await extractError({ bucket: "source-bucket", pattern: "**/*.csv", max_files: 2 })).message).toMatch(
      /5 objects match .* more than max_files \(2\)/,
    );
    const missing = await extractError({ bucket: "no-such-source", pattern: "**/*.csv" });
    expect(missing.message).toMatch(/S3 ListObjectsV2 on s3:\/\/no-such-source failed: NoSuchBucket.*Create the bucket or fix the bucket of stream orders/);
    expect(missing.message).not.toContain(SECRET);
  });
});

describe("s3 source -> s3 landing through runExtract", () => {
  it("copies objects across buckets into a published stage partition, and a re-run replaces it", async () => {
    const big = generatedBody(6 * 1024 * 1024 + 7);
    await client.send(new PutObjectCommand({ Bucket: "source-bucket", Key: "copy/big.ndjson", Body: await collect(big.body()) }));
    await client.send(new PutObjectCommand({ Bucket: "source-bucket", Key: "copy/day/small.csv", Body: "a,b\n1,2\n" }));
    const landingConnection = moto.connection("aws_landing", SECRET);
    const landing = s3Landing("s3://landing-bucket/xo", landingConnection, { partSize: 5 * 1024 * 1024 });
    const stream = { bucket: "source-bucket", prefix: "copy" };
    const window: DataWindow = { ...nowWindow(), logicalDate: "2026-01-15" };
    const run = (runId: string) =>
      runExtract({
        ...context(stream, window),
        runId,
        sourceName: "main",
        source: createS3Source(),
        connection,
        landing,
        landingRoot: "s3://landing-bucket/xo",
        state: undefined,
      });

    const first = await run("manual__1");

    const stage = "s3://landing-bucket/xo/stage/shop/orders/incremental/date=2026-01-15";
    expect(first.partition).toBe(stage);
    expect((await landing.list(stage)).map((o) => o.uri)).toEqual([
      `${stage}/00000-big.ndjson`,
      `${stage}/00001-day__small.csv`,
      `${stage}/_SUCCESS`,
      `${stage}/_manifest.json`,
    ]);
    const manifest = JSON.parse((await landing.readText(`${stage}/_manifest.json`))!) as Manifest;
    expect(manifest.files.map((f) => [f.uri, f.format, f.bytes, f.sha256])).toEqual([
      [`${stage}/00000-big.ndjson`, "ndjson", 6 * 1024 * 1024 + 7, big.sha256],
      [`${stage}/00001-day__small.csv`, "csv", 8, createHash("sha256").update("a,b\n1,2\n").digest("hex")],
    ]);
    expect(manifest.files[1]!.metadata).toMatchObject({ key: "copy/day/small.csv", size: 8 });
    expect(manifest.files[0]!.metadata?.etag).toBeTypeOf("string");
    expect(await sha256Of(landing.read(`${stage}/00000-big.ndjson`))).toEqual({ sha256: big.sha256, bytes: 6 * 1024 * 1024 + 7 });
    expect(await landing.readText(`${stage}/_SUCCESS`)).toBe("");

    // The source loses a file; re-running the same date replaces the partition instead of adding to it.
    await client.send(new PutObjectCommand({ Bucket: "source-bucket", Key: "copy/day/small.csv", Body: "a,b\n3,4\n5,6\n" }));
    const second = await run("manual__2");
    expect(second.files.map((f) => f.uri)).toEqual([`${stage}/00000-big.ndjson`, `${stage}/00001-day__small.csv`]);
    expect((await landing.list(stage)).map((o) => o.uri.slice(stage.length + 1))).toEqual([
      "00000-big.ndjson",
      "00001-day__small.csv",
      "_SUCCESS",
      "_manifest.json",
    ]);
    expect(await landing.readText(`${stage}/00001-day__small.csv`)).toBe("a,b\n3,4\n5,6\n");
    const again = JSON.parse((await landing.readText(`${stage}/_manifest.json`))!) as Manifest;
    expect(again.runId).toBe("manual__2");
    expect(again.bytes).toBe(6 * 1024 * 1024 + 7 + 12);
  });
});
