import { createRequire } from "node:module";
import { definePlugin, streamTasks, type TemplateDefinition, type XoPlugin } from "@xo-foundry/core";

// Read at load time rather than hard-coded, so DAG headers never lie about the version.
const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/**
 * Many sources into many sinks: each source's streams are extracted and loaded inside
 * an Airflow task group named after the source (`shop.extract_orders`), sources run in
 * parallel, and the pipeline's `steps:` add what happens around them (SQL after the
 * loads, exports, copies to a second sink, conditional branches).
 */
export const hybridTemplate: TemplateDefinition = {
  id: "hybrid",
  description: "Many sources and sinks, one task group per source, plus the pipeline's steps: branches, conditions, exports.",
  tasks: (pipeline) => streamTasks(pipeline.config, { groupBySource: true }),
};

export function hybrid(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/template-hybrid", version, templates: [hybridTemplate] });
}
