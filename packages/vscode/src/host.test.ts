// The built dist/extension.js in a stand-in extension host (see __fixtures__/vscode-host.ts),
// talking to the real language server the project installed: what a user sees in VS Code
// for a typo, the three commands, a project without a server, and shutting down.
import childProcess, { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDir } from "@xo-foundry/testkit";
import { cliBin, helpdeskProject, packageDir as serverDir, pipelineYaml } from "../../language-server/src/__fixtures__/project.js";
import { createHost, loadExtension, type Extension, type Host } from "./__fixtures__/vscode-host.js";

const bundle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/extension.js");
const valid = pipelineYaml(3);
const typo = valid.replace("    - name: queue_001\n      status: open", "    - name: queue_001\n      stauts: open");

function cli(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Polls until `check` returns a value; the failure names what never happened and what the host saw. */
async function until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`waited ${timeoutMs / 1000}s for ${what}; messages: ${JSON.stringify(host.messages)}; diagnostics set: ${JSON.stringify(host.diagnosticSets)}; output channel:\n${host.log.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: TestDir;
let host: Host;
let extension: Extension;
let unload: () => void;
let file: string;
/** The processes the extension forked (the client forks the server with child_process.fork). */
const forked: ChildProcess[] = [];
const fork = childProcess.fork;

beforeAll(async () => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`node build.mjs\` in packages/vscode first`);
  dir = await helpdeskProject({ "tickets.yaml": valid });
  // Where npm would install it, in the project's own node_modules (here a link to the workspace package).
  await symlink(serverDir, dir.path("shop/node_modules/@xo-foundry/language-server"), "dir");
  // A second folder that has pipelines but never installed the server.
  await mkdir(dir.path("bare"));
  await writeFile(dir.path("bare/orders.yaml"), "pipeline:\n  name: orders\n");
  await writeFile(dir.path("bare/refunds.yaml"), "pipeline:\n  name: refunds\n");
  file = dir.path("shop/tickets.yaml");

  childProcess.fork = ((...args: Parameters<typeof fork>) => {
    const child = fork(...args);
    forked.push(child);
    return child;
  }) as typeof fork;
  host = createHost({ folders: [dir.path("shop"), dir.path("bare")], settings: { xoFoundry: { dagsFolder: "dags", server: { path: "" }, trace: { server: "off" } } } });
  ({ extension, unload } = loadExtension(bundle, host));
  extension.activate({ subscriptions: [] });
});

afterAll(async () => {
  for (const child of forked) if (child.exitCode === null && child.signalCode === null) child.kill();
  childProcess.fork = fork;
  unload?.();
  await dir?.remove();
});

const diagnosticsOf = (uri: string) => host.diagnosticSets.filter((s) => s.uri.toString() === uri).at(-1)?.diagnostics;

describe("the extension in a VS Code host", () => {
  it("starts the project's server for an opened pipeline and shows the CLI's diagnostic at the key, until it is fixed", async () => {
    await writeFile(file, typo);
    const document = host.open(file);
    const uri = document.uri.toString();
    const [d, ...more] = await until("the typo's diagnostic", () => (diagnosticsOf(uri)?.length ? diagnosticsOf(uri) : undefined));
    expect(more).toEqual([]);
    expect(forked).toHaveLength(1);
    expect(forked[0]?.spawnargs).toEqual(expect.arrayContaining([dir.path("shop/node_modules/@xo-foundry/language-server/bin/xo-foundry-language-server.js"), "--stdio"]));

    const line = typo.split("\n").findIndex((l) => l.includes("stauts"));
    expect(d!.range).toMatchObject({ start: { line, character: 6 }, end: { line, character: 12 } });
    expect(d!.severity).toBe(host.vscode.DiagnosticSeverity.Error);
    expect(d!.source).toBe("xo-foundry");
    expect(d!.code).toMatchObject({ value: "XO_CONFIG_UNKNOWN_KEY" });
    // The words `validate-config` prints for the same text, at the same line and column.
    const printed = await cli(["validate-config", "tickets.yaml"], dir.path("shop"));
    expect(printed.code).toBe(1);
    expect(printed.stderr).toContain(`tickets.yaml:${line + 1}:7 error XO_CONFIG_UNKNOWN_KEY\n${d!.message.replace(/^/gm, "  ")}\n`);

    await writeFile(file, valid);
    host.edit(document, valid);
    await until("the diagnostics to clear after the fix", () => (diagnosticsOf(uri)?.length === 0 ? true : undefined));
  }, 60_000);

  it("validates a file from the command palette and names it", async () => {
    await host.run("xoFoundry.validate", host.Uri.file(file));
    expect(host.messages.at(-1)).toEqual({ level: "info", text: "xo-foundry: tickets.yaml is valid.", actions: [] });

    const broken = dir.path("shop/broken.yaml");
    await writeFile(broken, typo);
    await host.run("xoFoundry.validate", host.Uri.file(broken));
    const line = typo.split("\n").findIndex((l) => l.includes("stauts")) + 1;
    expect(host.messages.at(-1)).toEqual({ level: "error", text: `xo-foundry: broken.yaml has 1 error. First, line ${line}: unknown key "stauts"`, actions: ["Show Problems"] });
  });

  it("previews the Python generate-dag writes, then writes it into <project>/dags", async () => {
    const generated = await cli(["generate-dag", "tickets.yaml", "-o", dir.path("cli-dags")], dir.path("shop"));
    expect(generated.code).toBe(0);
    const python = await readFile(dir.path("cli-dags/tickets.py"), "utf8");

    await host.run("xoFoundry.previewDag", host.Uri.file(file));
    const preview = host.shown.at(-1);
    expect(preview?.uri.scheme).toBe("xo-foundry-dag");
    expect(preview?.uri.path).toBe(host.Uri.file(dir.path("shop/dags/tickets.py")).path);
    expect(preview?.languageId).toBe("python");
    expect(preview?.getText()).toBe(python);

    await host.run("xoFoundry.generateDag", host.Uri.file(file));
    expect(await readFile(dir.path("shop/dags/tickets.py"), "utf8")).toBe(python);
    expect(host.messages.at(-1)).toEqual({ level: "info", text: `xo-foundry: generated the DAG of tickets.yaml: ${path.join("dags", "tickets.py")} (created).`, actions: ["Open"] });

    // Now the file on disk differs from what the pipeline generates: the preview is a diff.
    await writeFile(dir.path("shop/dags/tickets.py"), "# edited by hand\n");
    await host.run("xoFoundry.previewDag", host.Uri.file(file));
    const diff = host.commandsRun.at(-1);
    expect(diff?.command).toBe("vscode.diff");
    expect(String(diff?.args[0])).toBe(host.Uri.file(dir.path("shop/dags/tickets.py")).toString());
  });

  it("says once that a project has no language server, however many of its pipelines are opened", () => {
    const before = host.messages.length;
    host.open(dir.path("bare/orders.yaml"));
    host.open(dir.path("bare/refunds.yaml"));
    const told = host.messages.slice(before);
    expect(told).toEqual([
      { level: "error", text: expect.stringContaining("this project has no language server. Run `npm install -D @xo-foundry/language-server`"), actions: ["Copy Install Command", "Open Settings"] },
    ]);
    expect(forked).toHaveLength(1);
  });

  it("stops the server process on deactivate", async () => {
    const server = forked[0]!;
    expect(server.exitCode).toBeNull();
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    await extension.deactivate();
    const code = await Promise.race([exited, new Promise<"still running">((r) => setTimeout(() => r("still running"), 15_000))]);
    expect(code, "the server's exit code after deactivate()").toBe(0);
  });
});
