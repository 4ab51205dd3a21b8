import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { definePlugin, streamTasks } from "@xo-foundry/core";
import { duckdb } from "@xo-foundry/plugin-duckdb";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { main } from "../index.js";

// Real: the DuckDB plugin, its database file, the runtime and the file:// landing zone.
// Stand-ins: a source that yields two rows, and a template with one extract and one load per stream.
const injected = vi.hoisted(() => ({ plugins: [] as unknown[] }));
vi.mock("@xo-foundry/core", async (importOriginal) => {
  const core = await importOriginal<typeof import("@xo-foundry/core")>();
  return { ...core, openProject: (start: string) => core.openProject(start, { discover: false, plugins: injected.plugins }) };
});
beforeAll(() => {
  injected.plugins = [
    definePlugin({
      name: "@acme/plugin-rows",
      version: "1.0.0",
      sources: [
        {
          id: "rows",
          description: "two fixed rows",
          options: z.object({}),
          stream: z.object({}),
          async *extract() {
            yield { type: "records", records: [{ id: 1 }, { id: 2 }] };
          },
        },
      ],
      templates: [{ id: "ingest", description: "", isDefault: true, tasks: (p) => streamTasks(p.config, { groupBySource: false }) }],
    }),
    duckdb(),
  ];
});

let dir: TestDir;
let stderr: string[];
beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (stderr.push(String(chunk)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  return dir?.remove();
});

const plain = (parts: string[]) => parts.join("").replace(/\x1b\[[0-9;]*m/g, "");

const PIPELINE = `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: rows
  streams:
    - name: orders
      target:
        create: false
sink:
  plugin: duckdb
  database: warehouse.duckdb
`;

describe("xo-foundry run", () => {
  it("reports the DuckDB plugin's own code for a `create: false` target whose table is missing", async () => {
    dir = await testdir({ "package.json": "{}", "shop.yaml": PIPELINE });
    const code = await main(["node", "xo-foundry", "run", dir.path("shop.yaml"), "--date", "2026-01-02"]);
    const err = plain(stderr);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^error XO_DUCKDB_TABLE_MISSING\n {2}task "load_orders" failed in @xo-foundry\/plugin-duckdb@\S+ \(load\): table main\.orders does not exist and the target has `create: false`\n {2}hint: create the table first/m,
    );
    expect(err).not.toContain("XO_STEP_FAILED");
    expect(err).not.toMatch(/^\s+at /m);
  });
});
