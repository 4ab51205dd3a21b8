import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PLUGIN_API_VERSION, PLUGIN_KIND } from "@xo-foundry/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { snowflake } from "./index.js";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("plugin", () => {
  it("is a branded plugin with one sink named snowflake", () => {
    const plugin = snowflake();
    expect(plugin).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: "@xo-foundry/plugin-snowflake" });
    expect(plugin.sinks?.map((s) => [s.id, s.connection])).toEqual([["snowflake", "required"]]);
  });

  it("is declared for discovery in package.json", () => {
    const pkg = JSON.parse(readFileSync(path.join(here, "../package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg["xo-foundry"]).toEqual({ factory: "snowflake" });
  });

  it("does not load snowflake-sdk until the first load", () => {
    // Static imports reachable from index.ts; the driver may appear only as a type import or a dynamic import.
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(path.join(here, file), "utf8");
      expect(source, file).not.toMatch(/^import (?!type)[^;]*from "snowflake-sdk"/m);
      for (const [, dep] of source.matchAll(/^(?:import|export) (?!type)[^;]*?from "\.\/([^"]+)\.js"/gm)) visit(`${dep}.ts`);
    };
    visit("index.ts");
    expect([...seen].sort()).toEqual(["errors.ts", "index.ts", "options.ts", "plan.ts", "sql.ts"]);
  });

  it("turns its option schemas into JSON Schema for editors", () => {
    const sink = snowflake().sinks![0]!;
    const options = z.toJSONSchema(sink.options, { io: "input" }) as { properties: Record<string, unknown> };
    expect(Object.keys(options.properties).sort()).toEqual(["account", "database", "file_format", "on_error", "query_tag", "role", "schema", "stage", "warehouse"]);
    const target = z.toJSONSchema(sink.target, { io: "input" }) as { properties: Record<string, unknown> };
    expect(Object.keys(target.properties).sort()).toEqual(["create", "date_column", "keys", "mode", "table"]);
  });

  it("says where a stream lands: the table, qualified by the sink's database and schema, upper-cased as Snowflake resolves it", () => {
    const sink = snowflake().sinks![0]!;
    const key = (target: Record<string, unknown>, options: Record<string, unknown> = {}) =>
      sink.targetKey!({ stream: "orders", target: sink.target.parse(target), options: sink.options.parse(options) });
    expect(key({})).toBe("ORDERS");
    expect(key({ table: "Orders" })).toBe(key({ table: "ORDERS" }));
    expect(key({ table: "orders" }, { database: "analytics", schema: "raw" })).toBe("ANALYTICS.RAW.ORDERS");
    expect(key({ table: "a.b" })).not.toBe(key({ table: "b" }, { schema: "a" }));
  });

  it("says where a sink block's tables live: its connection and database", () => {
    const sink = snowflake().sinks![0]!;
    const place = (connection: string | undefined, options: Record<string, unknown> = {}) =>
      sink.location!({ options: sink.options.parse(options), connection, projectDir: "/p" });
    // Two blocks on one connection without a database both write the connection's database.
    expect(place("raw")).toBe(place("raw"));
    expect(place("raw", { database: "analytics" })).toBe(place("raw", { database: "ANALYTICS" }));
    expect(place("raw", { database: "analytics" })).not.toBe(place("raw", { database: "archive" }));
    expect(place("raw")).not.toBe(place("other"));
  });

  it("refuses control characters in a table name", () => {
    const target = snowflake().sinks![0]!.target;
    const nul = target.safeParse({ table: "ord\u0000ers" });
    expect(nul.error?.issues[0]).toMatchObject({ path: ["table"], message: "a table name cannot contain control characters (found U+0000 at character 4)" });
    expect(target.safeParse({ table: "a\nb" }).success).toBe(false);
    expect(target.safeParse({ table: "Orders 2026" }).success).toBe(true);
  });

  it("validates the external stage block", () => {
    const sink = snowflake().sinks![0]!;
    expect(sink.options.safeParse({ stage: { type: "external", name: "ext" } }).success).toBe(false);
    expect(sink.options.safeParse({ stage: { type: "external", name: "ext", url_prefix: "s3://b/p" } }).success).toBe(true);
    expect(sink.options.parse({})).toMatchObject({ stage: { type: "internal" }, on_error: "ABORT_STATEMENT" });
  });
});
