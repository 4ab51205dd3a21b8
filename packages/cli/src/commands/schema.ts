import { writeFile } from "node:fs/promises";
import { canonicalJson, openProject, pipelineJsonSchema } from "@xo-foundry/core";

export async function schemaCommand(options: { out?: string; project?: string }): Promise<number> {
  const project = await openProject(options.project ?? process.cwd());
  const schema = pipelineJsonSchema(project.registry);
  const text = `${JSON.stringify(JSON.parse(canonicalJson(schema)), null, 2)}\n`;
  if (options.out) await writeFile(options.out, text);
  else process.stdout.write(text);
  return 0;
}
