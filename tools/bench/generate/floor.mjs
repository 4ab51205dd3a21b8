// The floor of the generate benchmark: what reading and parsing the same pipeline files
// costs with nothing else. A plain script, written the way a person would: list the
// folder, read each pipeline YAML file, parse it with the `yaml` package that
// @xo-foundry/core uses. Prints what it parsed as JSON, for the benchmark to check.
//
//   node tools/bench/generate/floor.mjs PROJECT_DIR
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
// The same copy of `yaml` as the CLI's, even where the workspace root has another version.
const YAML = createRequire(path.join(REPO, "packages/core/package.json"))("yaml");

const dir = process.argv[2];
const names = [];
for (const file of readdirSync(dir).sort()) {
  if (!file.endsWith(".yaml") || file === "xo-foundry.yaml") continue;
  const value = YAML.parse(readFileSync(path.join(dir, file), "utf8"));
  names.push(value.pipeline.name);
}
console.log(JSON.stringify({ files: names.length, names: new Set(names).size }));
