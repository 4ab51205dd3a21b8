/**
 * The `sftp` source and the `sftp.upload` and `sftp.archive` steps against the testkit's
 * contracts, on a real OpenSSH sshd. The stalled origin is a TCP server that accepts and
 * never sends the SSH banner, as a hung server does; the refusing one is the real sshd with
 * a wrong password.
 */
import { afterAll, beforeAll } from "vitest";
import { clearSecrets, type JsonObject } from "@xo-foundry/core";
import { describeSource, describeStep, ndjsonText, testdir, type SourceScenario, type TestDir } from "@xo-foundry/testkit";
import { sftp } from "./index.js";
import { folderLanding, landPartition, loadOf } from "./__fixtures__/landing.js";
import { startSilentServer, startSshd, type Sshd } from "./__fixtures__/sshd.js";

let sshd: Sshd;
let silent: Awaited<ReturnType<typeof startSilentServer>>;
let dir: TestDir;
beforeAll(async () => {
  sshd = await startSshd();
  silent = await startSilentServer();
  dir = await testdir();
});
afterAll(async () => {
  await sshd?.stop();
  await silent?.close();
  await dir?.remove();
  clearSecrets();
});

let folders = 0;

describeSource({
  plugin: sftp(),
  // The streams in the README.
  examples: [
    { options: {}, stream: { path: "/outgoing/orders", glob: "orders_*.csv.gz", format: "csv", modified: "window" } },
    { options: { retries: 5 }, stream: { path: "exports", glob: "**/*.ndjson", recursive: true, modified: "state", min_age_seconds: 300 } },
  ],
  async serve(records: readonly JsonObject[]): Promise<SourceScenario> {
    const folder = `contract-${++folders}`;
    const half = Math.ceil(records.length / 2);
    // Two files, so the listing and the order of files matter too.
    await sshd.put(`${folder}/part-0.ndjson`, ndjsonText(records.slice(0, half)));
    await sshd.put(`${folder}/part-1.ndjson`, ndjsonText(records.slice(half)));
    return { options: {}, stream: { path: folder, modified: "all" }, connection: sshd.connection() };
  },
  stall: () => ({ options: {}, stream: { path: "anything", modified: "all" }, connection: sshd.connection({ port: silent.port }) }),
  refuse: () => ({ options: {}, stream: { path: "anything", modified: "all" }, connection: sshd.connection({ password: "not-the-password" }) }),
});

let landings = 0;

describeStep({
  plugin: sftp(),
  step: "sftp.upload",
  // The steps in the README.
  examples: [
    { folder: "incoming/orders/{ds}", name: "orders_{ds_nodash}_{name}", overwrite: "skip" },
    { folder: "incoming/latest", overwrite: "replace", task: "extract_orders" },
  ],
  async environment() {
    const landing = folderLanding(dir.path(`landing-${++landings}`));
    const upstream = await landPartition(landing, { "part-00000.csv": "id\n1\n" });
    return { landing, upstream: { [upstream.task]: upstream }, connection: sshd.connection() };
  },
});

let drops = 0;

describeStep({
  plugin: sftp(),
  step: "sftp.archive",
  // The step in the README.
  examples: [{ folder: "archive/{ds}" }],
  async environment() {
    // A file the source found in the stream's folder and a load read, fresh for each run.
    const name = `orders_${++drops}.csv`;
    await sshd.put(`outgoing/orders/${name}`, "id\n1\n");
    const landing = folderLanding(dir.path(`landing-archive-${drops}`));
    const extract = await landPartition(landing, { [name]: "id\n1\n" }, "extract_orders", { [name]: { remote_path: `outgoing/orders/${name}`, size: 5 } });
    const load = loadOf(extract);
    return { landing, upstream: { extract_orders: extract, load_orders: load }, after: ["load_orders"], connection: sshd.connection() };
  },
});
