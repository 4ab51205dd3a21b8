import { z } from "zod";
import { definePlugin, type XoPlugin } from "../plugin.js";

/** Small in-memory plugins with real option schemas, for config and registry tests. */
export function fixturePlugins(): XoPlugin[] {
  return [
    definePlugin({
      name: "fixture-api",
      version: "1.2.3",
      sources: [
        {
          id: "api",
          description: "fixture REST source",
          options: z.object({ base_url: z.string().optional(), timeout_ms: z.number().int().positive().default(1000) }),
          stream: z.object({ path: z.string(), record_path: z.string().optional() }),
          async *extract() {},
        },
      ],
    }),
    definePlugin({
      name: "fixture-warehouse",
      version: "0.0.1",
      sinks: [
        {
          id: "duckdb",
          description: "fixture sink",
          options: z.object({ database: z.string().default("w.duckdb") }),
          target: z.object({ table: z.string().optional(), mode: z.enum(["append", "replace", "merge"]).optional() }),
          async load() {
            return { table: "t", rowsLoaded: 0 };
          },
        },
      ],
      templates: [{ id: "ingest", description: "fixture template", tasks: () => [], render: () => "" }],
    }),
  ];
}
