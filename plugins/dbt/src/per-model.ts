/**
 * `render: per_model`: one task per selected model, read from the compiled manifest when
 * the graph is built, so the DAG holds static tasks and parsing it costs nothing more.
 * Each task runs the step's command on its model alone (`--select fqn:<model>`), which for
 * `dbt build` and `dbt test` includes the model's tests; tasks run after the nearest
 * selected models they depend on, through seeds, snapshots and unselected models alike.
 */
import path from "node:path";
import type { ExpandedTask, JsonObject, StepExpandInput } from "@xo-foundry/core";
import { DbtError } from "./errors.js";
import { readManifest } from "./manifest.js";
import { asList, type CoreCommand, type CoreOptions } from "./options.js";
import { findDbtProject } from "./project.js";
import { selectModels, type ManifestNode } from "./select.js";

const PER_MODEL: ReadonlySet<CoreCommand> = new Set(["build", "run", "test"]);

export function perModelTasks(command: CoreCommand, input: StepExpandInput<CoreOptions>): ExpandedTask[] {
  const { options, projectDir } = input;
  if (!PER_MODEL.has(command)) {
    throw new DbtError("XO_DBT_SELECTION_UNSUPPORTED", `render: per_model renders models, and dbt ${command} runs no models`, `use render: single for dbt.${command}`);
  }
  if (options.selector !== undefined) {
    throw new DbtError("XO_DBT_SELECTION_UNSUPPORTED", "render: per_model cannot evaluate a named `selector`", "write the selection in `select` and `exclude`, or use render: single");
  }
  const project = findDbtProject(projectDir, options.project_dir);
  const file = options.manifest !== undefined ? path.resolve(projectDir, options.manifest) : path.join(project.dir, "target", "manifest.json");
  const nodes = readManifest(file, path.relative(projectDir, file).split(path.sep).join("/"));
  const select = asList(options.select);
  const exclude = asList(options.exclude);
  const selected = selectModels(nodes, select, exclude);
  if (selected.length === 0) {
    throw new DbtError(
      "XO_DBT_SELECTION_EMPTY",
      `render: per_model: no model of ${path.relative(projectDir, file)} matches select ${JSON.stringify(select)}${exclude.length ? ` and exclude ${JSON.stringify(exclude)}` : ""}`,
      "check the selection with `dbt ls --select ...`, or run `dbt parse` again if models were added",
    );
  }
  const byId = new Map(nodes.map((n) => [n.uniqueId, n]));
  const names = taskNames(selected.map((id) => byId.get(id)!));
  const chosen = new Set(selected);
  // Everything but the selection itself, which each task replaces with its own model.
  const { select: _select, exclude: _exclude, render: _render, manifest: _manifest, ...shared } = options;
  return selected.map((id) => {
    const model = byId.get(id)!;
    return {
      name: names.get(id)!,
      with: { ...(shared as JsonObject), select: `fqn:${model.fqn.join(".")}` },
      upstream: nearestSelectedAncestors(id, byId, chosen)
        .map((a) => names.get(a)!)
        .sort(),
    };
  });
}

/** Task names from model names: lower case `[a-z0-9_]`, made unique with the package name, then a number. */
function taskNames(models: readonly ManifestNode[]): Map<string, string> {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "model";
  const counts = new Map<string, number>();
  for (const m of models) counts.set(clean(m.name), (counts.get(clean(m.name)) ?? 0) + 1);
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const m of models) {
    let name = counts.get(clean(m.name))! > 1 ? `${clean(m.packageName)}__${clean(m.name)}` : clean(m.name);
    for (let n = 2; used.has(name); n++) name = `${clean(m.name)}_${n}`;
    used.add(name);
    names.set(m.uniqueId, name.slice(0, 200));
  }
  return names;
}

/** The selected models a model depends on, looking through nodes that are not selected. */
function nearestSelectedAncestors(id: string, byId: ReadonlyMap<string, ManifestNode>, chosen: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  const seen = new Set<string>([id]);
  const stack = [...(byId.get(id)?.parents ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    if (chosen.has(next)) found.add(next);
    else stack.push(...(byId.get(next)?.parents ?? []));
  }
  return [...found];
}
