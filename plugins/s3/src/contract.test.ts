/**
 * The `s3` source, the `s3://` landing store and the `s3.upload` step against the testkit's
 * contracts, on a real moto_server. The abort check points the source at the testkit's
 * scripted server, which takes the request and never answers, as a hung S3 endpoint would.
 */
import { writeFile } from "node:fs/promises";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll } from "vitest";
import { clearSecrets, publishStepFiles, type JsonObject, type LandingDefinition } from "@xo-foundry/core";
import { describeLandingStore, describeSource, describeStep, ndjsonText, stepContext, testdir, useScriptedServer, type SourceScenario, type TestDir } from "@xo-foundry/testkit";
import { s3 } from "./index.js";
import { startMoto, type Moto } from "./__fixtures__/moto.js";

let moto: Moto;
let dir: TestDir;
const hung = useScriptedServer([{ path: /.*/, respond: { stall: true } }]);
let prefixes = 0;

beforeAll(async () => {
  moto = await startMoto();
  await moto.createBucket("contract-source");
  await moto.createBucket("contract-landing");
  // The bucket of the README's s3.upload examples.
  await moto.createBucket("partner-drop");
  dir = await testdir();
});
afterAll(async () => {
  await moto?.stop();
  await dir?.remove();
  clearSecrets();
});

describeSource({
  plugin: s3(),
  // The streams in the README.
  examples: [
    { options: {}, stream: { uri: "s3://partner-exports/orders", pattern: "**/*.csv", incremental: true, max_files: 500 } },
    { options: {}, stream: { bucket: "partner-exports", prefix: "orders" } },
    { options: {}, stream: { uri: "file://data/incoming", pattern: "**/*.csv" } },
  ],
  async serve(records: readonly JsonObject[]): Promise<SourceScenario> {
    const prefix = `items-${++prefixes}`;
    const client = moto.client();
    const half = Math.ceil(records.length / 2);
    // Two objects, so the listing and the order of files matter too.
    for (const [i, part] of [records.slice(0, half), records.slice(half)].entries()) {
      await client.send(new PutObjectCommand({ Bucket: "contract-source", Key: `${prefix}/part-${i}.ndjson`, Body: ndjsonText(part) }));
    }
    client.destroy();
    return { options: {}, stream: { uri: `s3://contract-source/${prefix}` }, connection: moto.connection() };
  },
  stall(): SourceScenario {
    const connection = moto.connection();
    return { options: {}, stream: { uri: "s3://contract-source/hung" }, connection: { ...connection, extra: { ...connection.extra, endpoint_url: hung.url } } };
  },
  refuse(): SourceScenario {
    return { options: {}, stream: { uri: "s3://no-such-bucket-contract/x" }, connection: moto.connection() };
  },
});

const landing = s3().landings!.find((l) => l.scheme === "s3") as LandingDefinition;
let roots = 0;

describeLandingStore({
  plugin: s3(),
  scheme: "s3",
  // The S3 store creates objects with If-None-Match and copies server-side (src/landing.ts).
  capabilities: { createText: true, copy: true },
  open() {
    const root = `s3://contract-landing/run-${++roots}`;
    return { store: landing.open(root, moto.connection()), root };
  },
});

let partitions = 0;

describeStep({
  plugin: s3(),
  // The steps in the README.
  examples: [
    { uri: "s3://partner-drop/orders/{ds}/", name: "orders_{ds_nodash}_{name}" },
    { uri: "s3://partner-drop/latest", overwrite: "replace", task: "export_orders" },
  ],
  async environment() {
    const root = `s3://contract-landing/upload-${++partitions}`;
    const store = landing.open(root, moto.connection());
    const file = dir.path(`part-${partitions}.csv`);
    await writeFile(file, "id\n1\n");
    const manifest = await publishStepFiles(stepContext({ options: {}, taskId: "export_orders", landing: { root, store } }), [{ path: file, format: "csv" }]);
    const upstream = { task: "export_orders", step: "sql.export", state: "success" as const, summary: { partition: manifest.partition }, reads: [], writes: [] };
    return { landing: { root, store }, upstream: { export_orders: upstream }, connection: moto.connection() };
  },
});
