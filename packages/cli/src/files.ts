import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { PROJECT_FILE } from "@xo-foundry/core";

const SKIP_DIRS = new Set(["node_modules", "dist", "expected", "__fixtures__"]);

/** Pipeline files named on the command line: files as given, directories searched for *.yaml / *.yml. */
export async function pipelineFiles(inputs: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) missing.push(input);
    else if (info.isDirectory()) files.push(...(await walk(input)));
    else files.push(input);
  }
  return { files: [...new Set(files.map((f) => path.resolve(f)))].sort(), missing };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...(await walk(full)));
    } else if (/\.ya?ml$/i.test(entry.name) && entry.name !== PROJECT_FILE) {
      out.push(full);
    }
  }
  return out;
}
