/**
 * Services that plugins offer to steps of other plugins. A sink that can answer
 * queries offers a `warehouse`, so a SQL, check or export step works on any warehouse
 * without knowing which one it is.
 */
import {
  pluginOptions,
  resolveConnection,
  xoError,
  RESERVED_SINK_KEYS,
  type Logger,
  type Project,
  type ResolvedPipeline,
  type StepServices,
  type Warehouse,
} from "@xo-foundry/core";
import { callHook, callHookSync } from "./driver.js";

export function stepServices(
  project: Project,
  pipeline: ResolvedPipeline,
  run: { readonly env: NodeJS.ProcessEnv; readonly log: Logger; readonly signal: AbortSignal },
): StepServices {
  const sinks = pipeline.config.sinks;
  const offering = () => Object.keys(sinks).filter((name) => project.registry.sink(sinks[name]!.plugin)?.warehouse !== undefined);
  return {
    warehouse(name?: string): Warehouse {
      const names = Object.keys(sinks);
      const chosen = name ?? (names.length === 1 ? names[0] : undefined);
      if (chosen === undefined) throw xoError("XO_SINK_AMBIGUOUS", { source: "this step", sinks: names });
      const block = sinks[chosen];
      if (!block) {
        throw xoError("XO_CONFIG_INVALID_VALUE", { detail: `no sink named ${JSON.stringify(chosen)}`, expected: `one of ${names.map((n) => JSON.stringify(n)).join(", ")}` });
      }
      const sink = project.registry.sink(block.plugin)!;
      const owner = project.registry.ownerOf("sink", sink.id)!;
      if (!sink.warehouse) throw xoError("XO_WAREHOUSE_UNAVAILABLE", { sink: chosen, plugin: owner.name, available: offering() });
      const connection = block.connection ? resolveConnection(block.connection, run.env) : undefined;
      const open = sink.warehouse.bind(sink);
      const warehouse = callHookSync(owner, "warehouse", chosen, () =>
        open({ sink: chosen, options: pluginOptions(block, RESERVED_SINK_KEYS), connection, projectDir: pipeline.projectDir, log: run.log, signal: run.signal }),
      );
      // Failures inside the warehouse are the sink plugin's, whichever step called it.
      const task = `sink ${chosen}`;
      return {
        dialect: warehouse.dialect,
        query: (sql, params) => callHook(owner, "warehouse.query", task, () => warehouse.query(sql, params)),
        execute: (statements) => callHook(owner, "warehouse.execute", task, () => warehouse.execute(statements)),
        exportQuery: (sql, dir, format, options) => callHook(owner, "warehouse.exportQuery", task, () => warehouse.exportQuery(sql, dir, format, options)),
        describe: (table) => callHook(owner, "warehouse.describe", task, () => warehouse.describe(table)),
      };
    },
  };
}
