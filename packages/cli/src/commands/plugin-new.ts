import { mkdir, readdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { diagnostic, XoError } from "@xo-foundry/core";
import { output } from "../output.js";
import { PLUGIN_NAME, scaffoldFiles, type PluginKind } from "../scaffold.js";

export interface PluginNewOptions {
  readonly kind: PluginKind;
  /** Where the package goes; `./xo-foundry-plugin-<name>` by default. */
  readonly dir?: string;
  /** The npm name; `xo-foundry-plugin-<name>` by default. */
  readonly packageName?: string;
  readonly json?: boolean;
}

/**
 * Writes a new plugin package: a working component of the kind asked for, its contract
 * test and a README. Only into a new or empty folder: a scaffold never replaces a file.
 */
export async function pluginNewCommand(name: string, options: PluginNewOptions): Promise<number> {
  if (!PLUGIN_NAME.test(name)) {
    throw refused(
      `the plugin name ${JSON.stringify(name)} must start with a lower-case letter and hold only lower-case letters, digits and _ (at most 40)`,
      "e.g. `xo-foundry plugin new acme_crm --kind source`; the name becomes the component id, the factory and the error code prefix",
    );
  }
  const packageName = options.packageName ?? `xo-foundry-plugin-${name.replaceAll("_", "-")}`;
  const dir = path.resolve(options.dir ?? packageName.replace(/^@[^/]+\//, ""));
  const existing = await readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? [] : Promise.reject(e)));
  if (existing.length > 0) {
    throw refused(`${dir} is not empty; a new plugin is written only into a new or empty folder`, "choose another folder with --dir, or another name");
  }

  const files = scaffoldFiles({ name, kind: options.kind, packageName, coreVersion: coreVersion() });
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content, { flag: "wx" });
  }

  const out = output(Boolean(options.json));
  out.line(`created ${packageName} (${options.kind}) in ${dir}`);
  for (const file of Object.keys(files)) out.line(`  ${file}`);
  out.line();
  out.line("next:");
  out.line(`  cd ${path.relative(process.cwd(), dir) || "."} && npm install && npm run build && npm test`);
  out.document({ package: packageName, kind: options.kind, dir, files: Object.keys(files) });
  return 0;
}

function refused(message: string, hint: string): XoError {
  return new XoError({ ...diagnostic("XO_CONFIG_INVALID_VALUE", { detail: message }), hint });
}

/** The core this CLI runs with: new plugins are built against it. */
function coreVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("@xo-foundry/core/package.json") as { version: string }).version;
}
