/**
 * The `sftp.upload` step against a real OpenSSH sshd: atomic delivery as a second client sees
 * it, overwrite policies, re-runs, the size check, and a kill mid-transfer. The landing zone
 * and the upstream extract's partition are files on disk (src/__fixtures__/landing.ts).
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { clearSecrets, type StateStore, type StepResult, type TaskSummary } from "@xo-foundry/core";
import { memoryStateStore, recordingLogger, stepContext, testdir, type TestDir } from "@xo-foundry/testkit";
import { openSession } from "./connect.js";
import { uploadOptions } from "./options.js";
import { sftpUpload } from "./upload.js";
import { folderLanding, landPartition, type TestLanding } from "./__fixtures__/landing.js";
import { sha256, startSshd, type Sshd } from "./__fixtures__/sshd.js";

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

let cases = 0;
/** A fresh landing zone with one extract partition holding `files`. */
async function landed(files: Record<string, string | Buffer>) {
  const landing = folderLanding(dir.path(`landing-${++cases}`));
  const upstream = await landPartition(landing, files);
  return { landing, upstream: { [upstream.task]: upstream } };
}

function run(
  options: Record<string, unknown>,
  env: { landing: TestLanding; upstream: Record<string, TaskSummary>; state?: StateStore },
  signal?: AbortSignal,
): Promise<StepResult> {
  return sftpUpload.run(
    stepContext({
      options: uploadOptions.parse(options),
      connection: sshd.connection(),
      landing: env.landing,
      upstream: env.upstream,
      ...(env.state ? { state: env.state } : {}),
      ...(signal ? { signal } : {}),
    }),
  );
}

const remoteFiles = async (folder: string) => (await readdir(path.join(sshd.root, folder))).sort();

test("delivers the upstream partition's files into a new folder (mkdir -p), with the date in folder and name", async () => {
  const env = await landed({ "part-00000.csv": "id\n1\n", "part-00001.csv": "id\n2\n" });
  const result = await run({ folder: `${sshd.root}/incoming/{ds}/orders`, name: "orders_{ds_nodash}_{name}" }, env);
  expect(await remoteFiles("incoming/2026-01-15/orders")).toEqual(["orders_20260115_part-00000.csv", "orders_20260115_part-00001.csv"]);
  expect(await readFile(path.join(sshd.root, "incoming/2026-01-15/orders/orders_20260115_part-00001.csv"), "utf8")).toBe("id\n2\n");
  expect(result.summary).toEqual({ files: 2, sent: 2, unchanged: 0, skipped: 0, bytes: 10, folder: `${sshd.root}/incoming/2026-01-15/orders` });
  expect(result.reads).toEqual([{ uri: env.upstream.extract_orders!.summary.partition }]);
});

test("a second client polling the folder never sees a partial file under the final name", async () => {
  const data = Buffer.alloc(12 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) % 256;
  const expected = sha256(data);
  const env = await landed({ "big.csv": data });
  const folder = `${sshd.root}/atomic`;
  await sshd.folder("atomic");

  const reader = await openSession(sshd.connection(), { retries: 0, timeoutSeconds: 10 }, { log: recordingLogger(), signal: new AbortController().signal });
  const seen: { names: string[]; size?: number; sha256?: string }[] = [];
  let uploading = true;
  const poll = (async () => {
    // Polls while the upload runs, then once more after it finished.
    for (let last = false; !last; ) {
      last = !uploading;
      const names = (await reader.client.list(folder)).map((f) => f.name).sort();
      const observation: (typeof seen)[number] = { names };
      if (names.includes("big.csv")) {
        const bytes = (await reader.client.get(`${folder}/big.csv`)) as Buffer;
        observation.size = bytes.length;
        observation.sha256 = sha256(bytes);
      }
      seen.push(observation);
    }
  })();
  try {
    await run({ folder }, env);
  } finally {
    uploading = false;
    await poll;
    await reader.close();
  }
  // The poller watched the temporary grow, and whenever it saw the final name, it saw the whole file.
  expect(seen.some((o) => o.names.includes(".big.csv.xo-partial"))).toBe(true);
  for (const o of seen.filter((o) => o.names.includes("big.csv"))) expect(o).toMatchObject({ size: data.length, sha256: expected });
  expect(seen.at(-1)).toEqual({ names: ["big.csv"], size: data.length, sha256: expected });
});

test("overwrite: fail (the default) refuses an existing file and leaves it untouched", async () => {
  const env = await landed({ "a.csv": "new\n" });
  await sshd.put("fail/a.csv", "partner's\n");
  await expect(run({ folder: `${sshd.root}/fail` }, env)).rejects.toMatchObject({ code: "SFTP_TARGET_EXISTS" });
  expect(await readFile(path.join(sshd.root, "fail/a.csv"), "utf8")).toBe("partner's\n");
  expect(await remoteFiles("fail")).toEqual(["a.csv"]);
});

test("overwrite: skip keeps what is there, and a re-run of the same date sends nothing twice", async () => {
  const env = await landed({ "a.csv": "a\n", "b.csv": "b\n" });
  const options = { folder: `${sshd.root}/skip`, overwrite: "skip" };
  expect((await run(options, env)).summary).toMatchObject({ sent: 2, skipped: 0 });
  expect((await run(options, env)).summary).toMatchObject({ sent: 0, skipped: 2 });
  expect(await remoteFiles("skip")).toEqual(["a.csv", "b.csv"]);
});

test("a re-run of the date sends nothing it delivered before, replaces its own changed files, and leaves others' to the policy", async () => {
  const state = memoryStateStore();
  const first = { ...(await landed({ "a.csv": "a\n", "b.csv": "b\n" })), state };
  const options = { folder: `${sshd.root}/ledger` };
  expect((await run(options, first)).summary).toMatchObject({ sent: 2, unchanged: 0 });
  const sentAt = (await stat(path.join(sshd.root, "ledger/a.csv"))).mtimeMs;
  // Same content again: nothing goes over the wire, and overwrite: fail does not stop it.
  expect((await run(options, first)).summary).toMatchObject({ sent: 0, unchanged: 2 });
  expect((await stat(path.join(sshd.root, "ledger/a.csv"))).mtimeMs).toBe(sentAt);
  // The date's export changed: this step's own file is replaced, though the policy is fail.
  const changed = { ...(await landed({ "a.csv": "a, corrected\n", "b.csv": "b\n" })), state };
  expect((await run(options, changed)).summary).toMatchObject({ sent: 1, unchanged: 1 });
  expect(await readFile(path.join(sshd.root, "ledger/a.csv"), "utf8")).toBe("a, corrected\n");
  // A file the step did not write is the partner's: the policy applies.
  await sshd.put("ledger/c.csv", "partner's\n");
  const foreign = { ...(await landed({ "c.csv": "ours\n" })), state };
  await expect(run(options, foreign)).rejects.toMatchObject({ code: "SFTP_TARGET_EXISTS" });
  expect(await readFile(path.join(sshd.root, "ledger/c.csv"), "utf8")).toBe("partner's\n");
});

test("overwrite: replace swaps the file in place atomically, under the same name", async () => {
  await sshd.put("replace/a.csv", "old\n");
  const env = await landed({ "a.csv": "new contents\n" });
  const options = { folder: `${sshd.root}/replace`, overwrite: "replace" };
  expect((await run(options, env)).summary).toMatchObject({ sent: 1 });
  expect((await run(options, env)).summary).toMatchObject({ sent: 1 });
  expect(await remoteFiles("replace")).toEqual(["a.csv"]);
  expect(await readFile(path.join(sshd.root, "replace/a.csv"), "utf8")).toBe("new contents\n");
});

test("the size check: a file whose bytes differ from what was landed is not put in place", async () => {
  const env = await landed({ "a.csv": "0123456789\n" });
  // The landed file changed after its manifest was written (11 bytes listed, 4 there now).
  await writeFile(fileURLToPath(`${env.upstream.extract_orders!.summary.partition as string}/a.csv`), "abc\n");
  await sshd.folder("size");
  await expect(run({ folder: `${sshd.root}/size` }, env)).rejects.toMatchObject({ code: "SFTP_SIZE_MISMATCH" });
  expect(await remoteFiles("size")).toEqual([]);
});

test("a kill mid-transfer leaves nothing under the final name, and the re-run delivers the file exactly once", async () => {
  const total = 64 * 1024 * 1024;
  const chunk = 256 * 1024;
  const piece = (offset: number) => Buffer.alloc(chunk, offset / chunk);
  const env = await landed({ "huge.csv": "placeholder" });
  let pulled = 0;
  const controller = new AbortController();
  const reason = new Error("task killed");
  const cutLanding = folderLanding(dir.path("unused"), {
    async *read() {
      for (let offset = 0; offset < total; offset += chunk) {
        pulled += chunk;
        if (pulled === 8 * 1024 * 1024) controller.abort(reason);
        yield piece(offset);
      }
    },
  });
  const killable = { ...env, landing: { root: env.landing.root, store: { ...cutLanding.store, readText: env.landing.store.readText } } };
  // The manifest of the placeholder says 11 bytes; this test is about the rename, so let the size follow the body.
  const manifest = fileURLToPath(`${env.upstream.extract_orders!.summary.partition as string}/_manifest.json`);
  const text = JSON.parse(await readFile(manifest, "utf8")) as { files: { bytes: number }[] };
  text.files[0]!.bytes = total;
  await writeFile(manifest, JSON.stringify(text));

  const folder = `${sshd.root}/killed`;
  await expect(run({ folder, overwrite: "skip" }, killable, controller.signal)).rejects.toBe(reason);
  expect(pulled).toBeLessThan(total);
  expect(existsSync(path.join(sshd.root, "killed/huge.csv"))).toBe(false);

  pulled = -Infinity; // no abort this time
  expect((await run({ folder, overwrite: "skip" }, killable)).summary).toMatchObject({ sent: 1, skipped: 0 });
  expect((await run({ folder, overwrite: "skip" }, killable)).summary).toMatchObject({ sent: 0, skipped: 1 });
  expect(await remoteFiles("killed")).toEqual(["huge.csv"]); // the killed run's temporary is gone
  const delivered = await readFile(path.join(sshd.root, "killed/huge.csv"));
  const sent = Buffer.concat(Array.from({ length: total / chunk }, (_, i) => piece(i * chunk)));
  expect(delivered.length).toBe(total);
  expect(sha256(delivered)).toBe(sha256(sent));
});

test("`from:` delivers a landing folder; without `task` and with two partitions upstream it asks which", async () => {
  const landing = folderLanding(dir.path("landing-from"));
  const exportDir = dir.path("landing-from/exports/orders");
  await mkdir(path.join(exportDir, "sub"), { recursive: true });
  await writeFile(path.join(exportDir, "x.csv"), "x\n");
  await writeFile(path.join(exportDir, "sub/y.csv"), "y\n");
  await writeFile(path.join(exportDir, "_SUCCESS"), "");
  const result = await run({ folder: `${sshd.root}/from`, from: "exports/orders" }, { landing, upstream: {} });
  expect(result.summary).toMatchObject({ files: 2, sent: 2 });
  expect(await remoteFiles("from")).toEqual(["sub__y.csv", "x.csv"]);

  const a = await landed({ "a.csv": "a\n" });
  const other: TaskSummary = { ...a.upstream.extract_orders!, task: "extract_other", summary: { partition: `${a.landing.root}/stage/other` } };
  const both = { landing: a.landing, upstream: { ...a.upstream, extract_other: other } };
  await expect(run({ folder: `${sshd.root}/from2` }, both)).rejects.toMatchObject({ code: "XO_NOTHING_TO_DELIVER" });
  expect((await run({ folder: `${sshd.root}/from2`, task: "extract_orders" }, both)).summary).toMatchObject({ sent: 1 });
  await expect(run({ folder: `${sshd.root}/from3`, task: "nope" }, both)).rejects.toMatchObject({ code: "XO_NOTHING_TO_DELIVER" });
});

test("a folder the login may not write to fails with SFTP_PERMISSION_DENIED", async () => {
  const env = await landed({ "a.csv": "a\n" });
  await expect(run({ folder: "/root/not-yours" }, env)).rejects.toMatchObject({ code: "SFTP_PERMISSION_DENIED" });
});

test("names its destination by connection, folder and file name, for validation's check that no two steps deliver to one place", () => {
  const destination = (options: Record<string, unknown>, connection = "partner") => sftpUpload.destination?.({ options: uploadOptions.parse(options), connection });
  expect(destination({ folder: "incoming/./daily/", name: "orders_{ds}.csv" })).toBe("sftp://partner/incoming/daily/orders_{ds}.csv");
  expect(destination({ folder: "/incoming" })).toBe(destination({ folder: "incoming/", name: "{name}" }));
  expect(destination({ folder: "/incoming" }, "backup")).not.toBe(destination({ folder: "/incoming" }));
});
