import { createRequire } from "node:module";
import { definePlugin, type TemplateDefinition, type XoPlugin } from "@xo-foundry/core";
import { ingestTasks } from "./tasks.js";

export { ingestTasks } from "./tasks.js";

// Read at load time rather than hard-coded, so DAG headers never lie about the version.
const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export const ingestTemplate: TemplateDefinition = {
  id: "ingest",
  description: "Extract each stream to the landing zone, then load it into the warehouse; streams run in parallel.",
  isDefault: true,
  tasks: ingestTasks,
  check: (pipeline) => {
    const sources = Object.keys(pipeline.config.sources);
    return sources.length === 1
      ? []
      : [{ path: ["sources"], message: `it takes one source, this pipeline has ${sources.length} (${sources.join(", ")}); use \`template: hybrid\`` }];
  },
};

export function ingest(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/template-ingest", version, templates: [ingestTemplate] });
}
