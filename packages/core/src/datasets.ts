/**
 * How the tables of a pipeline are named for lineage and for Airflow assets: from the
 * configuration alone, so a generated DAG, `xo-foundry lineage` and the runtime's
 * OpenLineage events agree on one name per table.
 */
import type { DatasetName, ResolvedPipeline } from "./plugin.js";
import type { Registry } from "./registry.js";
import { pluginOptions, RESERVED_SINK_KEYS, type StreamRoute } from "./config/types.js";

/** One string for a dataset: its namespace and name joined by `/` (an Airflow asset URI). */
export function datasetUri(d: DatasetName): string {
  return `${d.namespace}/${d.name}`;
}

/**
 * The table a stream loads into in a sink block: the sink's own `dataset()` name, else
 * `<sink id>://<connection or sink block>` with its target key (or the stream name).
 */
export function streamTable(pipeline: ResolvedPipeline, registry: Pick<Registry, "sink">, route: StreamRoute, sinkName = route.sink): DatasetName | undefined {
  const block = pipeline.config.sinks[sinkName];
  const def = block && registry.sink(block.plugin);
  if (!block || !def) return undefined;
  const options = def.options.safeParse(pluginOptions(block, RESERVED_SINK_KEYS));
  const target = def.target.safeParse(route.stream.target);
  if (!options.success || !target.success) return undefined;
  const input = { stream: route.stream.name, options: options.data, target: target.data };
  if (def.dataset) return def.dataset({ ...input, connection: block.connection, projectDir: pipeline.projectDir });
  return { namespace: `${def.id}://${block.connection ?? sinkName}`, name: def.targetKey?.(input) ?? route.stream.name };
}
