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

// Where discovery reads the project's dependencies, in the order a name is attributed to one.
const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

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
  const names = explicit ?? [...new Set(DEPENDENCY_FIELDS.flatMap((field) => Object.keys(own[field] ?? {})))].sort();
  const require = createRequire(packageJson);

  for (const name of names) {
    const metaPath = installedPackageJson(require, name);
    if (!metaPath) {
      if (explicit) diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: "the package is not installed" }));
      else {
        const missing = notInstalled(own, name);
        if (missing) diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", missing, { file: displayPath(packageJson) }, "warning"));
      }
      continue;
    }
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(readFileSync(metaPath, "utf8")) as Record<string, unknown>;
    } catch {
      if (explicit) diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: `its package.json (${metaPath}) is not valid JSON` }));
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
      if (!explicit && devOnly(own, name)) {
        diagnostics.push(diagnostic("XO_PLUGIN_DEV_DEPENDENCY", { plugin: name }, { file: displayPath(packageJson) }, "warning"));
      }
    } catch (e) {
      diagnostics.push(diagnostic("XO_PLUGIN_LOAD_FAILED", { plugin: name, detail: firstLine((e as Error).message) }));
    }
  }
  return { plugins, diagnostics, packageJson };
}

/**
 * The package.json of an installed package, found where Node looks for a bare import from
 * the project, also when the package's `exports` do not expose `./package.json`.
 */
function installedPackageJson(require: NodeJS.Require, name: string): string | undefined {
  try {
    return require.resolve(`${name}/package.json`);
  } catch {
    // Not installed, or installed with an `exports` map that hides its package.json.
  }
  for (const dir of require.resolve.paths(name) ?? []) {
    const candidate = path.join(dir, name, "package.json");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Why a declared dependency that is not installed is worth a warning: it may be a plugin,
 * and nothing else would tell the user it was skipped. Only `dependencies` count:
 * optional ones are left out by npm when they do not fit the platform, and dev ones by
 * `npm ci --omit=dev` on every worker (a plugin among them is reported when it is
 * installed, see `devOnly`).
 */
function notInstalled(own: Record<string, Record<string, string> | undefined>, name: string): { plugin: string; detail: string } | undefined {
  if (own.dependencies?.[name] === undefined) return undefined;
  return { plugin: name, detail: "it is in dependencies but not installed, so it was skipped; run `npm install` (or `npm ci`)" };
}

/** A plugin listed only under devDependencies works here and is missing on workers that install with --omit=dev. */
function devOnly(own: Record<string, Record<string, string> | undefined>, name: string): boolean {
  return own.devDependencies?.[name] !== undefined && own.dependencies?.[name] === undefined;
}

function displayPath(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
