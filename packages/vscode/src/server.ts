// Which language server to start for a file. Like the ESLint extension with eslint, we run
// the project's own @xo-foundry/language-server: it loads the project's @xo-foundry/cli and
// plugins, so diagnostics, completion and generated DAGs match what `npx xo-foundry` does
// in that project. Pure: the file system is passed in, so tests need no disk and no VS Code.
import path from "node:path";

export const SERVER_PACKAGE = "@xo-foundry/language-server";
export const SERVER_BIN = "xo-foundry-language-server";
export const INSTALL_COMMAND = `npm install -D ${SERVER_PACKAGE}`;

export interface ServerFs {
  /** True when a file or folder exists at the absolute path. */
  exists(file: string): boolean;
  isDirectory(file: string): boolean;
  /** The parsed JSON of a file; throws when it is missing or not JSON. */
  readJson(file: string): unknown;
}

export interface ServerLocation {
  /** The server's bin script, run with the extension host's Node. */
  readonly module: string;
  /**
   * The folder whose files this server serves: the project that installed it, or the
   * workspace folder for a server named by the setting.
   */
  readonly root: string;
  readonly from: "project" | "setting";
}

export interface FindServerInput {
  /** The folder of the opened file (absolute). */
  readonly fileDir: string;
  /** The workspace folder holding the file, if any (absolute). */
  readonly workspaceFolder?: string | undefined;
  /** `xoFoundry.server.path`: the package folder or its bin script; relative to the workspace folder. */
  readonly settingPath?: string | undefined;
}

export type FindServerResult =
  | { readonly ok: true; readonly server: ServerLocation }
  | { readonly ok: false; readonly reason: "not-installed" | "bad-setting"; readonly detail?: string };

/**
 * The project's server, found from the file's folder upwards, else the one the setting
 * names. We walk node_modules by hand (the lookup `require.resolve` does, minus NODE_PATH)
 * because we also need the folder it was found in: in an npm workspace the package resolves
 * to its real path, which does not say which project installed it.
 */
export function findServer(input: FindServerInput, fs: ServerFs): FindServerResult {
  for (let dir = path.resolve(input.fileDir); ; dir = path.dirname(dir)) {
    const packageDir = path.join(dir, "node_modules", ...SERVER_PACKAGE.split("/"));
    if (fs.exists(path.join(packageDir, "package.json"))) {
      const module = binOf(packageDir, fs);
      // A broken install is reported like a missing one: reinstalling fixes both.
      if (module) return { ok: true, server: { module, root: dir, from: "project" } };
      return { ok: false, reason: "not-installed", detail: `${packageDir} has no "${SERVER_BIN}" bin script` };
    }
    if (path.dirname(dir) === dir) break;
  }

  const setting = input.settingPath?.trim();
  if (!setting) return { ok: false, reason: "not-installed" };
  const base = input.workspaceFolder ?? input.fileDir;
  const named = path.resolve(base, setting);
  const module = !fs.exists(named) ? undefined : fs.isDirectory(named) ? binOf(named, fs) : named;
  if (!module) {
    return { ok: false, reason: "bad-setting", detail: `xoFoundry.server.path is "${setting}": ${named} is not the ${SERVER_PACKAGE} folder or its bin script` };
  }
  return { ok: true, server: { module, root: path.resolve(base), from: "setting" } };
}

/** The absolute path of the package's `xo-foundry-language-server` bin, if it exists. */
function binOf(packageDir: string, fs: ServerFs): string | undefined {
  let manifest: unknown;
  try {
    manifest = fs.readJson(path.join(packageDir, "package.json"));
  } catch {
    return undefined;
  }
  if (typeof manifest !== "object" || manifest === null) return undefined;
  const bin = (manifest as { bin?: unknown }).bin;
  const relative = typeof bin === "string" ? bin : typeof bin === "object" && bin !== null ? (bin as Record<string, unknown>)[SERVER_BIN] : undefined;
  if (typeof relative !== "string") return undefined;
  const module = path.resolve(packageDir, relative);
  return fs.exists(module) ? module : undefined;
}

/** The one message shown when a pipeline file has no server to check it. */
export function missingServerMessage(result: Extract<FindServerResult, { ok: false }>): string {
  if (result.reason === "bad-setting") return `xo-foundry: ${result.detail ?? "xoFoundry.server.path names no language server"}.`;
  return (
    `xo-foundry: this project has no language server. Run \`${INSTALL_COMMAND}\` in the project ` +
    `(it must be the project's own, to see the project's plugins), or set xoFoundry.server.path.` +
    (result.detail ? ` (${result.detail})` : "")
  );
}

/**
 * Whether a YAML text is likely an xo-foundry pipeline (a top-level `pipeline:` key, as the
 * contract defines it). The extension activates on every YAML file; only these deserve the
 * "install the server" message, not Kubernetes manifests or dbt files.
 */
export function looksLikePipeline(text: string): boolean {
  return /^(?:pipeline|"pipeline"|'pipeline')[ \t]*:/m.test(text);
}
