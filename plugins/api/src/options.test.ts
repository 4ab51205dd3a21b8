import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { z } from "zod";
import { PLUGIN_API_VERSION, PLUGIN_KIND, Registry, definePlugin, loadPipeline, openProject, pipelineJsonSchema, type XoPlugin } from "@xo-foundry/core";
import { testdir } from "@xo-foundry/testkit";
import { api } from "./index.js";
import { sourceOptions, streamOptions } from "./options.js";
import { buildUrl, printableUrl, resolveBaseUrl } from "./urls.js";

// The core composes plugin options into strict objects; test them the same way.
const strictSource = z.strictObject(sourceOptions.shape);
const strictStream = z.strictObject(streamOptions.shape);

const issues = (result: { success: boolean; error?: { issues: readonly { path: PropertyKey[]; message: string }[] } }) =>
  (result.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);

describe("plugin", () => {
  it("is a branded plugin with the package version and the api source", () => {
    const plugin = api();
    const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
    expect(plugin).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: "@xo-foundry/plugin-api", version: pkg.version });
    expect(plugin.sources?.map((s) => s.id)).toEqual(["api"]);
    expect(new Registry([plugin]).source("api")).toBeDefined();
  });
});

describe("options schema", () => {
  it("fills defaults", () => {
    expect(strictSource.parse({})).toEqual({ auth: { type: "none" }, headers: {}, timeout_ms: 30_000, max_retries: 5, backoff_ms: 500, page_size: 100 });
    expect(strictStream.parse({ path: "x" })).toEqual({ path: "x", method: "GET", params: {}, pagination: { type: "none" } });
    expect(strictSource.parse({ auth: { type: "api_key" } }).auth).toEqual({ type: "api_key", header: "X-API-Key" });
    expect(strictStream.parse({ path: "x", pagination: { type: "offset" } }).pagination).toEqual({ type: "offset", limit_param: "limit", offset_param: "offset" });
  });

  it("rejects unknown keys at every level", () => {
    expect(issues(strictSource.safeParse({ base_uri: "http://x" }))).toEqual([expect.stringMatching(/base_uri/)]);
    expect(strictSource.safeParse({ auth: { type: "bearer", header: "X" } }).success).toBe(false);
    expect(strictStream.safeParse({ path: "x", pagination: { type: "cursor", next_cursor_path: "n", offset_param: "o" } }).success).toBe(false);
  });

  it("requires what a strategy cannot guess", () => {
    expect(strictStream.safeParse({}).success).toBe(false);
    expect(strictStream.safeParse({ path: "x", pagination: { type: "cursor" } }).success).toBe(false);
    expect(strictStream.safeParse({ path: "x", pagination: { type: "scroll" } }).success).toBe(false);
    expect(strictSource.safeParse({ base_url: "ftp://host/x" }).success).toBe(false);
  });

  it("rejects unknown placeholders and credentials in headers", () => {
    expect(issues(strictStream.safeParse({ path: "x", params: { since: "{window_begin}" } }))).toEqual([
      "params.since: unknown placeholder {window_begin} in `params`; available: {logical_date}, {window_start}, {window_end}, {window_start_date}, {window_end_date}, {cursor}",
    ]);
    expect(issues(strictSource.safeParse({ headers: { Authorization: "Bearer abc" } }))).toEqual([
      'headers.Authorization: header "Authorization" carries credentials: use `auth` and put the secret in the connection',
    ]);
  });

  it("composes into the pipeline schema and its JSON Schema", async () => {
    const project = await testdir();
    try {
      const opened = await openProject(project.dir, { discover: false, plugins: [api(), warehouseStub()] });
      const load = async (streams: unknown[]) => {
        const pipeline = { pipeline: { name: "crm", start_date: "2026-01-01" }, template: "ingest", source: { plugin: "api", auth: { type: "bearer" }, streams }, sink: { plugin: "stub" } };
        const result = await loadPipeline(await project.write("crm.yaml", JSON.stringify(pipeline)), opened);
        return result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path}: ${d.message}`);
      };
      expect(await load([{ name: "customers", path: "customers", record_path: "data", pagination: { type: "offset" } }])).toEqual([]);
      expect(await load([{ name: "c", path: "c", recordpath: "data" }])).toEqual([expect.stringMatching(/^XO_CONFIG_UNKNOWN_KEY .*streams\[0\]\.recordpath: /)]);
      // An object-level rule of the stream schema: it must survive the core's composition, with its path.
      expect(await load([{ name: "o", path: "o", params: { since: "{cursor}" } }])).toEqual([
        expect.stringMatching(/streams\[0\]\.params\.since: .*\{cursor\} needs an `incremental:` block/),
      ]);
      expect(await load([{ name: "o", path: "o", params: { since: "{cursor}" }, incremental: { cursor_field: "updated_at", initial_value: 0 } }])).toEqual([]);
    } finally {
      await project.remove();
    }
    const schema = JSON.stringify(pipelineJsonSchema(new Registry([api()])));
    expect(schema).toContain("Dotted path of the record array");
    expect(schema).toContain("Record field that grows with every change");
  });
});

/** The smallest sink and template a pipeline needs to validate; loads nothing. */
function warehouseStub(): XoPlugin {
  return definePlugin({
    name: "warehouse-stub",
    version: "0.0.0",
    sinks: [
      {
        id: "stub",
        description: "accepts any target, loads nothing",
        options: z.object({}),
        target: z.object({}),
        load: () => Promise.resolve({ table: "t", rowsLoaded: 0 }),
      },
    ],
    templates: [{ id: "ingest", description: "no tasks", tasks: () => [] }],
  });
}

describe("urls", () => {
  const conn = { id: "c", extra: {} };
  it("resolves the base URL from options or the connection", () => {
    expect(resolveBaseUrl("https://api.example.com/v1", undefined, undefined).href).toBe("https://api.example.com/v1");
    expect(resolveBaseUrl(undefined, { ...conn, host: "http://127.0.0.1:8080/v1" }, "c").href).toBe("http://127.0.0.1:8080/v1");
    expect(resolveBaseUrl(undefined, { ...conn, host: "api.example.com" }, "c").href).toBe("https://api.example.com/");
    expect(resolveBaseUrl(undefined, { ...conn, host: "h", port: 81, extra: { scheme: "http" } }, "c").href).toBe("http://h:81/");
    // Airflow HTTP connections keep the scheme in `schema`; URI connections keep a path there.
    expect(resolveBaseUrl(undefined, { ...conn, host: "h", schema: "http" }, "c").href).toBe("http://h/");
    expect(resolveBaseUrl(undefined, { ...conn, type: "https", host: "h", schema: "v1" }, "c").href).toBe("https://h/v1");
    expect(() => resolveBaseUrl(undefined, { ...conn, host: "h", extra: { scheme: "ftp" } }, "c")).toThrow(/unsupported scheme "ftp"/);
    expect(() => resolveBaseUrl(undefined, undefined, "crm")).toThrow(/host of connection "crm" \(XO_CONN_CRM\)/);
  });

  it("appends the path to the base path", () => {
    const base = new URL("https://h/v1");
    expect(buildUrl(base, "customers", {}).href).toBe("https://h/v1/customers");
    expect(buildUrl(new URL("https://h/v1/"), "/customers", { a: "1" }).href).toBe("https://h/v1/customers?a=1");
    expect(buildUrl(new URL("https://h/?v=2"), "x?fields=id,name", { a: "b c" }).href).toBe("https://h/x?v=2&fields=id%2Cname&a=b+c");
  });

  it("masks credentials and secret-looking query values when printing", () => {
    const url = new URL("https://user:pw@h/x?k=abc&access_token=t&apiKey=z&sort=name&design=1");
    expect(printableUrl(url, ["k"])).toBe("https://h/x?k=***&access_token=***&apiKey=***&sort=name&design=1");
  });
});
