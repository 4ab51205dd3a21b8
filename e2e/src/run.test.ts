/**
 * The demo pipeline end to end through the built CLI: the bundled sample API
 * (a loopback HTTP server; the only emulated part) -> file:// landing -> DuckDB.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { repo, sandbox, xo } from "./helpers.js";

interface SampleApi {
  url: string;
  close(): Promise<void>;
}

let api: SampleApi;
let project: Awaited<ReturnType<typeof sandbox>>;
const TOKEN = "e2e-secret-token-4f9a";
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const { startSampleApi } = (await import(path.join(repo, "examples/sample-api/server.mjs"))) as {
    startSampleApi(o: { token: string }): Promise<SampleApi>;
  };
  api = await startSampleApi({ token: TOKEN });
  project = await sandbox({}, { copyExamples: true });
  env = { XO_CONN_SAMPLE_SHOP: JSON.stringify({ host: api.url, password: TOKEN }) };
});

afterAll(async () => {
  await api?.close();
  await project?.remove();
});

async function tableCounts(): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(path.join(project.dir, ".xo-foundry/warehouse.duckdb"), { access_mode: "READ_ONLY" });
  const connection = await instance.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of ["customers", "orders"]) {
      const reader = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM main.${table}`);
      const [row] = reader.getRowObjects() as { n: number; ids: number }[];
      expect(row!.n).toBe(row!.ids); // never a duplicated id
      counts[table] = row!.n;
    }
    return counts;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const runShop = (date: string, extra: string[] = [], e: NodeJS.ProcessEnv = env) =>
  xo(["run", path.join(project.dir, "sample-shop.yaml"), "--date", date, ...extra], { env: e, cwd: project.dir });

describe("xo-foundry run on the sample shop", () => {
  it("loads every stream and reports streams, rows, files and time", async () => {
    const r = await runShop("2026-01-15");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ extract_customers\s+250 rows, 1 file\(s\) landed/);
    expect(r.stdout).toMatch(/customers\s+250\s+1\s+main\.customers\s+250/);
    expect(r.stdout).toMatch(/✔ sample_shop: 4 tasks succeeded in \d/);
    const counts = await tableCounts();
    expect(counts.customers).toBe(250);
    expect(counts.orders).toBeGreaterThan(0);
  });

  it("leaves the same rows when the same date runs again", async () => {
    const before = await tableCounts();
    const r = await runShop("2026-01-15", ["--json"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { ok: boolean; tasks: { task: string; state: string }[]; streams: { stream: string; rows: number }[] };
    expect(summary.ok).toBe(true);
    expect(summary.tasks.map((t) => `${t.task}:${t.state}`).sort()).toEqual([
      "extract_customers:success",
      "extract_orders:success",
      "load_customers:success",
      "load_orders:success",
    ]);
    expect(await tableCounts()).toEqual(before);
    // The stage partition holds one data file, not one per run.
    const stage = path.join(project.dir, ".xo-foundry/landing/stage/sample_shop/orders/incremental/date=2026-01-15");
    expect((await readdir(stage)).sort()).toEqual(["_SUCCESS", "_manifest.json", "part-00000.ndjson"]);
  });

  it("adds the next day's orders and merges customers by key", async () => {
    const before = await tableCounts();
    expect((await runShop("2026-01-16")).code).toBe(0);
    const after = await tableCounts();
    expect(after.customers).toBe(250);
    expect(after.orders).toBeGreaterThan(before.orders!);
  });

  it("runs single tasks as Airflow does and prints the manifest as the last line", async () => {
    const args = ["--logical-date", "2026-01-20", "--run-id", "manual__2026-01-20T00:00:00+00:00", "--project-dir", project.dir];
    const extract = await xo(["task", "sample-shop.yaml", "extract_orders", ...args], { env, cwd: repo });
    expect(extract.code).toBe(0);
    const manifest = JSON.parse(extract.stdout.trim().split("\n").pop()!) as { summary: { rows: number; partition: string }; files: { sha256: string }[] };
    expect(manifest.summary.partition).toContain("/stage/sample_shop/orders/incremental/date=2026-01-20");
    expect(manifest.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const load = await xo(["task", "sample-shop.yaml", "load_orders", ...args], { env, cwd: repo });
    expect(load.code).toBe(0);
    expect(JSON.parse(load.stdout.trim().split("\n").pop()!)).toMatchObject({
      task: "load_orders",
      state: "success",
      summary: { table: "main.orders", rowsLoaded: manifest.summary.rows },
    });
    // The raw files of this run are kept under its own run folder.
    const ingest = path.join(project.dir, ".xo-foundry/landing/ingest/sample_shop/orders/incremental/date=2026-01-20");
    expect(await readdir(ingest)).toEqual([expect.stringMatching(/^run=manual__2026-01-20T00_00_00_00_00-[0-9a-f]{8}$/)]);
  });

  it("refuses to load a date that was never extracted", async () => {
    const r = await xo(["task", "sample-shop.yaml", "load_orders", "--logical-date", "2025-12-31", "--run-id", "x", "--project-dir", project.dir], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error XO_MANIFEST_MISSING");
    expect(r.stderr).toContain("run the extract task for the same logical date first");
  });

  it("names a missing connection and how to set it", async () => {
    const r = await runShop("2026-01-17", [], { XO_CONN_SAMPLE_SHOP: "" });
    expect(r.code).toBe(1);
    // Checked before any task starts, and said once, not once per task.
    expect(r.stdout).not.toContain("extract_customers");
    expect(r.stderr.split('connection "sample_shop" is not defined').length - 1).toBe(1);
    expect(r.stderr).toContain("set XO_CONN_SAMPLE_SHOP");
  });

  it("fails clearly on wrong credentials without printing them", async () => {
    const wrong = "wrong-token-7c1e";
    const r = await runShop("2026-01-17", ["--verbose"], { XO_CONN_SAMPLE_SHOP: JSON.stringify({ host: api.url, password: wrong }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error XO_STEP_FAILED");
    expect(r.stderr).toContain("401");
    expect(r.stderr).toContain("XO_CONN_SAMPLE_SHOP");
    expect(`${r.stdout}${r.stderr}`).not.toContain(wrong);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
  });

  it("keeps what earlier runs landed and loaded when a run fails", async () => {
    const before = await tableCounts();
    await runShop("2026-01-15", [], { XO_CONN_SAMPLE_SHOP: JSON.stringify({ host: "http://127.0.0.1:9/v1", password: TOKEN }) });
    expect(await tableCounts()).toEqual(before);
    const stage = path.join(project.dir, ".xo-foundry/landing/stage/sample_shop/orders/incremental/date=2026-01-15");
    expect((await readdir(stage)).sort()).toEqual(["_SUCCESS", "_manifest.json", "part-00000.ndjson"]);
  });
});
