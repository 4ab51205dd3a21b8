// What `npm run build` ships: the .vsix is opened and read like VS Code reads it.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8")) as { name: string; version: string; publisher: string };
const vsix = path.join(here, "dist", `${source.name}-${source.version}.vsix`);

// yauzl is what vsce itself reads and writes zips with; resolved through vsce, which depends on it.
interface ZipEntry {
  fileName: string;
}
interface ZipFile {
  readEntry(): void;
  on(event: "entry", listener: (entry: ZipEntry) => void): void;
  on(event: "end", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  openReadStream(entry: ZipEntry, callback: (error: Error | null, stream: NodeJS.ReadableStream) => void): void;
}
const yauzl = createRequire(createRequire(import.meta.url).resolve("@vscode/vsce/package.json"))("yauzl") as {
  open(file: string, options: { lazyEntries: boolean }, callback: (error: Error | null, zip: ZipFile) => void): void;
};

function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const entries = new Map<string, Buffer>();
      zip.on("error", reject);
      zip.on("end", () => resolve(entries));
      zip.on("entry", (entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("error", reject);
          stream.on("end", () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** `npm test` builds first; a bare `vitest run` builds when the .vsix is missing or older than what goes into it. */
function stale(): boolean {
  let built: number;
  try {
    built = statSync(vsix).mtimeMs;
  } catch {
    return true;
  }
  const inputs = ["package.json", "build.mjs", ".vscodeignore", "README.md", "CHANGELOG.md", "LICENSE", ...readdirSync(path.join(here, "src")).map((f) => `src/${f}`)];
  return inputs.some((f) => statSync(path.join(here, f)).mtimeMs > built);
}

let entries: Map<string, Buffer>;
let manifest: {
  name: string;
  publisher: string;
  version: string;
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    configuration: { properties: Record<string, { default?: unknown }> };
  };
};

beforeAll(async () => {
  if (stale()) execFileSync(process.execPath, [path.join(here, "build.mjs")], { cwd: here, stdio: "pipe" });
  entries = await readZip(vsix);
  manifest = JSON.parse(entries.get("extension/package.json")?.toString("utf8") ?? "null") as typeof manifest;
}, 120_000);

describe("the .vsix", () => {
  it("holds the bundle and the marketplace files, no sources and no node_modules", () => {
    const names = [...entries.keys()];
    expect(names.filter((n) => n.startsWith("extension/")).sort()).toEqual([
      "extension/LICENSE.txt",
      "extension/changelog.md",
      "extension/dist/extension.js",
      "extension/package.json",
      "extension/readme.md",
    ]);
    expect(names.filter((n) => /node_modules\/|(^|\/)src\/|\.ts$|\.vsix$/.test(n))).toEqual([]);
    expect(entries.get("extension/LICENSE.txt")?.toString("utf8")).toContain("Apache License");
  });

  it("has a manifest with the identity, engine and an existing main", () => {
    expect(manifest).toMatchObject({ name: "xo-foundry-vscode", publisher: source.publisher, version: source.version, engines: { vscode: "^1.91.0" } });
    expect(manifest.publisher).toMatch(/\S/);
    expect(entries.has(`extension/${path.posix.normalize(manifest.main)}`)).toBe(true);
    const vsixManifest = entries.get("extension.vsixmanifest")?.toString("utf8") ?? "";
    expect(vsixManifest).toMatch(new RegExp(`<Identity [^>]*Id="xo-foundry-vscode"[^>]*Version="${source.version}"[^>]*Publisher="${source.publisher}"`));
  });

  it("contributes the three commands to the palette and the YAML context menu", () => {
    const ids = ["xoFoundry.validate", "xoFoundry.generateDag", "xoFoundry.previewDag"];
    expect(manifest.contributes.commands.map((c) => c.command).sort()).toEqual([...ids].sort());
    expect(manifest.contributes.commands.map((c) => c.title).sort()).toEqual(["Generate DAG", "Preview DAG", "Validate Pipeline"]);
    for (const menu of ["commandPalette", "editor/context"]) {
      const items = manifest.contributes.menus[menu] ?? [];
      expect(items.map((i) => i.command).sort()).toEqual([...ids].sort());
      for (const item of items) expect(item.when).toMatch(/LangId == yaml/);
    }
  });

  it("activates on YAML and in projects, and declares its settings", () => {
    expect(manifest.activationEvents).toEqual(expect.arrayContaining(["onLanguage:yaml", "workspaceContains:**/xo-foundry.yaml"]));
    const settings = manifest.contributes.configuration.properties;
    expect(Object.keys(settings).sort()).toEqual(["xoFoundry.dagsFolder", "xoFoundry.server.path", "xoFoundry.trace.server"]);
    expect(settings["xoFoundry.dagsFolder"]?.default).toBe("dags");
  });

  it("bundles vscode-languageclient and leaves only vscode and Node built-ins to require", () => {
    const bundle = entries.get("extension/dist/extension.js")?.toString("utf8") ?? "";
    expect(bundle).not.toMatch(/require\(["']vscode-languageclient/);
    // A message of vscode-languageclient/node's process launcher: the library is inside.
    expect(bundle).toContain("Launching server using");
    const required = new Set([...bundle.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]));
    expect([...required].filter((name) => name !== "vscode" && !isBuiltin(name!))).toEqual([]);
    expect(required.has("vscode")).toBe(true);
    for (const id of ["xoFoundry.validate", "xoFoundry.generateDag", "xoFoundry.previewDag", "xo-foundry-dag"]) expect(bundle).toContain(id);
  });
});
