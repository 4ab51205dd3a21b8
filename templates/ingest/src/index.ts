import { createRequire } from "node:module";
import { definePlugin, type TemplateDefinition, type XoPlugin } from "@xo-foundry/core";
import { renderIngestDag } from "./render.js";
import { ingestTasks } from "./tasks.js";

export { renderIngestDag } from "./render.js";
export { ingestTasks } from "./tasks.js";

// Read at load time rather than hard-coded, so DAG headers never lie about the version.
const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export const ingestTemplate: TemplateDefinition = {
  id: "ingest",
  description: "Extract each stream to the landing zone, then load it into the warehouse; streams run in parallel.",
  tasks: ingestTasks,
  render: renderIngestDag,
};

export function ingest(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/template-ingest", version, templates: [ingestTemplate] });
}
