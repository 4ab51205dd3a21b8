/**
 * Plugin discovery reads only the user project's own package.json: every
 * dependency whose package.json has an `"xo-foundry"` field is a plugin, or just
 * the packages listed under `plugins:` in the project file. node_modules is never
 * scanned, so an unrelated transitive package can never inject a plugin.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { diagnostic, type Diagnostic } from "./errors.js";

/** The `"xo-foundry"` field of a plugin package's package.json. */
export interface PluginManifestField {
  /** Name of the exported factory function that returns the plugin. */
  readonly factory: string;
}

export interface DiscoveredPlugin {
  readonly packageName: string;
  readonly packageVersion: string;
  readonly plugin: unknown;
}

export interface Discovery {
  readonly plugins: readonly DiscoveredPlugin[];
  readonly diagnostics: readonly Diagnostic[];
  /** The package.json whose dependencies were read, if any. */
  readonly packageJson?: string;
}

export function findPackageJson(dir: string): string | undefined {
  let current = path.resolve(dir);
  for (;;) {
    const candidate = path.join(current, "package.json");
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

export async function discoverPlugins(projectDir: string, explicit?: readonly string[]): Promise<Discovery> {
  const packageJson = findPackageJson(projectDir);
  const diagnostics: Diagnostic[] = [];
  const plugins: DiscoveredPlugin[] = [];
  if (!packageJson) {
    for (const name of explicit ?? []) {
      diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: `no package.json found from ${projectDir}` }));
    }
    return { plugins, diagnostics };
  }
  const own = JSON.parse(readFileSync(packageJson, "utf8")) as Record<string, Record<string, string> | undefined>;
  const names =
    explicit ?? [...new Set([own.dependencies, own.devDependencies, own.optionalDependencies].flatMap((d) => Object.keys(d ?? {})))].sort();
  const require = createRequire(packageJson);

  for (const name of names) {
    let meta: Record<string, unknown>;
    let metaPath: string;
    try {
      metaPath = require.resolve(`${name}/package.json`);
      meta = JSON.parse(readFileSync(metaPath, "utf8")) as Record<string, unknown>;
    } catch {
      if (explicit) diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: "the package is not installed" }));
      continue;
    }
    const field = meta["xo-foundry"] as Partial<PluginManifestField> | undefined;
    if (!field) {
      if (explicit) diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: 'its package.json has no "xo-foundry" field' }));
      continue;
    }
    if (typeof field.factory !== "string") {
      diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: '"xo-foundry".factory must name the exported plugin factory' }));
      continue;
    }
    try {
      const entry = require.resolve(name);
      const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
      const factory = mod[field.factory];
      if (typeof factory !== "function") throw new Error(`it does not export a function named ${JSON.stringify(field.factory)}`);
      plugins.push({ packageName: name, packageVersion: String(meta.version ?? "0.0.0"), plugin: (factory as () => unknown)() });
    } catch (e) {
      diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: firstLine((e as Error).message) }));
    }
  }
  return { plugins, diagnostics, packageJson };
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
