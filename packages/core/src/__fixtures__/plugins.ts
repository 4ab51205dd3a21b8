import { z } from "zod";
import { definePlugin, type XoPlugin } from "../plugin.js";
import { streamTasks } from "../graph.js";

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
          isDefault: true,
          options: z.object({ database: z.string().default("w.duckdb") }),
          target: z.object({ table: z.string().optional(), mode: z.enum(["append", "replace", "merge"]).optional() }),
          async load() {
            return { table: "t", rowsLoaded: 0 };
          },
        },
      ],
      templates: [
        {
          id: "ingest",
          description: "fixture template",
          isDefault: true,
          tasks: (p) => streamTasks(p.config, { groupBySource: false }),
          check: (p) => (Object.keys(p.config.sources).length === 1 ? [] : [{ path: ["sources"], message: "it takes one source" }]),
        },
        { id: "hybrid", description: "fixture template with groups", tasks: (p) => streamTasks(p.config, { groupBySource: true }) },
      ],
    }),
      definePlugin({
      name: "fixture-steps",
      version: "0.0.2",
      steps: [
        {
          id: "fixture.note",
          description: "fixture step",
          options: z.object({ message: z.string(), loud: z.boolean().default(false) }),
          run: async () => ({}),
        },
        {
          id: "fixture.remote",
          description: "fixture step that needs a connection",
          connection: "required",
          options: z.object({}),
          run: async () => ({}),
        },
      ],
    }),
  ];
}
