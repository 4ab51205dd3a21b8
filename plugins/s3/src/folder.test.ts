/**
 * The `s3` source reading a local folder (`uri: file://...`), through the plugin entry
 * the CLI uses. Real: the file system, in a temp dir. No S3 server: none may be needed,
 * and the AWS SDK must not even load (it is watched below).
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  silentLogger,
  type DataWindow,
  type ExtractBatch,
  type ExtractContext,
  type PipelineConfig,
  type SourceDefinition,
  type StreamConfig,
} from "@xo-foundry/core";
import { fileLanding, runExtract } from "@xo-foundry/runtime";
import { s3 } from "./index.js";
import { collect } from "./__fixtures__/helpers.js";

const sdk = vi.hoisted(() => ({ loaded: false, clients: 0 }));
vi.mock("@aws-sdk/client-s3", async (importOriginal) => {
  sdk.loaded = true;
  const original = await importOriginal<typeof import("@aws-sdk/client-s3")>();
  class CountedS3Client extends original.S3Client {
    constructor(...args: ConstructorParameters<typeof original.S3Client>) {
      sdk.clients += 1;
      super(...args);
    }
  }
  return { ...original, S3Client: CountedS3Client };
});

const FILES: Record<string, string> = {
  "data/incoming/b.csv": "id\n2\n",
  "data/incoming/B.csv": "id\n1\n",
  "data/incoming/a.ndjson": '{"id":3}\n',
  "data/incoming/2026/01/c.csv": "id\n4\n",
  "data/incoming/2026/01/d.parquet": "PAR1-not-really",
  "data/incoming/2026/02/e.csv": "id\n5\n",
  "data/incoming/2026-archive/old.csv": "id\n0\n",
  "data/incoming/README.txt": "not data",
  "data/incoming/.hidden.csv": "id\n9\n",
  "data/elsewhere/x.csv": "id\n8\n",
  "data/plain-file.csv": "id\n7\n",
};
const BIG_BYTES = 3 * 1024 * 1024 + 11;

function bigBody(): Buffer {
  const big = Buffer.alloc(BIG_BYTES);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
  return big;
}

let project: string;
const nowWindow = (): DataWindow => ({
  logicalDate: new Date().toISOString().slice(0, 10),
  start: new Date(Date.now() - 3_600_000).toISOString(),
  end: new Date(Date.now() + 3_600_000).toISOString(),
  timezone: "UTC",
});

beforeAll(async () => {
  project = await mkdtemp(path.join(os.tmpdir(), "xo-s3-folder-"));
  for (const [file, body] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(project, file)), { recursive: true });
    await writeFile(path.join(project, file), body);
  }
  await mkdir(path.join(project, "big"));
  await writeFile(path.join(project, "big", "big.ndjson"), bigBody());
  // Older than any window used below.
  const old = new Date("2020-01-01T12:00:00Z");
  await utimes(path.join(project, "data/incoming/2026-archive/old.csv"), old, old);
});
afterAll(() => rm(project, { recursive: true, force: true }));

function extractContext(stream: Record<string, unknown>, window: DataWindow = nowWindow()): ExtractContext {
  const streamConfig = { name: "orders", target: {}, ...stream } as unknown as StreamConfig;
  const pipeline = {
    pipeline: { name: "shop", dag_id: "shop", timezone: "UTC", load_strategy: "incremental" },
    sources: { main: { plugin: "s3", streams: [streamConfig] } },
  } as unknown as PipelineConfig;
  return {
    pipeline,
    projectDir: project,
    stream: streamConfig,
    strategy: "incremental",
    window,
    runId: "manual__1",
    log: silentLogger,
    signal: new AbortController().signal,
    source: "main",
    options: {},
    streamOptions: stream,
    connection: undefined,
    state: undefined,
  };
}

/** The batches, bodies not read yet, from the plugin entry the CLI uses. */
async function fileBatches(stream: Record<string, unknown>, window?: DataWindow, source: SourceDefinition = s3().sources![0]!) {
  const batches: (ExtractBatch & { type: "file" })[] = [];
  for await (const batch of source.extract(extractContext(stream, window))) {
    if (batch.type !== "file") throw new Error("expected file batches");
    batches.push(batch);
  }
  return batches;
}

async function extract(stream: Record<string, unknown>, window?: DataWindow) {
  const batches = await fileBatches(stream, window);
  const bodies: Buffer[] = [];
  for (const batch of batches) bodies.push(await collect(batch.body));
  return { batches, bodies };
}

const relatives = (batches: readonly (ExtractBatch & { type: "file" })[]) =>
  batches.map((b) => path.relative(path.join(project, "data/incoming"), String(b.metadata?.path)).split(path.sep).join("/"));

describe("s3 source with a file:// uri", () => {
  it("yields every matching file below the folder in code-point order, with origin metadata", async () => {
    const { batches, bodies } = await extract({ uri: "file://data/incoming", pattern: "**/*.{csv,ndjson}" });
    // Ordered by the path relative to the folder, like S3 keys: "-" < "/" < "B" < "a".
    expect(relatives(batches)).toEqual(["2026-archive/old.csv", "2026/01/c.csv", "2026/02/e.csv", "B.csv", "a.ndjson", "b.csv"]);
    expect(batches.map((b) => b.name)).toEqual(["2026-archive__old.csv", "2026__01__c.csv", "2026__02__e.csv", "B.csv", "a.ndjson", "b.csv"]);
    expect(batches.map((b) => b.format)).toEqual(["csv", "csv", "csv", "csv", "ndjson", "csv"]);
    expect(bodies.map(String)).toEqual(["id\n0\n", "id\n4\n", "id\n5\n", "id\n1\n", '{"id":3}\n', "id\n2\n"]);
    const meta = batches[3]!.metadata!;
    expect(meta).toEqual({ path: path.join(project, "data/incoming/B.csv"), size: 5, last_modified: expect.any(String) });
    expect(Date.parse(String(meta.last_modified))).toBeGreaterThan(Date.now() - 600_000);
    expect(batches[0]!.metadata?.last_modified).toBe("2020-01-01T12:00:00.000Z");
  });

  it("resolves a relative folder against the project and takes an absolute one as is", async () => {
    const absolute = pathToFileURL(path.join(project, "data/incoming")).href;
    expect(absolute).toMatch(/^file:\/\/\//);
    const relative = await extract({ uri: "file://data/incoming", pattern: "*.csv" });
    const fromAbsolute = await extract({ uri: absolute, pattern: "*.csv" });
    expect(relatives(fromAbsolute.batches)).toEqual(relatives(relative.batches));
    expect(relatives(relative.batches)).toEqual(["B.csv", "b.csv"]);
  });

  it("filters with the pattern relative to the folder, skipping dotfiles unless named", async () => {
    const run = async (pattern: string, extra: Record<string, unknown> = {}) =>
      relatives((await extract({ uri: "file://data/incoming", pattern, ...extra })).batches);
    expect(await run("2026/**/*.csv")).toEqual(["2026/01/c.csv", "2026/02/e.csv"]);
    expect(await run("2026/*/c.*")).toEqual(["2026/01/c.csv"]);
    expect(await run("*.csv")).toEqual(["B.csv", "b.csv"]);
    expect(await run(".hidden.csv")).toEqual([".hidden.csv"]);
    expect(await run("**/*.parquet")).toEqual(["2026/01/d.parquet"]);
    expect(await run("README.txt", { format: "csv" })).toEqual(["README.txt"]);
    expect(await run("nothing/**")).toEqual([]);
  });

  it("keeps only files modified inside the window when incremental, and honours max_files", async () => {
    const stream = { uri: "file://data/incoming", pattern: "**/*.csv", incremental: true };
    expect(relatives((await extract(stream)).batches)).toEqual(["2026/01/c.csv", "2026/02/e.csv", "B.csv", "b.csv"]);
    const past: DataWindow = { logicalDate: "2020-01-01", start: "2020-01-01T00:00:00+00:00", end: "2020-01-02T00:00:00+00:00", timezone: "UTC" };
    expect(relatives((await extract(stream, past)).batches)).toEqual(["2026-archive/old.csv"]);
    await expect(extract({ uri: "file://data/incoming", pattern: "**/*.csv", max_files: 2 })).rejects.toThrow(
      /5 files match \*\*\/\*\.csv in .*data\/incoming, more than max_files \(2\)/,
    );
  });

  it("fails on an unknown extension with the fix", async () => {
    await expect(extract({ uri: "file://data/incoming" })).rejects.toThrow(/cannot tell the format of file "README.txt".*set the stream's `format`/);
  });

  it("fails on a missing folder, naming it: an empty result would hide a typo", async () => {
    const missing = path.join(project, "data/incomming");
    await expect(extract({ uri: "file://data/incomming" })).rejects.toThrow(
      `the folder ${missing} of stream orders does not exist. Create it, or fix the stream's \`uri\``,
    );
    await expect(extract({ uri: "file://data/plain-file.csv" })).rejects.toThrow(/plain-file\.csv \(the uri of stream orders\) is a file, not a folder/);
  });

  it("yields nothing for an empty folder, and reads linked files but not linked folders", async () => {
    await mkdir(path.join(project, "empty"));
    expect((await extract({ uri: "file://empty" })).batches).toEqual([]);
    await mkdir(path.join(project, "links"));
    await symlink(path.join(project, "data/incoming/b.csv"), path.join(project, "links/linked.csv"));
    await symlink(path.join(project, "links"), path.join(project, "links/loop"));
    const { batches, bodies } = await extract({ uri: "file://links" });
    expect(batches.map((b) => b.name)).toEqual(["linked.csv"]);
    expect(String(bodies[0])).toBe("id\n2\n");
  });

  it("streams file bodies in chunks instead of reading whole files", async () => {
    const [batch, ...rest] = await fileBatches({ uri: "file://big" });
    expect(rest).toEqual([]);
    expect(batch!.metadata?.size).toBe(BIG_BYTES);
    const hash = createHash("sha256");
    let chunks = 0;
    let largest = 0;
    for await (const chunk of batch!.body) {
      chunks += 1;
      largest = Math.max(largest, chunk.length);
      hash.update(chunk);
    }
    expect(hash.digest("hex")).toBe(createHash("sha256").update(bigBody()).digest("hex"));
    expect(chunks).toBeGreaterThan(40);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  });

  it("lands the files through the runtime's extract step into a file:// landing zone", async () => {
    const landingRoot = pathToFileURL(path.join(project, "landing")).href;
    const ctx = extractContext({ uri: "file://data/incoming", pattern: "2026/**/*.csv" });
    const manifest = await runExtract({ ...ctx, sourceName: "main", source: s3().sources![0]!, landing: fileLanding(), landingRoot });
    expect(manifest.files.map((f) => [path.basename(f.uri), f.format, f.bytes, f.metadata?.path])).toEqual([
      ["00000-2026__01__c.csv", "csv", 5, path.join(project, "data/incoming/2026/01/c.csv")],
      ["00001-2026__02__e.csv", "csv", 5, path.join(project, "data/incoming/2026/02/e.csv")],
    ]);
    expect(await readFile(fileURLToPath(manifest.files[1]!.uri), "utf8")).toBe("id\n5\n");
  });

  // Runs after every test above and before the one below, which imports the SDK-backed source.js.
  it("never loads the AWS SDK nor creates an S3 client", () => {
    expect(sdk).toEqual({ loaded: false, clients: 0 });
  });
});

describe("createS3Source with a file:// uri", () => {
  it("reads the folder without creating an S3 client", async () => {
    const { createS3Source } = await import("./source.js");
    expect(sdk.loaded).toBe(true); // source.js is the SDK-backed module; it still needs no client here
    const batches = await fileBatches({ uri: "file://data/incoming", pattern: "*.csv" }, undefined, createS3Source());
    const names = batches.map((b) => b.name);
    expect(names).toEqual(["B.csv", "b.csv"]);
    expect(sdk.clients).toBe(0);
  });
});
