import { compareCodePoints, type ResolvedPipeline, type TaskSpec } from "@xo-foundry/core";

/**
 * Two tasks per stream, `extract_<stream>` then `load_<stream>`. Streams do not depend
 * on each other, so Airflow runs them in parallel. Stream names are already safe
 * identifiers (the config schema enforces it), which keeps task ids stable and legal.
 */
export function ingestTasks(pipeline: ResolvedPipeline): readonly TaskSpec[] {
  const streams = pipeline.config.source.streams.map((s) => s.name).sort(compareCodePoints);
  return streams.flatMap((stream): TaskSpec[] => [
    { id: `extract_${stream}`, kind: "extract", stream, upstream: [] },
    { id: `load_${stream}`, kind: "load", stream, upstream: [`extract_${stream}`] },
  ]);
}
