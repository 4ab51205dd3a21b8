// The plugin object and its option schemas. Nothing emulated, no network.
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { PLUGIN_API_VERSION, PLUGIN_KIND } from "@xo-foundry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startGladlyEmulator, type GladlyEmulator } from "./__fixtures__/gladly-server.js";
import { connection, extractError, extractFiles, makeContext } from "./__fixtures__/harness.js";
import { resolveBaseUrl } from "./base-url.js";
import { gladly } from "./index.js";
import { sourceOptions, streamOptions } from "./options.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string; "xo-foundry": { factory: string } };

describe("gladly()", () => {
  it("is a branded plugin with the package's name and version and one source", () => {
    const plugin = gladly();
    expect(plugin.kind).toBe(PLUGIN_KIND);
    expect(plugin.apiVersion).toBe(PLUGIN_API_VERSION);
    expect(plugin.name).toBe(pkg.name);
    expect(plugin.version).toBe(pkg.version);
    expect(pkg["xo-foundry"].factory).toBe("gladly");
    expect(plugin.sources?.map((s) => s.id)).toEqual(["gladly"]);
    expect(plugin.sources?.[0]?.connection).toBe("required");
    // Its own error codes, each with what to do, so the core reports them as they are.
    expect(Object.keys(plugin.errors ?? {}).sort()).toEqual(["XO_GLADLY_REPORT_CAPPED", "XO_GLADLY_REQUEST_REJECTED"]);
  });

  it("has option schemas that compose into JSON Schema", () => {
    const shape = z.strictObject({ ...sourceOptions.shape, ...streamOptions.shape });
    const schema = z.toJSONSchema(shape, { io: "input" }) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).sort()).toEqual(
      ["backoff_ms", "base_url", "file", "filters", "job_id", "kind", "max_retries", "metric_set", "organization", "row_cap", "split_on_cap", "timeout_ms"],
    );
    expect(sourceOptions.parse({})).toMatchObject({ row_cap: 100_000, split_on_cap: true, max_retries: 5 });
    expect(streamOptions.safeParse({ kind: "reports" }).success).toBe(false);
  });
});

describe("base URL", () => {
  const where = 'connection "gladly" (XO_CONN_GLADLY)';
  it("prefers base_url, then organization, then the connection host", () => {
    expect(resolveBaseUrl({ base_url: "https://acme.gladly.qa", organization: "acme" }, connection(), where).href).toBe("https://acme.gladly.qa/");
    expect(resolveBaseUrl({ organization: "acme" }, connection({ host: "https://other.gladly.com" }), where).href).toBe("https://acme.gladly.com/");
    expect(resolveBaseUrl({}, connection({ host: "https://acme.gladly.com" }), where).href).toBe("https://acme.gladly.com/");
    expect(resolveBaseUrl({}, connection({ host: "acme.gladly.qa" }), where).href).toBe("https://acme.gladly.qa/");
  });

  it("takes the scheme from an Airflow http connection's type, as get_uri() writes it", () => {
    expect(resolveBaseUrl({}, connection({ type: "http", host: "127.0.0.1", port: 8080 }), where).href).toBe("http://127.0.0.1:8080/");
    expect(resolveBaseUrl({}, connection({ type: "gladly", host: "acme.gladly.com" }), where).href).toBe("https://acme.gladly.com/");
  });

  it("says where to set it when nothing names a host", () => {
    expect(() => resolveBaseUrl({}, connection(), where)).toThrow(/set `organization`.*or a host in connection "gladly" \(XO_CONN_GLADLY\)/);
  });
});

describe("temporary files", () => {
  let emulator: GladlyEmulator;
  beforeAll(async () => {
    emulator = await startGladlyEmulator();
  });
  afterAll(() => emulator.close());

  const ours = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("xo-gladly-")).length;

  it("are removed after a report, and after a failed one", async () => {
    const before = await ours();
    await extractFiles(makeContext({ source: { base_url: emulator.url }, stream: { kind: "report", metric_set: "AgentTimestampsReport" } }));
    await extractError(makeContext({ source: { base_url: emulator.url }, stream: { kind: "report", metric_set: "Nope" } }));
    expect(await ours()).toBe(before);
  });
});
