import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { request } from "node:http";
import { mkdir, readFile, readdir, symlink, utimes, writeFile } from "node:fs/promises";
import { z } from "zod";
import { definePlugin } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { captureOutput } from "../__fixtures__/output.js";
import { pipelineYaml, testPlugins } from "../__fixtures__/plugins.js";
import { main } from "../index.js";
import { startUiServer, type UiServer } from "./server.js";

// Projects get the test plugins instead of discovering installed packages (see generate.test.ts).
// Real: the HTTP server on 127.0.0.1, the files it writes, the runtime that runs the pipeline.
const injected = vi.hoisted(() => ({ plugins: [] as unknown[] }));
vi.mock("@xo-foundry/core", async (importOriginal) => {
  const core = await importOriginal<typeof import("@xo-foundry/core")>();
  return { ...core, openProject: (start: string) => core.openProject(start, { discover: false, plugins: injected.plugins }) };
});
beforeAll(() => {
  injected.plugins = testPlugins;
});

let dir: TestDir;
let server: UiServer | undefined;
captureOutput();
afterEach(async () => {
  await server?.close();
  server = undefined;
  await dir?.remove();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/** A raw HTTP call, so a test can send any Host and Origin a browser or an attacker would. */
function call(s: UiServer, method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {}): Promise<Answer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { Host: `127.0.0.1:${s.port}`, ...(body ? { "Content-Type": "application/json" } : {}), ...options.headers };
  if (options.token !== null) headers["X-XO-Token"] = options.token ?? s.token;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: s.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // SSE and HTML are not JSON.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function project(files: Record<string, string> = {}): Promise<UiServer> {
  dir = await testdir({ "shop/package.json": '{"name": "shop"}', ...files });
  server = await startUiServer({ dir: dir.path("shop") });
  return server;
}

describe("xo-foundry ui: security", () => {
  it("listens on 127.0.0.1 with a long random token and refuses API calls without it", async () => {
    const s = await project({ "shop/orders.yaml": pipelineYaml("orders") });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const ok = await call(s, "GET", "/api/pipelines");
    expect(ok.status).toBe(200);
    expect(ok.json.pipelines).toEqual([{ path: "orders.yaml", valid: true, dagId: "orders", errors: 0 }]);
    expect(ok.headers["content-security-policy"]).toContain("script-src 'self'");

    const none = await call(s, "GET", "/api/pipelines", { token: null });
    expect([none.status, none.json.error]).toEqual([403, "missing or wrong token"]);
    const wrong = await call(s, "GET", "/api/file?path=orders.yaml", { token: "x".repeat(43) });
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain("pipeline:");
  });

  it("refuses another origin and a foreign Host (DNS rebinding), even with the token", async () => {
    const s = await project({ "shop/orders.yaml": pipelineYaml("orders") });
    const evil = await call(s, "POST", "/api/save", { body: { path: "x.yaml", text: pipelineYaml("x"), base: null }, headers: { Origin: "http://evil.example" } });
    expect([evil.status, evil.json.error]).toEqual([403, "request from another origin"]);
    const otherPort = await call(s, "GET", "/api/pipelines", { headers: { Origin: `http://127.0.0.1:${s.port + 1}` } });
    expect(otherPort.status).toBe(403);
    const rebound = await call(s, "GET", "/api/pipelines", { headers: { Host: `evil.example:${s.port}` } });
    expect([rebound.status, rebound.json.error]).toEqual([403, "unexpected Host header"]);
    const page = await call(s, "GET", "/", { token: null, headers: { Host: `evil.example:${s.port}` } });
    expect(page.status).toBe(403);
    // The page's own origin, at either name, is fine.
    expect((await call(s, "GET", "/api/pipelines", { headers: { Origin: s.origin } })).status).toBe(200);
    expect((await call(s, "GET", "/api/pipelines", { headers: { Host: `localhost:${s.port}`, Origin: `http://localhost:${s.port}` } })).status).toBe(200);
    await expect(readdir(dir.path("shop"))).resolves.not.toContain("x.yaml");
  });

  it("reads and writes only pipeline files inside the project", async () => {
    const s = await project({ "shop/orders.yaml": pipelineYaml("orders"), "secret.yaml": "pipeline:\n  name: secret\n", "shop/sub/.keep": "" });
    await symlink(dir.path("."), dir.path("shop/out"));
    await symlink(dir.path("secret.yaml"), dir.path("shop/linked.yaml"));
    for (const path of ["../secret.yaml", "sub/../../secret.yaml", dir.path("secret.yaml"), "out/secret.yaml", "linked.yaml", "package.json", "node_modules/x.yaml"]) {
      const read = await call(s, "GET", `/api/file?path=${encodeURIComponent(path)}`);
      expect([path, read.status]).toEqual([path, 400]);
      expect(read.text).not.toContain("secret");
      const save = await call(s, "POST", "/api/save", { body: { path, text: pipelineYaml("secret"), base: null } });
      expect([path, save.status]).toEqual([path, 400]);
    }
    expect(await readFile(dir.path("secret.yaml"), "utf8")).toBe("pipeline:\n  name: secret\n");
    expect((await call(s, "GET", "/api/file?path=orders.yaml")).json.text).toBe(pipelineYaml("orders"));
  });
});

describe("xo-foundry ui: check and save", () => {
  it("checks unsaved text: the CLI's diagnostic text, the task graph, the DAG preview and its diff", async () => {
    const s = await project({ "shop/orders.yaml": pipelineYaml("orders") });
    const typo = pipelineYaml("orders").replace("start_date:", "start_dat:");
    const bad = await call(s, "POST", "/api/check", { body: { path: "orders.yaml", text: typo } });
    expect(bad.json.valid).toBe(false);
    const diagnostics = bad.json.diagnostics as { code: string; line: number; text: string }[];
    expect(diagnostics.map((d) => d.code)).toContain("XO_CONFIG_UNKNOWN_KEY");
    // Exactly what validate-config prints for the same file.
    await writeFile(dir.path("shop/orders.yaml"), typo);
    const cwd = process.cwd();
    const output = captureText();
    expect(await main(["node", "xo-foundry", "validate-config", dir.path("shop/orders.yaml")])).toBe(1);
    for (const d of diagnostics) expect(output()).toContain(d.text);
    expect(process.cwd()).toBe(cwd);

    const good = await call(s, "POST", "/api/check", { body: { path: "orders.yaml", text: pipelineYaml("orders") } });
    expect(good.json.valid).toBe(true);
    const graph = good.json.graph as { nodes: { id: string; width: number }[]; edges: { d: string }[] };
    expect(graph.nodes.map((n) => n.id).sort()).toEqual(["extract_s", "load_s"]);
    expect(graph.edges[0]!.d).toMatch(/^M[\d.]+,[\d.]+ L/);
    const dag = good.json.dag as { fileName: string; content: string; exists: boolean; diff: string; target: string };
    expect([dag.fileName, dag.target, dag.exists]).toEqual(["orders.py", "dags/orders.py", false]);
    expect(dag.content).toContain("DO NOT EDIT");
    expect(dag.diff).toContain("+++ b/dags/orders.py");
  });

  it("writes nothing for invalid YAML, and for valid YAML writes it and the DAG generate-dag writes", async () => {
    const s = await project();
    const invalid = await call(s, "POST", "/api/save", { body: { path: "orders.yaml", text: "pipeline:\n  name: orders\n  shedule: daily\n", base: null } });
    expect([invalid.status, invalid.json.saved]).toEqual([422, false]);
    expect((invalid.json.diagnostics as { code: string }[]).length).toBeGreaterThan(0);
    expect(await readdir(dir.path("shop"))).toEqual(["package.json"]);
    const created = await call(s, "POST", "/api/new", { body: { name: "orders" } });
    expect(created.json.path).toBe("orders.yaml");

    const text = `# orders, kept as typed\n${pipelineYaml("orders")}`;
    const saved = await call(s, "POST", "/api/save", { body: { path: "orders.yaml", text, base: null } });
    expect(saved.status).toBe(200);
    expect(saved.json.files).toEqual([
      { file: "orders.yaml", change: "saved" },
      { file: "dags/orders.py", change: "created" },
    ]);
    expect(await readFile(dir.path("shop/orders.yaml"), "utf8")).toBe(text);
    expect(await main(["node", "xo-foundry", "generate-dag", dir.path("shop/orders.yaml"), "-o", dir.path("cli-dags")])).toBe(0);
    expect(await readFile(dir.path("shop/dags/orders.py"), "utf8")).toBe(await readFile(dir.path("cli-dags/orders.py"), "utf8"));
    expect((await call(s, "POST", "/api/new", { body: { name: "orders" } })).status).toBe(409);

    // A save starts from the text the page opened: a file changed elsewhere since, or
    // created by someone else, is never written over.
    await writeFile(dir.path("shop/orders.yaml"), `${text}# edited in another editor\n`);
    const stale = await call(s, "POST", "/api/save", { body: { path: "orders.yaml", text: pipelineYaml("orders"), base: text } });
    expect([stale.status, stale.json.error]).toEqual([409, expect.stringContaining("changed on disk since it was opened")]);
    const again = await call(s, "POST", "/api/save", { body: { path: "orders.yaml", text: pipelineYaml("orders"), base: null } });
    expect([again.status, again.json.error]).toEqual([409, expect.stringContaining("already exists")]);
    expect(await readFile(dir.path("shop/orders.yaml"), "utf8")).toBe(`${text}# edited in another editor\n`);
    const current = await call(s, "POST", "/api/save", { body: { path: "orders.yaml", text, base: `${text}# edited in another editor\n` } });
    expect(current.status).toBe(200);
    expect(await readFile(dir.path("shop/orders.yaml"), "utf8")).toBe(text);
    expect((await readdir(dir.path("shop"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect((await call(s, "POST", "/api/new", { body: { name: "../x" } })).status).toBe(400);
  });

  it("does not overwrite a DAG file that is not the project's", async () => {
    const s = await project({ "shop/dags/orders.py": "# a person's DAG\n" });
    const check = await call(s, "POST", "/api/check", { body: { path: "orders.yaml", text: pipelineYaml("orders") } });
    expect((check.json.dag as { conflict?: string }).conflict).toContain("dags/orders.py");
    const saved = await call(s, "POST", "/api/save", { body: { path: "orders.yaml", text: pipelineYaml("orders"), base: null } });
    expect(saved.json.saved).toBe(false);
    expect((saved.json.diagnostics as { code: string }[]).map((d) => d.code)).toContain("XO_DAG_NOT_OURS");
    expect(await readFile(dir.path("shop/dags/orders.py"), "utf8")).toBe("# a person's DAG\n");
    expect(await readdir(dir.path("shop"))).not.toContain("orders.yaml");
  });
});

describe("xo-foundry ui: plugins installed while it runs", () => {
  /** A source plugin "installed" later: the project's plugin list grows by it. */
  const widgets = definePlugin({
    name: "@acme/plugin-widgets",
    version: "1.0.0",
    sources: [{ id: "widgets", description: "", options: z.object({ shelf: z.string() }), stream: z.object({}), async *extract() {} }],
  });
  afterEach(() => {
    injected.plugins = testPlugins;
  });
  /** One source plugin: the source is its object; more: a oneOf of them. */
  const sourcePlugins = (schema: Record<string, unknown>) => {
    type Variant = { properties: { plugin: { const: string } } };
    const source = (schema.properties as { source: Variant & { oneOf?: Variant[] } }).source;
    return (source.oneOf ?? [source]).map((o) => o.properties.plugin.const);
  };
  const widgetsYaml = "pipeline:\n  name: shelves\n  start_date: 2026-01-01\nsource:\n  plugin: widgets\n  shelf: top\n  streams:\n    - name: s\n";

  it("forgets the opened project when package.json or xo-foundry.yaml changes, and not before", async () => {
    const s = await project({ "shop/orders.yaml": pipelineYaml("orders") });
    expect(sourcePlugins((await call(s, "GET", "/api/schema")).json)).toEqual(["things"]);
    injected.plugins = [...testPlugins, widgets];
    // Nothing changed on disk: the project stays as it was opened.
    expect(sourcePlugins((await call(s, "GET", "/api/schema")).json)).toEqual(["things"]);
    const before = await call(s, "POST", "/api/check", { body: { path: "shelves.yaml", text: widgetsYaml } });
    expect(before.json.valid).toBe(false);

    // `npm install @acme/plugin-widgets` rewrites package.json.
    const later = new Date(Date.now() + 5_000);
    await writeFile(dir.path("shop/package.json"), '{"name": "shop", "dependencies": {"@acme/plugin-widgets": "1.0.0"}}');
    await utimes(dir.path("shop/package.json"), later, later);
    const after = await call(s, "POST", "/api/check", { body: { path: "shelves.yaml", text: widgetsYaml } });
    expect([after.json.valid, after.json.diagnostics]).toEqual([true, []]);
    expect(sourcePlugins((await call(s, "GET", "/api/schema")).json)).toEqual(["things", "widgets"]);

    // A new xo-foundry.yaml counts too: the plugin is gone again once it appears.
    injected.plugins = testPlugins;
    expect(sourcePlugins((await call(s, "GET", "/api/schema")).json)).toEqual(["things", "widgets"]);
    await writeFile(dir.path("shop/xo-foundry.yaml"), "{}\n");
    expect(sourcePlugins((await call(s, "GET", "/api/schema")).json)).toEqual(["things"]);
    expect((await call(s, "POST", "/api/check", { body: { path: "shelves.yaml", text: widgetsYaml } })).json.valid).toBe(false);
  });
});

describe("xo-foundry ui: runs", () => {
  it("runs the saved pipeline and streams its tasks' events, ending with a summary; one run at a time", async () => {
    const s = await project({ "shop/orders.yaml": pipelineYaml("orders") });
    await mkdir(dir.path("shop/.xo-foundry"), { recursive: true });
    const started = await call(s, "POST", "/api/run", { body: { path: "orders.yaml", date: "2026-02-03" } });
    expect(started.status).toBe(202);
    const id = started.json.id as string;
    const again = await call(s, "POST", "/api/run", { body: { path: "orders.yaml", date: "2026-02-03" } });
    expect([again.status, again.json.error]).toEqual([409, expect.stringContaining("in progress")]);

    const stream = await call(s, "GET", `/api/run/${id}/events`);
    expect(stream.headers["content-type"]).toContain("text/event-stream");
    const events = stream.text
      .trim()
      .split("\n\n")
      .map((block) => JSON.parse(block.split("\n").find((l) => l.startsWith("data: "))!.slice(6)) as { type: string; task?: string; state?: string; ok?: boolean });
    expect(events[0]).toMatchObject({ type: "start", pipeline: "orders", logicalDate: "2026-02-03" });
    expect(events.filter((e) => e.type === "task").map((e) => `${e.task} ${e.state}`)).toEqual(["extract_s running", "extract_s success", "load_s running", "load_s success"]);
    expect(events.at(-1)).toMatchObject({ type: "summary", ok: true, counts: { success: 2 } });
    // Each task's counters, sent at least once when it ends, and the steps' log as `run` prints it.
    expect(events.filter((e) => e.type === "progress").map((e) => e.task)).toEqual(["extract_s", "load_s"]);
    expect(events).toContainEqual({ type: "log", line: "[load_s] loaded 0 rows into t" });
    expect((await call(s, "GET", `/api/run/${id}/events`, { token: null })).status).toBe(403);
    expect((await call(s, "GET", "/api/run/00000000-0000-0000-0000-000000000000/events")).status).toBe(404);
    // Ended: the next run may start.
    expect((await call(s, "POST", "/api/run", { body: { path: "orders.yaml", date: "2026-02-04" } })).status).toBe(202);
  });
});

/** What commands print to stderr from now on, colours removed. */
function captureText(): () => string {
  const chunks: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((c) => (chunks.push(String(c)), true));
  return () => chunks.join("").replace(/\x1b\[[0-9;]*m/g, "");
}
