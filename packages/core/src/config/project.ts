/**
 * The project: the directory a pipeline belongs to, its optional `xo-foundry.yaml`
 * (defaults and plugin list) and the plugins discovered from its package.json.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { diagnostic, type Diagnostic } from "../errors.js";
import { Registry } from "../registry.js";
import { discoverPlugins, type DiscoveredPlugin } from "../discovery.js";
import { projectSchema, type ProjectConfig } from "./schema.js";
import { locate, readYamlFile, type ParsedYaml, type PathSegment } from "./yaml.js";
import { dottedPath } from "./load.js";

export const PROJECT_FILE = "xo-foundry.yaml";

export interface Project {
  readonly dir: string;
  /** Absolute path of `xo-foundry.yaml`, when the project has one. */
  readonly file?: string;
  readonly parsed?: ParsedYaml;
  readonly config: ProjectConfig;
  readonly defaults: Record<string, unknown>;
  readonly registry: Registry;
  readonly plugins: readonly DiscoveredPlugin[];
  /** Problems in the project file or with plugins; they apply to every pipeline of the project. */
  readonly diagnostics: readonly Diagnostic[];
}

export interface OpenProjectOptions {
  /** Plugins to register in addition to (or, with `discover: false`, instead of) discovered ones. */
  readonly plugins?: readonly unknown[];
  readonly discover?: boolean;
}

/**
 * The project root for a path: the nearest directory with `xo-foundry.yaml`, not
 * looking past the nearest package.json (the project boundary); else that
 * package.json's directory; else the directory itself.
 */
export function findProjectDir(start: string): string {
  const from = path.resolve(start);
  let dir = existsSync(from) && !from.match(/\.ya?ml$/i) ? from : path.dirname(from);
  for (;;) {
    if (existsSync(path.join(dir, PROJECT_FILE))) return dir;
    if (existsSync(path.join(dir, "package.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return existsSync(from) && !from.match(/\.ya?ml$/i) ? from : path.dirname(from);
    dir = parent;
  }
}

export async function openProject(start: string, options: OpenProjectOptions = {}): Promise<Project> {
  const dir = findProjectDir(start);
  const diagnostics: Diagnostic[] = [];
  const file = path.join(dir, PROJECT_FILE);
  let parsed: ParsedYaml | undefined;
  let config: ProjectConfig = { defaults: {} };
  if (existsSync(file)) {
    parsed = await readYamlFile(file, path.relative(process.cwd(), file) || file);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.diagnostics.length) {
      const result = projectSchema.safeParse(parsed.value ?? {});
      if (result.success) config = result.data;
      else {
        for (const issue of result.error.issues) {
          const p = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
          const key = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
          const at = key ? [...p, key] : p;
          diagnostics.push(
            key
              ? diagnostic("XO_CONFIG_UNKNOWN_KEY", { key, allowed: ["defaults", "plugins"] }, { file: parsed.file, ...locate(parsed, at, "key"), path: dottedPath(at) })
              : diagnostic("XO_CONFIG_INVALID_VALUE", { detail: issue.message }, { file: parsed.file, ...locate(parsed, at), path: dottedPath(at) }),
          );
        }
      }
    }
  }
  const registry = new Registry();
  let plugins: DiscoveredPlugin[] = [];
  if (options.discover !== false) {
    const found = await discoverPlugins(dir, config.plugins);
    diagnostics.push(...found.diagnostics);
    for (const p of found.plugins) {
      try {
        registry.register(p.plugin, p.packageName);
        plugins.push(p);
      } catch (e) {
        diagnostics.push(...((e as { diagnostics?: Diagnostic[] }).diagnostics ?? []));
      }
    }
  }
  for (const p of options.plugins ?? []) registry.register(p);
  plugins = plugins.sort((a, b) => (a.packageName < b.packageName ? -1 : 1));
  return {
    dir,
    ...(parsed ? { file, parsed } : {}),
    config,
    defaults: config.defaults as Record<string, unknown>,
    registry,
    plugins,
    diagnostics,
  };
}
