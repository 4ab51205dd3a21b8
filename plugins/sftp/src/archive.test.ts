/**
 * The `sftp.archive` step against a real OpenSSH sshd: files the `sftp` source landed (their
 * manifest metadata names `remote_path` and `size`) are moved into the archive folder after
 * their load, re-runs finish what an earlier run started, and nothing in the archive is
 * ever replaced. The landing zone is files on disk (src/__fixtures__/landing.ts).
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { clearSecrets, type ExtractBatch, type JsonObject, type SourceDefinition, type StepResult, type TaskSummary } from "@xo-foundry/core";
import { extractContext, recordingLogger, rejectionOf, stepContext, testdir, type RecordingLogger, type TestDir } from "@xo-foundry/testkit";
import { sftpArchive } from "./archive.js";
import { moveIntoArchive, planArchive } from "./archive-move.js";
import { openSession } from "./connect.js";
import { archiveOptions } from "./options.js";
import { sftpSource } from "./source.js";
import { folderLanding, landPartition, loadOf, type LandedMetadata, type TestLanding } from "./__fixtures__/landing.js";
import { startSshd, type Sshd } from "./__fixtures__/sshd.js";

let sshd: Sshd;
let dir: TestDir;
beforeAll(async () => {
  sshd = await startSshd();
  dir = await testdir();
});
afterAll(async () => {
  await sshd?.stop();
  await dir?.remove();
  clearSecrets();
});

interface Env {
  readonly landing: TestLanding;
  readonly upstream: Record<string, TaskSummary>;
  readonly after: readonly string[];
}

let cases = 0;
/**
 * Puts `files` in the stream's folder `drop` on the server and lands them as the source
 * would (metadata `remote_path` and `size`), loaded by `load_orders`.
 */
async function droppedAndLoaded(drop: string, files: Record<string, string>): Promise<Env> {
  const landing = folderLanding(dir.path(`landing-${++cases}`));
  const metadata: Record<string, Record<string, string | number>> = {};
  for (const [relative, body] of Object.entries(files)) {
    await sshd.put(`${drop}/${relative}`, body);
    metadata[path.posix.basename(relative)] = { remote_path: `${sshd.root}/${drop}/${relative}`, size: Buffer.byteLength(body) };
  }
  const landed = Object.fromEntries(Object.keys(files).map((relative) => [path.posix.basename(relative), "id\n1\n"]));
  return loaded(landing, landed, metadata);
}

async function loaded(landing: TestLanding, files: Record<string, string | Buffer>, metadata: LandedMetadata): Promise<Env> {
  const extract = await landPartition(landing, files, "extract_orders", metadata);
  const load = loadOf(extract);
  return { landing, upstream: { extract_orders: extract, load_orders: load }, after: ["load_orders"] };
}

async function run(options: Record<string, unknown>, env: Env, log: RecordingLogger = recordingLogger(), signal?: AbortSignal): Promise<StepResult> {
  const ctx = stepContext({
    options: archiveOptions.parse(options),
    connection: sshd.connection(),
    landing: env.landing,
    upstream: env.upstream,
    after: env.after,
    taskId: "archive_orders",
    ...(signal ? { signal } : {}),
  });
  return sftpArchive.run({ ...ctx, log });
}

/** Runs the `sftp` source over a stream, as an extract task would. */
async function extract(stream: Record<string, unknown>, state?: JsonObject) {
  const ctx = extractContext({ streamOptions: stream, connection: sshd.connection(), plugin: "sftp", ...(state ? { state } : {}) });
  const files: { name: string; bytes: Buffer; metadata: Readonly<Record<string, string | number>> }[] = [];
  let saved: JsonObject | undefined;
  for await (const batch of (sftpSource as SourceDefinition).extract(ctx) as AsyncIterable<ExtractBatch>) {
    if (batch.type === "file") {
      const chunks: Buffer[] = [];
      for await (const chunk of batch.body) chunks.push(Buffer.from(chunk));
      files.push({ name: batch.name, bytes: Buffer.concat(chunks), metadata: batch.metadata ?? {} });
    } else if (batch.type === "state") {
      saved = batch.state;
    }
  }
  return { files, state: saved };
}

const remote = async (folder: string) => (await readdir(path.join(sshd.root, folder)).catch(() => [])).sort();
const text = (relative: string) => readFile(path.join(sshd.root, relative), "utf8");

test("moves the loaded files into a new dated folder (mkdir -p), keeping names, bytes and modification times", async () => {
  const env = await droppedAndLoaded("drop1", { "orders_1.csv": "id\n1\n", "orders_2.csv.gz": "not really gzip" });
  const mtime = (await stat(path.join(sshd.root, "drop1/orders_1.csv"))).mtimeMs;
  const result = await run({ folder: `${sshd.root}/archive/{ds}/orders` }, env);
  expect(result.summary).toEqual({ files: 2, moved: 2, already: 0, missing: 0, folder: `${sshd.root}/archive/2026-01-15/orders` });
  expect(await remote("drop1")).toEqual([]);
  expect(await remote("archive/2026-01-15/orders")).toEqual(["orders_1.csv", "orders_2.csv.gz"]);
  expect(await text("archive/2026-01-15/orders/orders_2.csv.gz")).toBe("not really gzip");
  expect((await stat(path.join(sshd.root, "archive/2026-01-15/orders/orders_1.csv"))).mtimeMs).toBe(mtime);
  expect(result.reads).toEqual([{ uri: env.upstream.extract_orders!.summary.partition }]);
  expect(result.writes).toEqual([{ uri: `sftp://127.0.0.1:${sshd.port}${sshd.root}/archive/2026-01-15/orders` }]);
});

test("paths relative to the login's home folder and {ds_nodash} work as the README shows them", async () => {
  const landing = folderLanding(dir.path(`landing-${++cases}`));
  await sshd.put("outgoing/orders/a.csv", "a\n");
  const env = await loaded(landing, { "a.csv": "a\n" }, { "a.csv": { remote_path: "outgoing/orders/a.csv", size: 2 } });
  expect((await run({ folder: "archive/orders/{ds_nodash}" }, env)).summary).toMatchObject({ moved: 1, folder: "archive/orders/20260115" });
  expect(await remote("archive/orders/20260115")).toEqual(["a.csv"]);
  expect(await remote("outgoing/orders")).toEqual([]);
});

test("a re-run is a no-op, and one after a run that stopped half-way moves only the rest", async () => {
  const env = await droppedAndLoaded("drop2", { "a.csv": "a\n", "b.csv": "bb\n", "c.csv": "ccc\n" });
  const options = { folder: `${sshd.root}/archive2` };
  // An earlier run was killed after moving a.csv: the same rename, done by hand.
  await sshd.put("archive2/a.csv", "a\n");
  await rm(path.join(sshd.root, "drop2/a.csv"));
  expect((await run(options, env)).summary).toMatchObject({ files: 3, moved: 2, already: 1, missing: 0 });
  const log = recordingLogger();
  expect((await run(options, env, log)).summary).toMatchObject({ files: 3, moved: 0, already: 3, missing: 0 });
  expect(log.warnings).toEqual([]);
  expect(await remote("archive2")).toEqual(["a.csv", "b.csv", "c.csv"]);
  expect(await text("archive2/c.csv")).toBe("ccc\n");
});

test("a file in the archive under a loaded file's name stops the step before anything moves", async () => {
  const env = await droppedAndLoaded("drop3", { "a.csv": "a\n", "b.csv": "b, new\n", "c.csv": "c\n" });
  await sshd.put("archive3/b.csv", "b, archived on another day\n");
  const error = await rejectionOf(() => run({ folder: `${sshd.root}/archive3` }, env));
  expect(error).toMatchObject({ code: "SFTP_ARCHIVE_EXISTS" });
  expect(error.message).toContain(`${sshd.root}/drop3/b.csv`);
  expect(error.message).toContain(`${sshd.root}/archive3/b.csv already exists (7 and 27 bytes)`);
  expect(error.message).toContain("nothing was moved");
  expect(await remote("drop3")).toEqual(["a.csv", "b.csv", "c.csv"]);
  expect(await remote("archive3")).toEqual(["b.csv"]);
  expect(await text("archive3/b.csv")).toBe("b, archived on another day\n");
  // Same size is no proof of the same file: it is not replaced either.
  await rm(path.join(sshd.root, "archive3/b.csv"));
  await sshd.put("archive3/b.csv", "b, 7 b\n");
  await expect(run({ folder: `${sshd.root}/archive3` }, env)).rejects.toMatchObject({ code: "SFTP_ARCHIVE_EXISTS", message: expect.stringContaining("both 7 bytes") as unknown });
  expect(await remote("drop3")).toEqual(["a.csv", "b.csv", "c.csv"]);
});

test("a file that appears in the archive after the step looked is kept, and the move fails with the conflict", async () => {
  await sshd.put("drop4/a.csv", "ours\n");
  const session = await openSession(sshd.connection(), { retries: 0, timeoutSeconds: 10 }, { log: recordingLogger(), signal: new AbortController().signal });
  try {
    const [step] = await planArchive(session, [{ source: `${sshd.root}/drop4/a.csv`, bytes: 5 }], `${sshd.root}/archive4`, new AbortController().signal);
    expect(step).toMatchObject({ action: "move" });
    await sshd.put("archive4/a.csv", "theirs, meanwhile\n");
    await expect(moveIntoArchive(session, step!)).rejects.toMatchObject({ code: "SFTP_ARCHIVE_EXISTS", message: expect.stringContaining("appeared while") as unknown });
  } finally {
    await session.close();
  }
  expect(await text("archive4/a.csv")).toBe("theirs, meanwhile\n");
  expect(await text("drop4/a.csv")).toBe("ours\n");
});

test("a loaded file that is gone from the server is warned about and counted as missing", async () => {
  const env = await droppedAndLoaded("drop5", { "a.csv": "a\n", "b.csv": "b\n", "c.csv": "c\n" });
  await rm(path.join(sshd.root, "drop5/a.csv"));
  // c.csv is gone too, and the archive holds another c.csv: not ours, so not "already".
  await rm(path.join(sshd.root, "drop5/c.csv"));
  await sshd.put("archive5/c.csv", "someone else's c\n");
  const log = recordingLogger();
  expect((await run({ folder: `${sshd.root}/archive5` }, env, log)).summary).toMatchObject({ files: 3, moved: 1, already: 0, missing: 2 });
  expect(log.warnings).toEqual([
    expect.stringContaining(`${sshd.root}/drop5/a.csv is gone and ${sshd.root}/archive5/a.csv does not exist`),
    expect.stringContaining(`${sshd.root}/archive5/c.csv holds 17 bytes, not the 2 that were loaded`),
  ]);
  expect(await remote("archive5")).toEqual(["b.csv", "c.csv"]);
  expect(await text("archive5/c.csv")).toBe("someone else's c\n");
});

test("two files of a recursive stream with one name are refused before anything moves", async () => {
  const landing = folderLanding(dir.path(`landing-${++cases}`));
  await sshd.put("drop6/2026/01/x.csv", "jan\n");
  await sshd.put("drop6/2026/02/x.csv", "feb\n");
  const env = await loaded(
    landing,
    { "2026__01__x.csv": "jan\n", "2026__02__x.csv": "feb\n" },
    {
      "2026__01__x.csv": { remote_path: `${sshd.root}/drop6/2026/01/x.csv`, size: 4 },
      "2026__02__x.csv": { remote_path: `${sshd.root}/drop6/2026/02/x.csv`, size: 4 },
    },
  );
  await expect(run({ folder: `${sshd.root}/archive6` }, env)).rejects.toMatchObject({
    code: "SFTP_ARCHIVE_DUPLICATE_NAME",
    message: expect.stringContaining(`${sshd.root}/drop6/2026/01/x.csv and ${sshd.root}/drop6/2026/02/x.csv would both be archived as ${sshd.root}/archive6/x.csv`) as unknown,
  });
  expect(await remote("drop6/2026/01")).toEqual(["x.csv"]);
  expect(await remote("drop6/2026/02")).toEqual(["x.csv"]);
  expect(existsSync(path.join(sshd.root, "archive6"))).toBe(false);
});

test("without a successful load of the partition upstream, nothing moves", async () => {
  const env = await droppedAndLoaded("drop7", { "a.csv": "a\n" });
  const extractOnly = { ...env, upstream: { extract_orders: env.upstream.extract_orders! }, after: ["extract_orders"] };
  await expect(run({ folder: `${sshd.root}/archive7` }, extractOnly)).rejects.toMatchObject({ code: "SFTP_ARCHIVE_NOT_LOADED" });
  // A load of another stream's partition does not count either.
  const otherLoad: TaskSummary = { ...env.upstream.load_orders!, task: "load_customers", reads: [{ uri: `${env.landing.root}/stage/other` }] };
  const wrongLoad = { ...extractOnly, upstream: { ...extractOnly.upstream, load_customers: otherLoad } };
  await expect(run({ folder: `${sshd.root}/archive7`, task: "extract_orders" }, wrongLoad)).rejects.toMatchObject({ code: "SFTP_ARCHIVE_NOT_LOADED" });
  expect(await remote("drop7")).toEqual(["a.csv"]);
  // `task` names the partition when the step runs after several tasks.
  const after = { ...env, after: ["load_orders", "load_customers"], upstream: { ...env.upstream, load_customers: otherLoad } };
  await expect(run({ folder: `${sshd.root}/archive7` }, after)).rejects.toMatchObject({ code: "XO_NOTHING_TO_DELIVER" });
  expect((await run({ folder: `${sshd.root}/archive7`, task: "load_orders" }, after)).summary).toMatchObject({ moved: 1 });
});

test("files that did not come from the sftp source, or a folder that is the stream's own, are refused", async () => {
  const landing = folderLanding(dir.path(`landing-${++cases}`));
  const env = await loaded(landing, { "a.csv": "a\n" }, {});
  await expect(run({ folder: `${sshd.root}/archive8` }, env)).rejects.toMatchObject({ code: "SFTP_ARCHIVE_NOT_FROM_SFTP" });

  const own = await droppedAndLoaded("drop8", { "a.csv": "a\n" });
  await expect(run({ folder: `${sshd.root}/drop8/` }, own)).rejects.toMatchObject({ code: "SFTP_ARCHIVE_EXISTS", message: expect.stringContaining("that is the folder the file is in") as unknown });
  expect(await remote("drop8")).toEqual(["a.csv"]);
});

test("an empty partition (no file matched) archives nothing and connects to nothing", async () => {
  const landing = folderLanding(dir.path(`landing-${++cases}`));
  const env = await loaded(landing, {}, {});
  const ctx = stepContext({ options: archiveOptions.parse({ folder: "archive9" }), connection: sshd.connection({ port: 1 }), landing: env.landing, upstream: env.upstream, after: env.after });
  expect((await sftpArchive.run(ctx)).summary).toEqual({ files: 0, moved: 0, already: 0, missing: 0, folder: "archive9" });
});

test("after the source's load: the archived files are not listed again, and the `modified: state` watermark still takes only newer files", async () => {
  const drop = "drop10";
  await sshd.put(`${drop}/orders_1.csv`, "id\n1\n", new Date("2026-01-15T08:00:00Z"));
  await sshd.put(`${drop}/orders_2.csv`, "id\n2\n", new Date("2026-01-15T09:00:00Z"));
  const first = await extract({ path: drop, glob: "*.csv", modified: "state" });
  expect(first.files.map((f) => f.name)).toEqual(["orders_1.csv", "orders_2.csv"]);

  const landing = folderLanding(dir.path(`landing-${++cases}`));
  const env = await loaded(landing, Object.fromEntries(first.files.map((f) => [f.name, f.bytes])), Object.fromEntries(first.files.map((f) => [f.name, f.metadata])));
  expect((await run({ folder: "archive10/{ds}" }, env)).summary).toMatchObject({ files: 2, moved: 2 });

  await sshd.put(`${drop}/orders_3.csv`, "id\n3\n", new Date("2026-01-16T09:00:00Z"));
  const next = await extract({ path: drop, glob: "*.csv", modified: "state" }, first.state);
  expect(next.files.map((f) => f.name)).toEqual(["orders_3.csv"]);
  expect((await extract({ path: drop, glob: "*.csv", modified: "all" })).files.map((f) => f.name)).toEqual(["orders_3.csv"]);
  expect(await remote("archive10/2026-01-15")).toEqual(["orders_1.csv", "orders_2.csv"]);
});

test("the folder takes the date placeholders only, and no `..`; the step names no destination", () => {
  expect(archiveOptions.safeParse({ folder: "archive/{name}" }).success).toBe(false);
  expect(archiveOptions.safeParse({ folder: "archive/../etc" }).success).toBe(false);
  expect(archiveOptions.parse({ folder: "archive/{ds}/{ds_nodash}" })).toEqual({ folder: "archive/{ds}/{ds_nodash}", retries: 3, timeout_seconds: 30 });
  // Two streams archiving into one folder is an ordinary setup, not a collision to refuse.
  expect(sftpArchive.destination).toBeUndefined();
});
