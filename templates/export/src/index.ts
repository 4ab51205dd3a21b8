import { createRequire } from "node:module";
import { definePlugin, streamTasks, type TemplateDefinition, type XoPlugin } from "@xo-foundry/core";

// Read at load time rather than hard-coded, so DAG headers never lie about the version.
const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/**
 * Pipelines that send data out: a warehouse query exported to files (`sql.export`), then
 * delivered (`sftp.upload`, `s3.upload`, `api.send`) or synced to an operational system
 * (`hubspot.sync`). The graph is the pipeline's `steps:`; sources are optional, and when a
 * pipeline has some, their streams are extracted and loaded first, grouped by source as
 * in `hybrid`, so one pipeline can ingest, model and export.
 */
export const exportTemplate: TemplateDefinition = {
  id: "export",
  description: "Warehouse -> files, SFTP, S3, APIs and CRMs: the pipeline's steps, with optional sources ingested first.",
  needsSource: false,
  tasks: (pipeline) => streamTasks(pipeline.config, { groupBySource: true }),
  check: (pipeline) =>
    pipeline.config.steps.length > 0 || Object.keys(pipeline.config.sources).length > 0
      ? []
      : [{ path: ["steps"], message: "an export pipeline needs steps: e.g. `sql.export` of a query, then a delivery such as `sftp.upload` after it" }],
};

export function exportTemplatePlugin(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/template-export", version, templates: [exportTemplate] });
}
