import { z } from "zod";
import { definePlugin, streamTasks } from "@xo-foundry/core";

/** A source, a sink and a template: enough to generate. */
export const testPlugins = [
  definePlugin({
    name: "@acme/plugin-things",
    version: "2.0.0",
    sources: [{ id: "things", description: "", options: z.object({}), stream: z.object({}), async *extract() {} }],
    sinks: [{ id: "duckdb", description: "", isDefault: true, options: z.object({}), target: z.object({}), load: async () => ({ table: "t", rowsLoaded: 0 }) }],
  }),
  definePlugin({
    name: "@acme/template-echo",
    version: "0.3.0",
    templates: [
      {
        id: "ingest",
        description: "",
        isDefault: true,
        tasks: (p) => streamTasks(p.config, { groupBySource: false }),
      },
    ],
  }),
];

/** A pipeline file the test plugins accept. */
export const pipelineYaml = (name: string) =>
  `pipeline:\n  name: ${name}\n  start_date: 2026-01-01\nsource:\n  plugin: things\n  streams:\n    - name: s\n`;
