// The plugin object, its option schemas and its error catalog. Nothing emulated, no network.
import { readFileSync } from "node:fs";
import { PLUGIN_API_VERSION, PLUGIN_KIND } from "@xo-foundry/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { GMAIL_ERRORS, gmail } from "./index.js";
import { parseStream, sourceOptions, streamOptions } from "./options.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string; "xo-foundry": { factory: string } };

describe("gmail()", () => {
  it("is a branded plugin with the package's name and version and one source", () => {
    const plugin = gmail();
    expect(plugin.kind).toBe(PLUGIN_KIND);
    expect(plugin.apiVersion).toBe(PLUGIN_API_VERSION);
    expect(plugin.name).toBe(pkg.name);
    expect(plugin.version).toBe(pkg.version);
    expect(pkg["xo-foundry"].factory).toBe("gmail");
    expect(plugin.sources?.map((s) => s.id)).toEqual(["gmail"]);
    expect(plugin.sources?.[0]?.connection).toBe("required");
    expect(plugin.errors).toBe(GMAIL_ERRORS);
  });

  it("declares every GMAIL_ code the sources throw", () => {
    const thrown = new Set<string>();
    for (const file of ["errors", "gmail-api", "labels", "source", "sync"]) {
      const text = readFileSync(new URL(`./${file}.ts`, import.meta.url), "utf8");
      for (const m of text.matchAll(/"(GMAIL_[A-Z_]+)"/g)) thrown.add(m[1]!);
    }
    expect([...thrown].filter((code) => !(code in GMAIL_ERRORS))).toEqual([]);
  });

  it("has option schemas that compose into JSON Schema", () => {
    const shape = z.strictObject({ ...sourceOptions.shape, ...streamOptions.shape });
    const schema = z.toJSONSchema(shape, { io: "input" }) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).sort()).toEqual([
      "attachments",
      "backoff_ms",
      "concurrency",
      "content",
      "include_body",
      "include_spam_trash",
      "incremental",
      "labels",
      "load_attachments_as",
      "max_results",
      "max_retries",
      "query",
      "root_url",
      "subject",
      "timeout_ms",
      "token_url",
      "user_id",
    ]);
    expect(sourceOptions.parse({})).toEqual({ user_id: "me", max_results: 100, concurrency: 8, timeout_ms: 60_000, max_retries: 6, backoff_ms: 1_000 });
  });
});

describe("stream options", () => {
  it("default to the messages of the window", () => {
    expect(parseStream({})).toEqual({ content: "messages", include_body: false, include_spam_trash: false, incremental: "window" });
    expect(parseStream({ content: "attachments", load_attachments_as: "csv", attachments: { filename: "*.csv" } }).attachments).toEqual({ filename: "*.csv", max_bytes: 25 * 1024 * 1024 });
  });

  it("refuse keys of the other content, each at its key", () => {
    expect(() => parseStream({ content: "attachments" })).toThrow("load_attachments_as: `load_attachments_as` is required with content: attachments");
    expect(() => parseStream({ content: "attachments", load_attachments_as: "csv", include_body: true })).toThrow("include_body: `include_body` belongs to content: messages");
    expect(() => parseStream({ attachments: { filename: "*.csv" } })).toThrow("attachments: `attachments` belongs to content: attachments");
    expect(() => parseStream({ load_attachments_as: "csv" })).toThrow("load_attachments_as: `load_attachments_as` belongs to content: attachments");
  });

  it("refuse a query with incremental: history, saying to use a label", () => {
    expect(() => parseStream({ query: "from:x", incremental: "history" })).toThrow(/query: `query` cannot be used with incremental: history; make a Gmail filter that applies a label/);
  });

  it("refuse bad values", () => {
    expect(() => parseStream({ labels: [] })).toThrow(/labels/);
    expect(() => parseStream({ content: "attachments", load_attachments_as: "xlsx" })).toThrow(/load_attachments_as/);
    expect(() => parseStream({ content: "attachments", load_attachments_as: "csv", attachments: { mime_types: ["csv"] } })).toThrow(/mime_types/);
    expect(() => parseStream({ content: "attachments", load_attachments_as: "csv", attachments: { glob: "*.csv" } })).toThrow(/glob/);
    expect(sourceOptions.safeParse({ max_results: 501 }).success).toBe(false);
    expect(sourceOptions.safeParse({ subject: "not an address" }).success).toBe(false);
  });
});
