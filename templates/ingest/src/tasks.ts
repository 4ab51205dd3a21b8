import { streamTasks, type ResolvedPipeline, type TaskSpec } from "@xo-foundry/core";

/**
 * Two tasks per stream, `extract_<stream>` then `load_<stream>`, streams in code-point
 * order. Streams do not depend on each other, so Airflow runs them in parallel. Stream
 * names are already safe identifiers (the config schema enforces it), which keeps task
 * ids stable and legal.
 */
export function ingestTasks(pipeline: ResolvedPipeline): readonly TaskSpec[] {
  return streamTasks(pipeline.config, { groupBySource: false });
}
