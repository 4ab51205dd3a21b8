/** The `sftp` source against a real OpenSSH sshd: selection, gzip, incremental state, bytes intact. */
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, test } from "vitest";
import { clearSecrets, type ExtractBatch, type JsonObject, type SourceDefinition } from "@xo-foundry/core";
import { extractContext } from "@xo-foundry/testkit";
import { sftpSource } from "./source.js";
import { sha256, startSshd, type Sshd } from "./__fixtures__/sshd.js";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  clearSecrets();
});

// The test context's window for 2026-01-15 (incremental, UTC) is [2026-01-15, 2026-01-16).
const IN_WINDOW = new Date("2026-01-15T10:00:00Z");
const BEFORE = new Date("2026-01-14T23:59:59Z");

interface Landed {
  name: string;
  format: string;
  sha256: string;
  text: string;
  metadata: Readonly<Record<string, string | number>> | undefined;
}

async function extract(stream: Record<string, unknown>, state?: JsonObject) {
  const ctx = extractContext({ streamOptions: stream, connection: sshd.connection(), plugin: "sftp", ...(state ? { state } : {}) });
  const files: Landed[] = [];
  const batches: ExtractBatch["type"][] = [];
  let saved: JsonObject | undefined;
  for await (const batch of (sftpSource as SourceDefinition).extract(ctx)) {
    batches.push(batch.type);
    if (batch.type === "file") {
      const chunks: Buffer[] = [];
      for await (const chunk of batch.body) chunks.push(Buffer.from(chunk));
      const bytes = Buffer.concat(chunks);
      files.push({ name: batch.name, format: batch.format, sha256: sha256(bytes), text: bytes.toString("utf8"), metadata: batch.metadata });
    } else if (batch.type === "state") saved = batch.state;
  }
  return { files, batches, state: saved };
}

test("glob picks matching files of the folder, in name order, with their remote facts", async () => {
  await sshd.put("glob/orders_2.csv", "id\n2\n", IN_WINDOW);
  await sshd.put("glob/orders_1.csv", "id\n1\n", IN_WINDOW);
  await sshd.put("glob/customers.csv", "id\n9\n", IN_WINDOW);
  await sshd.put("glob/sub/orders_3.csv", "id\n3\n", IN_WINDOW);
  const { files } = await extract({ path: `${sshd.root}/glob`, glob: "orders_*.csv" });
  expect(files.map((f) => f.name)).toEqual(["orders_1.csv", "orders_2.csv"]);
  expect(files[0]!.metadata).toEqual({ remote_path: `${sshd.root}/glob/orders_1.csv`, size: 5, mtime: IN_WINDOW.toISOString() });
  expect(files[0]!.format).toBe("csv");
});

test("recursive walks sub-folders; landed names join folders with __ and stay unique", async () => {
  await sshd.put("deep/a/x.csv", "a\n", IN_WINDOW);
  await sshd.put("deep/a__x.csv", "b\n", IN_WINDOW);
  await sshd.put("deep/b/c/y z.csv", "c\n", IN_WINDOW);
  const { files } = await extract({ path: `${sshd.root}/deep`, glob: "**/*.csv", recursive: true });
  const names = files.map((f) => f.name);
  expect(files.map((f) => f.text)).toEqual(["a\n", "b\n", "c\n"]);
  expect(new Set(names).size).toBe(3);
  expect(names.every((n) => /^[A-Za-z0-9._-]+$/.test(n))).toBe(true);
  expect(names[2]).toMatch(/^b__c__y_z-[0-9a-f]{8}\.csv$/);
});

test("gzip files are decompressed while landing (name without .gz), or landed as they are with decompress: false", async () => {
  const text = "id,name\n1,Zoë\n".repeat(5000);
  await sshd.put("gz/orders.csv.gz", gzipSync(text), IN_WINDOW);
  const [unzipped] = (await extract({ path: `${sshd.root}/gz`, glob: "*.csv.gz" })).files;
  expect(unzipped).toMatchObject({ name: "orders.csv", format: "csv", sha256: sha256(text) });
  expect(unzipped!.metadata?.compression).toBe("gzip, decompressed");
  const [kept] = (await extract({ path: `${sshd.root}/gz`, glob: "*.csv.gz", decompress: false })).files;
  expect(kept).toMatchObject({ name: "orders.csv.gz", format: "csv" });
  expect(kept!.sha256).not.toBe(sha256(text));
});

test("bytes arrive intact: a 5 MiB binary file has the sha256 it has on the server", async () => {
  const data = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
  await sshd.put("big/blob.parquet", data, IN_WINDOW);
  const [file] = (await extract({ path: `${sshd.root}/big` })).files;
  expect(file).toMatchObject({ name: "blob.parquet", format: "parquet", sha256: sha256(data) });
});

test("modified: window takes only files modified in the run's window; all takes every file", async () => {
  await sshd.put("window/old.csv", "old\n", BEFORE);
  await sshd.put("window/today.csv", "today\n", IN_WINDOW);
  await sshd.put("window/tomorrow.csv", "later\n", new Date("2026-01-16T00:00:00Z"));
  expect((await extract({ path: `${sshd.root}/window` })).files.map((f) => f.name)).toEqual(["today.csv"]);
  expect((await extract({ path: `${sshd.root}/window`, modified: "all" })).files.map((f) => f.name)).toEqual(["old.csv", "today.csv", "tomorrow.csv"]);
});

test("modified: state yields its watermark last, and the next run takes only newer files", async () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 10, 0, 0, s));
  await sshd.put("state/a.csv", "a\n", t(1));
  await sshd.put("state/b.csv", "b\n", t(2));
  const first = await extract({ path: `${sshd.root}/state`, modified: "state" });
  expect(first.files.map((f) => f.name)).toEqual(["a.csv", "b.csv"]);
  expect(first.batches.at(-1)).toBe("state");
  expect(first.state).toEqual({ mtime: t(2).getTime() / 1000, path: `${sshd.root}/state/b.csv` });

  // Same second as the watermark but a later name, and a newer one: both are new; a and b are not.
  await sshd.put("state/c.csv", "c\n", t(2));
  await sshd.put("state/d.csv", "d\n", t(9));
  const second = await extract({ path: `${sshd.root}/state`, modified: "state" }, first.state);
  expect(second.files.map((f) => f.name)).toEqual(["c.csv", "d.csv"]);
  expect(second.state).toEqual({ mtime: t(9).getTime() / 1000, path: `${sshd.root}/state/d.csv` });

  // Nothing new: no files, and the same watermark again.
  const third = await extract({ path: `${sshd.root}/state`, modified: "state" }, second.state);
  expect(third.files).toEqual([]);
  expect(third.state).toEqual(second.state);
});

test("min_age_seconds leaves files that may still be written for a later run", async () => {
  await sshd.put("fresh/settled.csv", "x\n", new Date(Date.now() - 600_000));
  await sshd.put("fresh/writing.csv", "y\n", new Date());
  const { files } = await extract({ path: `${sshd.root}/fresh`, modified: "all", min_age_seconds: 60 });
  expect(files.map((f) => f.name)).toEqual(["settled.csv"]);
});

test("a missing folder fails with SFTP_NOT_FOUND", async () => {
  await expect(extract({ path: `${sshd.root}/no-such-folder` })).rejects.toMatchObject({ code: "SFTP_NOT_FOUND" });
});

test("a file without a known extension needs `format`", async () => {
  await sshd.put("noext/data.txt", "id\n1\n", IN_WINDOW);
  await expect(extract({ path: `${sshd.root}/noext` })).rejects.toThrow(/format/);
  const { files } = await extract({ path: `${sshd.root}/noext`, format: "csv" });
  expect(files.map((f) => [f.name, f.format])).toEqual([["data.txt", "csv"]]);
});
