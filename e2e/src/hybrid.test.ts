/**
 * Plugin API 2 end to end, with the built CLI: a step type from a package that is not
 * part of xo-foundry, and the hybrid example (two sources, DuckDB, SQL after the loads,
 * a Monday-only copy to a second database) run on two dates, incrementally. The shop
 * API is the bundled loopback sample server (emulated SaaS); the CLI, the landing
 * folder, the CSV folder source and DuckDB are real.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { cliBin, pythonParseErrors, queryDuckDb, repo, sandbox, xo } from "./helpers.js";

const TOKEN = "hybrid-e2e-token";

interface SampleApi {
  url: string;
  close(): Promise<void>;
}

let api: SampleApi;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const { startSampleApi } = (await import(path.join(repo, "examples/sample-api/server.mjs"))) as {
    startSampleApi(o: { token: string }): Promise<SampleApi>;
  };
  api = await startSampleApi({ token: TOKEN });
  env = { XO_CONN_SAMPLE_SHOP: JSON.stringify({ host: api.url, password: TOKEN }) };
});
afterAll(() => api?.close());

/** Orders of the bundled sample data, by the rule the API filters with. */
async function ordersUpdatedBefore(iso: string): Promise<{ id: number; updated_at: string }[]> {
  const orders = JSON.parse(await readFile(path.join(repo, "examples/sample-api/data/orders.json"), "utf8")) as { id: number; updated_at: string }[];
  return orders.filter((o) => Date.parse(o.updated_at) < Date.parse(iso));
}

const query = queryDuckDb;

describe("a step type from a third-party package", () => {
  // A plugin as someone outside this repository would publish it: plain ESM, its own npm name.
  const PLUGIN = `import { z } from "zod";
export function notes() {
  return {
    kind: "xo-foundry/plugin",
    apiVersion: 2,
    name: "acme-xo-notes",
    version: "1.4.2",
    errors: { ACME_NOTE_TOO_LONG: "a note is at most 20 characters" },
    steps: [{
      id: "acme.note",
      description: "Writes a note and counts the rows its upstream tasks loaded.",
      options: z.object({ text: z.string(), shout: z.boolean().default(false) }),
      async run(ctx) {
        if (ctx.options.text.length > 20) throw Object.assign(new Error("note too long"), { code: "ACME_NOTE_TOO_LONG" });
        const loaded = Object.values(ctx.upstream).reduce((n, s) => n + (s.summary.rowsLoaded ?? 0), 0);
        const rows = await ctx.services.warehouse().query("select count(*) as customers from customers");
        return { summary: { note: ctx.options.shout ? ctx.options.text.toUpperCase() : ctx.options.text, loaded, ...rows[0] } };
      },
    }],
  };
}
`;
  const PIPELINE = (text: string, extra = "") => `pipeline:
  name: noted
  start_date: 2026-01-01
source:
  plugin: api
  connection: sample_shop
  auth: { type: bearer }
  streams:
    - name: customers
      path: customers
      record_path: data
      pagination: { type: offset }
      target: { table: customers, keys: [id] }
steps:
  - id: note_it
    uses: acme.note
    after: [load_customers]
    with: { text: ${JSON.stringify(text)}${extra} }
`;
  let project: Awaited<ReturnType<typeof sandbox>>;

  beforeAll(async () => {
    project = await sandbox({
      "package.json": JSON.stringify({
        name: "noted-project",
        private: true,
        dependencies: { "@xo-foundry/plugin-api": "*", "@xo-foundry/plugin-duckdb": "*", "@xo-foundry/template-ingest": "*", "acme-xo-notes": "1.4.2" },
      }),
      "node_modules/acme-xo-notes/package.json": JSON.stringify({
        name: "acme-xo-notes",
        version: "1.4.2",
        type: "module",
        exports: { ".": "./index.js", "./package.json": "./package.json" },
        "xo-foundry": { factory: "notes" },
      }),
      "node_modules/acme-xo-notes/index.js": PLUGIN,
      "noted.yaml": PIPELINE("hello"),
      "typo.yaml": PIPELINE("hello", ", shuot: true").replace("name: noted", "name: typo"),
    });
  });
  afterAll(() => project?.remove());

  it("is discovered from the project's package.json", async () => {
    const r = await xo(["plugins", "--json", "--project", project.dir]);
    expect(r.code).toBe(0);
    const { plugins } = JSON.parse(r.stdout) as { plugins: { name: string; steps: string[]; errors: Record<string, string> }[] };
    expect(plugins.find((p) => p.name === "acme-xo-notes")).toMatchObject({ steps: ["acme.note"], errors: { ACME_NOTE_TOO_LONG: expect.any(String) } });
  });

  it("has its options validated with file:line:col and a did-you-mean", async () => {
    expect((await xo(["validate-config", path.join(project.dir, "noted.yaml")])).code).toBe(0);
    const r = await xo(["validate-config", path.join(project.dir, "typo.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/typo\.yaml:18:\d+ error XO_CONFIG_UNKNOWN_KEY\n {2}steps\[0\]\.with\.shuot: unknown key "shuot"\n {2}hint: did you mean "shout"\?/);
  });

  it("is generated into the DAG as a task that may skip, and Python parses it", async () => {
    const out = path.join(project.dir, "dags");
    const r = await xo(["generate-dag", path.join(project.dir, "noted.yaml"), "-o", out]);
    expect(r.code).toBe(0);
    const text = await readFile(path.join(out, "noted.py"), "utf8");
    expect(text).toContain("# plugins: @xo-foundry/plugin-api 0.1.0, @xo-foundry/plugin-duckdb 0.1.0, @xo-foundry/template-ingest 0.1.0, acme-xo-notes 1.4.2");
    expect(text).toMatch(/note_it = BashOperator\(\n\s+task_id="note_it",[\s\S]*?skip_on_exit_code=99,/);
    expect(text).toContain("load_customers >> note_it");
    expect(await pythonParseErrors([path.join(out, "noted.py")])).toEqual({});
  });

  it("runs after its upstream task, with the warehouse of the pipeline's sink", async () => {
    const r = await xo(["run", "noted.yaml", "--date", "2026-01-15", "--json"], { cwd: project.dir, env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { tasks: { task: string; state: string; outcome?: { summary: Record<string, unknown> } }[] };
    expect(summary.tasks.map((t) => [t.task, t.state])).toEqual([
      ["extract_customers", "success"],
      ["load_customers", "success"],
      ["note_it", "success"],
    ]);
    expect(summary.tasks[2]!.outcome!.summary).toEqual({ note: "hello", loaded: 250, customers: 250 });
  });

  it("keeps its own error code when it fails", async () => {
    await writeFile(path.join(project.dir, "long.yaml"), PIPELINE("this note is far too long for acme").replace("name: noted", "name: long_note"));
    const r = await xo(["run", "long.yaml", "--date", "2026-01-15"], { cwd: project.dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error ACME_NOTE_TOO_LONG");
    expect(r.stderr).toContain('task "note_it" failed in acme-xo-notes@1.4.2 (run): note too long');
    expect(r.stderr).toContain("hint: a note is at most 20 characters");
  });
});

describe("the hybrid example on the embedded defaults", () => {
  let project: Awaited<ReturnType<typeof sandbox>>;
  const warehouse = () => path.join(project.dir, ".xo-foundry/shop-daily.duckdb");
  const archive = () => path.join(project.dir, ".xo-foundry/archive.duckdb");
  const runDaily = (date: string) => xo(["run", "shop-daily.yaml", "--date", date, "--json"], { cwd: project.dir, env });
  const states = (stdout: string) =>
    Object.fromEntries((JSON.parse(stdout) as { tasks: { task: string; state: string }[] }).tasks.map((t) => [t.task, t.state]));
  const savedCursor = async () =>
    (JSON.parse(await readFile(path.join(project.dir, ".xo-foundry/landing/state/shop_daily/shop_orders.json"), "utf8")) as { value: { cursor: string } }).value.cursor;

  beforeAll(async () => {
    project = await sandbox({}, { copyExamples: true });
  });
  afterAll(() => project?.remove());

  it("skips the Monday copy on a Thursday and runs everything else", async () => {
    const r = await runDaily("2026-01-15");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(states(r.stdout)).toEqual({
      "rates.extract_fx_rates": "success",
      "rates.load_fx_rates": "success",
      "shop.extract_shop_orders": "success",
      "shop.load_shop_orders": "success",
      revenue_eur: "success",
      archive_orders: "skipped",
    });
    const expected = await ordersUpdatedBefore("2026-01-16T00:00:00Z");
    const [counts] = await query(
      warehouse(),
      "select (select count(*) from shop_orders)::INTEGER as orders, (select count(distinct id) from shop_orders)::INTEGER as ids, (select count(*) from fx_rates)::INTEGER as rates, (select sum(orders) from revenue_eur)::INTEGER as revenue_orders",
    );
    expect(counts).toEqual({ orders: expected.length, ids: expected.length, rates: 12, revenue_orders: expected.length });
    expect(await savedCursor()).toBe(expected.map((o) => o.updated_at).sort().pop());
  });

  it("fetches only what changed since the saved cursor, and copies on a Monday", async () => {
    const before = await savedCursor();
    const r = await runDaily("2026-01-19");
    expect(r.code).toBe(0);
    expect(states(r.stdout)).toMatchObject({ revenue_eur: "success", archive_orders: "success" });
    const newer = (await ordersUpdatedBefore("2026-01-20T00:00:00Z")).filter((o) => o.updated_at >= before);
    const extract = (JSON.parse(r.stdout) as { tasks: { task: string; outcome?: { summary: { rows?: number } } }[] }).tasks.find(
      (t) => t.task === "shop.extract_shop_orders",
    )!;
    // The API filters `updated_at >= cursor`: the order at the cursor comes again, the merge keeps it once.
    expect(extract.outcome!.summary.rows).toBe(newer.length);
    const all = await ordersUpdatedBefore("2026-01-20T00:00:00Z");
    const [counts] = await query(warehouse(), "select count(*)::INTEGER as orders, count(distinct id)::INTEGER as ids from shop_orders");
    expect(counts).toEqual({ orders: all.length, ids: all.length });
    const [copied] = await query(archive(), "select count(*)::INTEGER as orders from shop_orders");
    expect(copied).toEqual({ orders: newer.length });
  });

  it("keeps the cursor where it was when a run dies between extract and load, and loses nothing", async () => {
    const cursor = await savedCursor();
    const args = (task: string, date: string) => ["task", "shop-daily.yaml", task, "--logical-date", date, "--run-id", `killed__${date}`, "--project-dir", project.dir];
    // The run of the 21st lands its orders...
    expect((await xo(args("shop.extract_shop_orders", "2026-01-21"), { env })).code).toBe(0);
    // ...and its load is killed with SIGKILL as it starts.
    const load = spawn(process.execPath, [cliBin, ...args("shop.load_shop_orders", "2026-01-21")], { env: { ...process.env, ...env }, stdio: "ignore" });
    setTimeout(() => load.kill("SIGKILL"), 50);
    await new Promise((resolve) => load.on("close", resolve));
    const after = await savedCursor();
    // Either the load died before saving (cursor unchanged) or it finished first; never anything else.
    const latest = (await ordersUpdatedBefore("2026-01-22T00:00:00Z")).map((o) => o.updated_at).sort().pop()!;
    expect([cursor, latest]).toContain(after);

    // The next day starts from the saved cursor: nothing of the 20th and 21st is lost, nothing doubled.
    const r = await runDaily("2026-01-22");
    expect(r.code).toBe(0);
    const all = await ordersUpdatedBefore("2026-01-23T00:00:00Z");
    const [counts] = await query(warehouse(), "select count(*)::INTEGER as orders, count(distinct id)::INTEGER as ids from shop_orders");
    expect(counts).toEqual({ orders: all.length, ids: all.length });
  });

  it("shows and resets the saved state", async () => {
    const show = await xo(["state", "show", "shop-daily.yaml", "--json"], { cwd: project.dir });
    expect(show.code).toBe(0);
    const shown = JSON.parse(show.stdout) as { states: Record<string, { value: { cursor: string } } | null> };
    expect(shown.states.shop_orders!.value.cursor).toBe(await savedCursor());
    expect(shown.states.fx_rates).toBeNull();
    expect((await xo(["state", "set", "shop-daily.yaml", "shop_orders", '{"cursor": "2026-01-10T00:00:00Z"}'], { cwd: project.dir })).code).toBe(0);
    expect(await savedCursor()).toBe("2026-01-10T00:00:00Z");
    const bad = await xo(["state", "set", "shop-daily.yaml", "shop_orders", "[1]"], { cwd: project.dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error XO_STATE_INVALID");
    expect((await xo(["state", "reset", "shop-daily.yaml", "shop_orders"], { cwd: project.dir })).code).toBe(0);
    const again = JSON.parse((await xo(["state", "show", "shop-daily.yaml", "shop_orders", "--json"], { cwd: project.dir })).stdout) as {
      states: Record<string, unknown>;
    };
    expect(again.states).toEqual({ shop_orders: null });
  });
});
