/**
 * The fault-injection suite: the built CLI (`xo-foundry run` and `xo-foundry task`)
 * against an API that misbehaves, processes killed with SIGKILL at each stage, two
 * runs of one pipeline and date at once, a read-only and a full landing folder.
 * Every scenario ends with exact counts: the rows in DuckDB for the day equal the
 * records the API served for that window, with no duplicate id; where a run had to
 * stop, its message names the code, the task and the file or URL, without a stack.
 *
 * Real: the CLI and runtime, the API plugin's axios client on loopback sockets, the
 * file:// landing zone on this machine's disk (tmpfs mounts for the read-only and
 * full-disk cases, where the machine allows them), the AWS SDK against moto_server's
 * S3 API, DuckDB.
 * Emulated: the REST API (./__fixtures__/fault-api.ts, faults chosen by a seeded hash
 * of each request), and the S3 service (moto), reached through a loopback proxy that
 * holds one chosen request to stop the CLI inside a stage.
 *
 * How each kill is placed, without any hook in the product:
 *  - extract: the API holds the response for a page in the middle of the day; the CLI
 *    waits on it with its part file open, and is killed there (deterministic).
 *  - publish, load, state write: the landing zone is S3 behind the holding proxy, which
 *    holds the first S3 call of that stage (PUT of the stage's `_manifest.json`; HEAD of
 *    the staged part, the load's first call; PUT of the stream's state). The CLI is
 *    killed while it waits on that call (deterministic, at S3-call granularity). A kill
 *    in the middle of DuckDB's own write cannot be placed this way and is not claimed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { startMoto, type Moto } from "../../plugins/s3/src/__fixtures__/moto.js";
import { FAULT_KINDS, startFaultApi, type FaultApi, type FaultKind } from "./__fixtures__/fault-api.js";
import { startHoldingProxy, type HoldingProxy } from "./__fixtures__/holding-proxy.js";
import { cliBin, sandbox, type CliResult } from "./helpers.js";

const SEED = 20260801;
/** A quarter of all requests misbehave. */
const RATE = 0.25;
const BUCKET = "xo-faults";

let api: FaultApi;
let moto: Moto;
let proxy: HoldingProxy;
let project: Awaited<ReturnType<typeof sandbox>>;
let env: NodeJS.ProcessEnv;
const mounts: string[] = [];
const tally = { scenarios: 0, expected: 0, found: 0, duplicates: 0 };
const skipped: string[] = [];

/** Whether this machine lets us mount a tmpfs (root in a container that allows it); probed once. */
const canMount = (() => {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  const probe = path.join(process.env.TMPDIR ?? "/tmp", `xo-faults-mount-probe-${process.pid}`);
  spawnSync("mkdir", ["-p", probe]);
  const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]).status === 0;
  if (ok) spawnSync("umount", [probe]);
  spawnSync("rmdir", [probe]);
  return ok;
})();

const pipelineYaml = (name: string, landing: string, o: { n?: number; pad?: number; landingConnection?: string } = {}) => `pipeline:
  name: ${name}
  start_date: 2026-01-01
  load_strategy: incremental
source:
  plugin: api
  connection: fault_api
  timeout_ms: 5000
  max_retries: 6
  backoff_ms: 5
  page_size: 100
  streams:
    - name: events
      path: v1/events
      params: { day: "{logical_date}", since: "{cursor}", n: ${o.n ?? 1000}, pad: ${o.pad ?? 0} }
      record_path: data
      pagination: { type: offset }
      incremental: { cursor_field: updated_at, initial_value: "2026-01-01T00:00:00Z" }
      target: { table: events, keys: [id] }
sink:
  plugin: duckdb
  database: .xo-foundry/${name}.duckdb
landing:
  uri: ${landing}
${o.landingConnection ? `  connection: ${o.landingConnection}\n` : ""}`;

beforeAll(async () => {
  [api, moto] = await Promise.all([startFaultApi({ seed: SEED, rate: RATE }), startMoto()]);
  await moto.createBucket(BUCKET);
  proxy = await startHoldingProxy(moto.endpoint);
  project = await sandbox({
    "package.json": JSON.stringify({
      name: "faults",
      private: true,
      dependencies: { "@xo-foundry/plugin-api": "*", "@xo-foundry/plugin-duckdb": "*", "@xo-foundry/plugin-s3": "*", "@xo-foundry/template-ingest": "*" },
    }),
    "faults_api.yaml": pipelineYaml("faults_api", "file://landing-file", { n: 5000 }),
    "faults_file.yaml": pipelineYaml("faults_file", "file://landing-file"),
    "faults_s3.yaml": pipelineYaml("faults_s3", `s3://${BUCKET}/lz`, { landingConnection: "aws_faults" }),
    "faults_ro.yaml": pipelineYaml("faults_ro", "file://landing-ro"),
    "faults_full.yaml": pipelineYaml("faults_full", "file://landing-full", { n: 3000, pad: 1000 }),
  });
  const aws = moto.connection("aws_faults");
  env = {
    XO_CONN_FAULT_API: JSON.stringify({ host: api.url }),
    XO_CONN_AWS_FAULTS: JSON.stringify({ ...aws, conn_type: "aws", extra: { ...aws.extra, endpoint_url: proxy.url } }),
  };
});

afterAll(async () => {
  for (const dir of mounts) spawnSync("umount", ["-l", dir]);
  await Promise.all([api?.close(), proxy?.close()]);
  await moto?.stop();
  await project?.remove();
  const rest = skipped.length ? `; skipped: ${skipped.join("; ")}` : "";
  console.log(`faults: ${tally.scenarios} scenarios, rows expected ${tally.expected} = found ${tally.found}, duplicates ${tally.duplicates}${rest}`);
});

// ---------------------------------------------------------------- helpers

interface Running {
  readonly pid: number;
  readonly result: Promise<CliResult>;
  kill(): Promise<CliResult>;
}

/** Starts the built CLI in the project; `kill()` sends SIGKILL and waits for the exit. */
function startCli(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [cliBin, ...args], {
    cwd: project.dir,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env, ...extra },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal === "SIGKILL" ? 137 : -1), stdout, stderr }));
  });
  return {
    pid: child.pid!,
    result,
    async kill() {
      child.kill("SIGKILL");
      return result;
    },
  };
}

const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}) => startCli(args, extra).result;
const runCmd = (pipeline: string, day: string, extra: NodeJS.ProcessEnv = {}) => cli(["run", `${pipeline}.yaml`, "--date", day], extra);
const taskArgs = (pipeline: string, task: string, day: string, runId: string) => ["task", `${pipeline}.yaml`, task, "--logical-date", day, "--run-id", runId, "--project-dir", project.dir];
const taskCmd = (pipeline: string, task: string, day: string, runId: string, extra: NodeJS.ProcessEnv = {}) => cli(taskArgs(pipeline, task, day, runId), extra);

function expectOk(r: CliResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}

/** A user-facing failure: a code, the given details, and never a stack trace. */
function expectClearFailure(r: CliResult, code: string, ...details: (string | RegExp)[]): void {
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`error ${code}`);
  for (const d of details) expect(r.stderr).toMatch(d);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(r.stderr).not.toContain("internal error");
}

async function query<T>(pipeline: string, sql: string): Promise<T[]> {
  const file = path.join(project.dir, `.xo-foundry/${pipeline}.duckdb`);
  if (!existsSync(file)) return [];
  const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" });
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as T[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function dayCounts(pipeline: string, day: string): Promise<{ rows: number; ids: number }> {
  const [row] = await query<{ rows: number; ids: number }>(
    pipeline,
    `select count(*)::INTEGER as rows, count(distinct id)::INTEGER as ids from events where starts_with(id, '${day}-')`,
  ).catch((e: Error) => (/does not exist/.test(e.message) ? [] : Promise.reject(e)));
  return row ?? { rows: 0, ids: 0 };
}

/** The scenario's end: every record the API served for the day is in DuckDB, once. */
async function expectExact(pipeline: string, day: string, n: number): Promise<void> {
  const { rows, ids } = await dayCounts(pipeline, day);
  const [all] = await query<{ dups: number }>(pipeline, "select (count(*) - count(distinct id))::INTEGER as dups from events");
  tally.scenarios++;
  tally.expected += n;
  tally.found += rows;
  tally.duplicates += all!.dups;
  expect(api.served(day).size).toBe(n);
  expect({ rows, ids, duplicatesInTable: all!.dups }).toEqual({ rows: n, ids: n, duplicatesInTable: 0 });
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  await walk(dir);
  return out.sort();
}

const partition = (day: string) => `events/incremental/date=${day}`;
const isTemporary = (f: string) => /\.[0-9a-f-]{36}\.tmp$/.test(f);

async function s3Keys(prefix: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const client = moto.client();
  try {
    const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
  } finally {
    client.destroy();
  }
}

async function savedCursor(pipeline: string, store: "file" | "s3"): Promise<string | undefined> {
  let text: string | undefined;
  if (store === "file") {
    text = await readFile(path.join(project.dir, "landing-file/state", pipeline, "events.json"), "utf8").catch(() => undefined);
  } else {
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const client = moto.client();
    try {
      text = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `lz/state/${pipeline}/events.json` }))).Body!.transformToString();
    } catch {
      text = undefined;
    } finally {
      client.destroy();
    }
  }
  return text === undefined ? undefined : (JSON.parse(text) as { value: { cursor: string } }).value.cursor;
}

const lastOfDay = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + (n - 1) * Math.floor(86_400_000 / n)).toISOString();

// ---------------------------------------------------------------- scenarios

describe("an API that fails a quarter of its requests", () => {
  // 5,000 records in 51 pages: enough requests for every kind of fault to occur.
  it("loads every record exactly once: 5xx, 429, resets, truncated and slow bodies are all retried", async () => {
    const day = "2026-02-01";
    const before = { ...api.faults };
    expectOk(await runCmd("faults_api", day), "run");
    const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, api.faults[k] - before[k]])) as Record<FaultKind, number>;
    // The seed makes these the same on every run; each kind happened at least once in this extract.
    for (const kind of FAULT_KINDS) expect(injected[kind], kind).toBeGreaterThan(0);
    await expectExact("faults_api", day, 5000);
  });
});

describe("kill -9 during the extract (file:// landing)", () => {
  it("of `xo-foundry run`: the re-run takes the dead run's lock at once and replaces its half-written files", async () => {
    const day = "2026-02-02";
    const held = api.hold((q) => q.day === day && q.offset === 500);
    const run = startCli(["run", "faults_file.yaml", "--date", day]);
    await held;
    // Stage: extract. The request for records 500-599 is held; records 0-499 are in the open temporary part file.
    const killed = await run.kill();
    expect(killed.code).toBe(137);
    const ingest = path.join(project.dir, "landing-file/ingest/faults_file", partition(day));
    expect((await files(ingest)).filter(isTemporary)).toHaveLength(1);
    const locks = path.join(project.dir, "landing-file/locks/faults_file", partition(day));
    const [lock] = await files(locks);
    expect(JSON.parse(await readFile(path.join(locks, lock!), "utf8"))).toMatchObject({ pid: run.pid, runId: `local__${day}`, task: "extract_events" });

    const started = Date.now();
    expectOk(await runCmd("faults_file", day), "re-run");
    // The dead holder was seen as dead: no wait for its lock to expire (120 s).
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await files(ingest)).filter(isTemporary)).toEqual([]);
    await expectExact("faults_file", day, 1000);
  });

  it("of `xo-foundry task`: another run of the date takes over and removes the killed run's temporaries", async () => {
    const day = "2026-02-03";
    const held = api.hold((q) => q.day === day && q.offset === 300);
    const task = startCli(taskArgs("faults_file", "extract_events", day, `scheduled__${day}`));
    await held;
    // Stage: extract, records 0-299 written to the temporary part file, the next page held.
    expect((await task.kill()).code).toBe(137);
    const ingest = path.join(project.dir, "landing-file/ingest/faults_file", partition(day));
    expect((await files(ingest)).filter(isTemporary).map((f) => f.split("/")[0])).toEqual([`run=scheduled__${day}`]);

    // A manual run of the same date (another run id, as Airflow names it) publishes the partition.
    expectOk(await taskCmd("faults_file", "extract_events", day, `manual__${day}`), "extract of the manual run");
    expect((await files(ingest)).filter(isTemporary)).toEqual([]);
    expect(await files(ingest)).toEqual([`run=manual__${day}/part-00000.ndjson`]);
    expectOk(await taskCmd("faults_file", "load_events", day, `manual__${day}`), "load of the manual run");
    await expectExact("faults_file", day, 1000);
  });

  it("of a task on a worker that is gone: its Airflow retry waits for the lock to expire, then takes it over", async () => {
    const day = "2026-02-04";
    const ttl = { XO_LOCK_TTL_SECONDS: "2" };
    const held = api.hold((q) => q.day === day && q.offset === 200);
    const task = startCli(taskArgs("faults_file", "extract_events", day, `scheduled__${day}`), ttl);
    await held;
    expect((await task.kill()).code).toBe(137);
    // Emulated: the killed attempt ran in another pod, so this machine cannot see that its pid is gone.
    const locks = path.join(project.dir, "landing-file/locks/faults_file", partition(day));
    const [lock] = await files(locks);
    const record = JSON.parse(await readFile(path.join(locks, lock!), "utf8")) as Record<string, unknown>;
    await writeFile(path.join(locks, lock!), JSON.stringify({ ...record, host: "airflow-worker-2" }));

    const retry = await taskCmd("faults_file", "extract_events", day, `scheduled__${day}`, ttl);
    expectOk(retry, "retry");
    expect(retry.stderr).toMatch(/waiting up to 32 s for stream "events" partition incremental\/date=2026-02-04, in use by run "scheduled__2026-02-04" \(task "extract_events", pid \d+ on airflow-worker-2/);
    expect(retry.stderr).toMatch(/taking over the lock of run "scheduled__2026-02-04" \(task "extract_events", pid \d+ on airflow-worker-2\): its heartbeat stopped at /);
    expectOk(await taskCmd("faults_file", "load_events", day, `scheduled__${day}`), "load");
    await expectExact("faults_file", day, 1000);
  });
});

describe("two runs of one pipeline and date at once", () => {
  it("the second waits for the first one's partition instead of deleting its files; both succeed", async () => {
    const day = "2026-02-05";
    const held = await (async () => {
      const h = api.hold((q) => q.day === day && q.offset === 300);
      const first = startCli(["run", "faults_file.yaml", "--date", day]);
      return { first, request: await h };
    })();
    const second = startCli(["run", "faults_file.yaml", "--date", day]);
    const asked = api.requests(day);
    await new Promise((r) => setTimeout(r, 1_500));
    // The second run is waiting for the lock: it has not asked the API for anything.
    expect(api.requests(day)).toBe(asked);
    held.request.release();
    const [a, b] = await Promise.all([held.first.result, second.result]);
    expectOk(a, "first run");
    expectOk(b, "second run");
    await expectExact("faults_file", day, 1000);
  });

  it("a second run that may not wait stops with a message naming the holder and the lock to clear", async () => {
    const day = "2026-02-06";
    const h = api.hold((q) => q.day === day && q.offset === 300);
    const first = startCli(["run", "faults_file.yaml", "--date", day]);
    const request = await h;
    const second = await runCmd("faults_file", day, { XO_LOCK_WAIT_SECONDS: "0" });
    expectClearFailure(
      second,
      "XO_LANDING_LOCKED",
      `task "extract_events" of run "local__${day}" cannot start: stream "events" partition incremental/date=${day} is in use by run "local__${day}" (task "extract_events", pid ${first.pid} on `,
      `delete file://${path.join(project.dir, "landing-file/locks/faults_file", partition(day))}`,
    );
    expect(second.stdout).toMatch(/extract_events\s+failed/);
    request.release();
    expectOk(await first.result, "first run");
    await expectExact("faults_file", day, 1000);
  });
});

describe("an API page that keeps failing", () => {
  it("stops the run with the URL, the task and the code, publishes nothing, keeps the cursor; the next run loads all", async () => {
    const day = "2026-02-07";
    const cursor = await savedCursor("faults_file", "file");
    api.breakPages((q) => q.day === day && q.offset === 300);
    const r = await runCmd("faults_file", day);
    expectClearFailure(
      r,
      "XO_STEP_FAILED",
      /task "extract_events" failed in @xo-foundry\/plugin-api@[\d.]+ \(extract\): GET http:\/\/127\.0\.0\.1:\d+\/v1\/events\?day=2026-02-07&.*offset=300.* failed with HTTP 503 Service Unavailable \(7 attempts\)/,
    );
    expect(await files(path.join(project.dir, "landing-file/stage/faults_file", partition(day)))).toEqual([]);
    expect(await savedCursor("faults_file", "file")).toBe(cursor);
    api.heal();
    expectOk(await runCmd("faults_file", day), "run after the API recovered");
    expect(await savedCursor("faults_file", "file")).toBe(lastOfDay(day, 1000));
    await expectExact("faults_file", day, 1000);
  });
});

describe("kill -9 in the later stages (s3:// landing behind a holding proxy)", () => {
  const stageKey = (day: string) => `/${BUCKET}/lz/stage/faults_s3/${partition(day)}/`;
  const atPublish = (day: string) => proxy.hold((c) => c.method === "PUT" && c.path === `${stageKey(day)}_manifest.json`);
  const atLoad = (day: string) => proxy.hold((c) => c.method === "HEAD" && c.path.startsWith(stageKey(day)) && c.path.endsWith(".ndjson"));
  const atStateWrite = () => proxy.hold((c) => c.method === "PUT" && c.path === `/${BUCKET}/lz/state/faults_s3/events.json`);
  const staged = (day: string) => s3Keys(`lz/stage/faults_s3/${partition(day)}/`);

  it("publish, `xo-foundry run`: the stage partition is left without manifest or marker; the re-run publishes and loads it", async () => {
    const day = "2026-02-10";
    const held = atPublish(day);
    const run = startCli(["run", "faults_s3.yaml", "--date", day]);
    await held;
    // Stage: publish, after the part was copied to the stage and before its manifest and _SUCCESS.
    await run.kill();
    expect(await staged(day)).toEqual(["part-00000.ndjson"]);
    expectOk(await runCmd("faults_s3", day), "re-run");
    expect(await staged(day)).toEqual(["_SUCCESS", "_manifest.json", "part-00000.ndjson"]);
    await expectExact("faults_s3", day, 1000);
  });

  it("publish, `xo-foundry task`: the retry of the extract and then the load finish the run", async () => {
    const day = "2026-02-11";
    const held = atPublish(day);
    const task = startCli(taskArgs("faults_s3", "extract_events", day, `scheduled__${day}`));
    await held;
    await task.kill();
    expect(await staged(day)).toEqual(["part-00000.ndjson"]);
    expectOk(await taskCmd("faults_s3", "extract_events", day, `scheduled__${day}`), "retry of the extract");
    expectOk(await taskCmd("faults_s3", "load_events", day, `scheduled__${day}`), "load");
    await expectExact("faults_s3", day, 1000);
  });

  it("load, `xo-foundry run`: nothing reached DuckDB; the re-run loads the day once", async () => {
    const day = "2026-02-12";
    const held = atLoad(day);
    const run = startCli(["run", "faults_s3.yaml", "--date", day]);
    await held;
    // Stage: load, fetching the staged file; DuckDB is not written yet.
    await run.kill();
    expect(await staged(day)).toContain("_SUCCESS");
    expect(await dayCounts("faults_s3", day)).toEqual({ rows: 0, ids: 0 });
    expectOk(await runCmd("faults_s3", day), "re-run");
    await expectExact("faults_s3", day, 1000);
  });

  it("load, `xo-foundry task`: the retry of the load loads the day once", async () => {
    const day = "2026-02-13";
    expectOk(await taskCmd("faults_s3", "extract_events", day, `scheduled__${day}`), "extract");
    const held = atLoad(day);
    const task = startCli(taskArgs("faults_s3", "load_events", day, `scheduled__${day}`));
    await held;
    await task.kill();
    expect(await dayCounts("faults_s3", day)).toEqual({ rows: 0, ids: 0 });
    expectOk(await taskCmd("faults_s3", "load_events", day, `scheduled__${day}`), "retry of the load");
    await expectExact("faults_s3", day, 1000);
  });

  it("state write, `xo-foundry run`: rows are loaded but the cursor did not move; the re-run reads again and merges", async () => {
    const day = "2026-02-14";
    const cursor = await savedCursor("faults_s3", "s3");
    const held = atStateWrite();
    const run = startCli(["run", "faults_s3.yaml", "--date", day]);
    await held;
    // Stage: state write, after DuckDB committed the load.
    await run.kill();
    expect(await dayCounts("faults_s3", day)).toEqual({ rows: 1000, ids: 1000 });
    expect(await savedCursor("faults_s3", "s3")).toBe(cursor);
    expectOk(await runCmd("faults_s3", day), "re-run");
    expect(await savedCursor("faults_s3", "s3")).toBe(lastOfDay(day, 1000));
    await expectExact("faults_s3", day, 1000);
  });

  it("state write, `xo-foundry task`: the retry of the load saves the cursor, without duplicates", async () => {
    const day = "2026-02-15";
    expectOk(await taskCmd("faults_s3", "extract_events", day, `scheduled__${day}`), "extract");
    const held = atStateWrite();
    const task = startCli(taskArgs("faults_s3", "load_events", day, `scheduled__${day}`));
    await held;
    await task.kill();
    expect(await savedCursor("faults_s3", "s3")).toBe(lastOfDay("2026-02-14", 1000));
    expectOk(await taskCmd("faults_s3", "load_events", day, `scheduled__${day}`), "retry of the load");
    expect(await savedCursor("faults_s3", "s3")).toBe(lastOfDay(day, 1000));
    await expectExact("faults_s3", day, 1000);
  });
});

describe("a landing folder that refuses writes", () => {
  const mount = async (dir: string, options: string) => {
    await mkdir(dir, { recursive: true });
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
    mounts.push(dir);
  };
  const remount = (dir: string, options: string) => {
    const r = spawnSync("mount", ["-o", `remount,${options}`, dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`remount failed: ${r.stderr}`);
  };
  // As root (how these tests run here) chmod stops no write, so the read-only case needs a
  // tmpfs remounted read-only, where the kernel refuses every write (EROFS). A user that may
  // not mount is not root, and there a folder without write permission really refuses (EACCES).
  const readOnly = canMount ? "mount" : process.getuid?.() !== 0 ? "chmod" : undefined;
  if (!readOnly) skipped.push("read-only landing (running as root, where chmod stops nothing, and mounting is not permitted)");
  if (!canMount) skipped.push("full landing folder (mounting a small tmpfs is not permitted on this machine)");

  // CI runs every scenario: there a machine that cannot run one fails the suite instead of skipping it.
  it.skipIf(!readOnly && !process.env.CI)("read-only: the run stops at its first write with the folder and the fix; once writable, the run loads all", async () => {
    expect(readOnly, "this machine can neither mount a tmpfs nor refuse writes with chmod").toBeDefined();
    const day = "2026-02-20";
    const dir = path.join(project.dir, "landing-ro");
    if (readOnly === "mount") {
      await mount(dir, "size=8m");
      remount(dir, "ro");
    } else {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o555);
    }
    const r = await runCmd("faults_ro", day);
    const [reason, fix] = readOnly === "mount" ? ["the file system is read-only (EROFS)", "mount it read-write"] : ["permission denied (EACCES)", "permissions"];
    expectClearFailure(r, "XO_LANDING_WRITE_FAILED", `cannot write ${dir}/locks/faults_ro/events/incremental`, reason, fix);
    expect(r.stdout).toMatch(/extract_events\s+failed/);
    if (readOnly === "mount") remount(dir, "rw");
    else await chmod(dir, 0o755);
    expectOk(await runCmd("faults_ro", day), "run on the writable folder");
    await expectExact("faults_ro", day, 1000);
  });

  // A 2 MiB tmpfs: the day's 3,000 padded records (about 3 MiB) do not fit.
  it.skipIf(!canMount && !process.env.CI)("full: the extract stops with ENOSPC naming the part file, keeps no partial file; with room, the run loads all", async () => {
    expect(canMount, "mounting a small tmpfs is not permitted on this machine").toBe(true);
    const day = "2026-02-21";
    const dir = path.join(project.dir, "landing-full");
    await mount(dir, "size=2m");
    const r = await runCmd("faults_full", day);
    expectClearFailure(
      r,
      "XO_LANDING_WRITE_FAILED",
      `cannot write ${dir}/ingest/faults_full/${partition(day)}/run=local__${day}/part-00000.ndjson in the landing zone: no space left on the device (ENOSPC)`,
      "free space on the landing volume",
    );
    const left = await files(dir);
    expect(left.filter(isTemporary)).toEqual([]);
    expect(left.filter((f) => f.startsWith("stage/"))).toEqual([]);
    remount(dir, "size=16m");
    expectOk(await runCmd("faults_full", day), "run with room");
    await expectExact("faults_full", day, 3000);
  });
});
