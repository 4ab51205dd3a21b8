import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  CodeActionRequest,
  CompletionRequest,
  DidChangeWatchedFilesNotification,
  ExecuteCommandRequest,
  FileChangeType,
  HoverRequest,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type MarkupContent,
} from "vscode-languageserver-protocol/node";
import type { TestDir } from "@xo-foundry/testkit";
import { startClient, type LspClient } from "./__fixtures__/client.js";
import { cliBin, helpdeskProject, pipelineYaml, REGION_DESCRIPTION, sourcePluginFiles } from "./__fixtures__/project.js";

function cli(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const labels = (items: CompletionItem[] | CompletionList | null) => (Array.isArray(items) ? items : (items?.items ?? [])).map((i) => i.label);
const itemsOf = (items: CompletionItem[] | CompletionList | null) => (Array.isArray(items) ? items : (items?.items ?? []));

let dir: TestDir;
let client: LspClient;
let file: string;
let uri: string;
const valid = pipelineYaml(122);

beforeAll(async () => {
  dir = await helpdeskProject({ "tickets.yaml": valid, "deploy/k8s.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  nam: x\n" });
  file = dir.path("shop/tickets.yaml");
  uri = pathToFileURL(file).href;
  client = await startClient({ cwd: dir.path("shop") });
});
afterAll(async () => {
  await client?.stop();
  await dir?.remove();
});

describe("language server over stdio", () => {
  it("initializes with completion, hover, quick fixes and the contract's commands", () => {
    const caps = client.initialized.capabilities;
    expect(caps.completionProvider).toBeTruthy();
    expect(caps.hoverProvider).toBe(true);
    expect(caps.codeActionProvider).toEqual({ codeActionKinds: ["quickfix"] });
    expect(caps.executeCommandProvider?.commands).toEqual(["xo-foundry.validate", "xo-foundry.previewDag", "xo-foundry.generateDag"]);
  });

  it("reports a typo in a 500-line pipeline as validate-config does, at the key's exact range, offers the fix, and clears it", async () => {
    expect(valid.split("\n").length).toBeGreaterThanOrEqual(500);
    await client.open(uri, valid, 1);
    expect((await client.diagnostics(uri, 1)).diagnostics).toEqual([]);

    // Deep in the file: the 100th stream's `status` key.
    const typo = valid.replace("    - name: queue_099\n      status: open", "    - name: queue_099\n      stauts: open");
    await client.change(uri, typo, 2);
    const published = (await client.diagnostics(uri, 2)).diagnostics;
    expect(published).toHaveLength(1);
    const d = published[0]!;
    const line = typo.split("\n").findIndex((l) => l.includes("stauts"));
    expect(d.range).toEqual({ start: { line, character: 6 }, end: { line, character: 12 } });
    expect(d).toMatchObject({ code: "XO_CONFIG_UNKNOWN_KEY", severity: 1, source: "xo-foundry", codeDescription: { href: expect.stringContaining("#xo_config_unknown_key") } });

    // The same words the CLI prints for the same text on disk, at the same place.
    await writeFile(file, typo);
    const printed = await cli(["validate-config", "tickets.yaml"], dir.path("shop"));
    await writeFile(file, valid);
    expect(printed.code).toBe(1);
    expect(printed.stderr).toContain(`tickets.yaml:${line + 1}:7 error XO_CONFIG_UNKNOWN_KEY\n${(d.message as string).replace(/^/gm, "  ")}\n`);
    expect(d.message).toBe('source.streams[99].stauts: unknown key "stauts"\nhint: did you mean "status"?');

    const actions = await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    expect(actions).toEqual([
      expect.objectContaining({ kind: "quickfix", title: 'Change to "status"', edit: { changes: { [uri]: [{ range: d.range, newText: "status" }] } } }),
    ]);
    // Clients that drop `data` still get the fix, from the message.
    const { data: _data, ...withoutData } = d;
    const again = await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [withoutData as Diagnostic] } });
    expect(again).toHaveLength(1);

    await client.change(uri, valid, 3);
    expect((await client.diagnostics(uri, 3)).diagnostics).toEqual([]);
  });

  it("publishes only the newest version's diagnostics when edits come faster than checks", async () => {
    const broken = (n: number) => valid.replace("  retries: 3", `  retries: ${"x".repeat(n)}`);
    for (let v = 10; v < 20; v++) await client.change(uri, broken(v), v);
    await client.change(uri, valid.replace("  retries: 3", "  retrys: 3"), 20);
    const last = await client.diagnostics(uri, 20);
    expect(last.diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_UNKNOWN_KEY"]);
    await client.change(uri, valid, 21);
    expect((await client.diagnostics(uri, 21)).diagnostics).toEqual([]);
    // Never an older version's results after a newer one's.
    const versions = client.publishedVersions(uri);
    expect(versions).toEqual([...versions].sort((a, b) => a! - b!));
    expect(versions.slice(-2)).toEqual([20, 21]);
  });

  it("completes the keys a mapping may still take, required first, and known values", async () => {
    const text = valid.replace("  retries: 3\n", "  retries: 3\n  \n");
    await client.change(uri, text, 30);
    const line = text.split("\n").indexOf("  ");
    const keys = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line, character: 2 } });
    expect(labels(keys)).toEqual(expect.arrayContaining(["end_date", "timezone", "catchup", "dag_id"]));
    expect(labels(keys)).not.toContain("name"); // already there
    expect(labels(keys)).not.toContain("plugin"); // not a pipeline key

    const top = valid + "\n";
    await client.change(uri, top, 31);
    const root = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: top.split("\n").length - 1, character: 0 } });
    expect(labels(root)).toEqual(expect.arrayContaining(["landing", "runner", "steps", "template"]));
    expect(labels(root)).not.toContain("source");

    const loadStrategy = valid.replace("  retries: 3\n", "  retries: 3\n  load_strategy: \n");
    await client.change(uri, loadStrategy, 32);
    const at = loadStrategy.split("\n").indexOf("  load_strategy: ");
    const values = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: at, character: 17 } });
    expect(labels(values).sort()).toEqual(["full_refresh", "historical", "incremental"]);
  });

  it("completes a third-party plugin's source options and values from the project's node_modules", async () => {
    const text = valid.replace("  page_size: 50\n", "  page_size: 50\n  \n");
    await client.change(uri, text, 40);
    const line = text.split("\n").indexOf("  ");
    const options = itemsOf(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line, character: 2 } }));
    expect(options.map((i) => i.label)).toEqual(expect.arrayContaining(["connection", "pool", "sink"]));
    // Present already: not offered again.
    expect(options.map((i) => i.label)).not.toContain("region");

    const fresh = text.replace("  region: eu\n", "");
    await client.change(uri, fresh, 41);
    const freshLine = fresh.split("\n").indexOf("  ");
    const again = itemsOf(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: freshLine, character: 2 } }));
    const region = again.find((i) => i.label === "region");
    expect(region?.documentation).toEqual({ kind: "markdown", value: REGION_DESCRIPTION });
    expect(region?.detail).toBe('"eu" | "us"');

    const regionValue = valid.replace("  region: eu", "  region: ");
    await client.change(uri, regionValue, 42);
    const at = regionValue.split("\n").indexOf("  region: ");
    expect(labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: at, character: 10 } }))).toEqual(["eu", "us"]);

    const plugin = valid.replace("  plugin: helpdesk", "  plugin: h");
    await client.change(uri, plugin, 43);
    const p = plugin.split("\n").indexOf("  plugin: h");
    expect(labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: p, character: 11 } }))).toEqual(["helpdesk"]);

    // Inside a stream: the plugin's stream options.
    const stream = valid.replace("    - name: queue_000\n      status: open\n", "    - name: queue_000\n      \n");
    await client.change(uri, stream, 44);
    const s = stream.split("\n").indexOf("      ");
    expect(labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: s, character: 6 } }))).toEqual(
      expect.arrayContaining(["status", "mode"]),
    );

    // A new list item: a stream's keys, its required `name` first.
    const item = valid.replace("  streams:\n", "  streams:\n    - \n");
    await client.change(uri, item, 45);
    const i = item.split("\n").indexOf("    - ");
    const streamKeys = itemsOf(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: i, character: 6 } }));
    const sorted = [...streamKeys].sort((a, b) => a.sortText!.localeCompare(b.sortText!)).map((k) => k.label);
    expect(sorted[0]).toBe("name");
    expect(sorted).toEqual(expect.arrayContaining(["status", "target", "mode"]));
  });

  it("shows a key's description, type and values on hover", async () => {
    await client.change(uri, valid, 50);
    const line = valid.split("\n").indexOf("  region: eu");
    const shown = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: 4 } });
    const value = (shown?.contents as MarkupContent).value;
    expect(value).toContain(REGION_DESCRIPTION);
    expect(value).toContain('`"eu" | "us"`');
    expect(value).toContain('Default: `"eu"`');
    expect(shown?.range).toEqual({ start: { line, character: 2 }, end: { line, character: 8 } });

    const start = valid.split("\n").indexOf("  start_date: 2026-01-01");
    const core = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: start, character: 3 } });
    expect((core?.contents as MarkupContent).value).toContain("First logical date");
  });

  it("previews the Python generate-dag writes and writes it into <project>/dags", async () => {
    const edited = valid.replace("  retries: 3", "  retries: 4");
    await client.change(uri, edited, 60);
    const validated = (await client.connection.sendRequest(ExecuteCommandRequest.type, { command: "xo-foundry.validate", arguments: [uri] })) as { valid: boolean; diagnostics: unknown[] };
    expect(validated).toEqual({ valid: true, diagnostics: [] });

    const preview = (await client.connection.sendRequest(ExecuteCommandRequest.type, { command: "xo-foundry.previewDag", arguments: [uri] })) as Record<string, unknown>;
    expect(preview).toMatchObject({ valid: true, diagnostics: [], fileName: "tickets.py", target: dir.path("shop/dags/tickets.py") });
    expect(preview.onDisk).toBeUndefined();
    // The open document's text counts, not the file on disk.
    expect(preview.content).toContain("retries");
    await writeFile(file, edited);
    const generated = await cli(["generate-dag", "tickets.yaml", "-o", dir.path("cli-dags")], dir.path("shop"));
    expect(generated.code).toBe(0);
    expect(preview.content).toBe(await readFile(dir.path("cli-dags/tickets.py"), "utf8"));

    const written = (await client.connection.sendRequest(ExecuteCommandRequest.type, { command: "xo-foundry.generateDag", arguments: [uri] })) as Record<string, unknown>;
    expect(written).toEqual({ valid: true, diagnostics: [], files: [{ file: dir.path("shop/dags/tickets.py"), change: "created" }] });
    expect(await readFile(dir.path("shop/dags/tickets.py"), "utf8")).toBe(preview.content);
    await writeFile(file, valid);
  });

  it("refuses to generate an invalid pipeline and says why, and generates only what is saved", async () => {
    const bad = valid.replace("  plugin: helpdesk", "  plugin: helpdsk");
    await client.change(uri, bad, 70);
    const unsaved = client.connection.sendRequest(ExecuteCommandRequest.type, { command: "xo-foundry.generateDag", arguments: [uri] });
    await expect(unsaved).rejects.toThrow(/unsaved changes: save it first/);
    await writeFile(file, bad);
    const result = (await client.connection.sendRequest(ExecuteCommandRequest.type, { command: "xo-foundry.generateDag", arguments: [uri] })) as { valid: boolean; diagnostics: { code: string; hint: string }[]; files: unknown[] };
    expect(result.valid).toBe(false);
    expect(result.files).toEqual([]);
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: "XO_PLUGIN_UNKNOWN", hint: 'did you mean "helpdesk"?' })]);
    const published = (await client.diagnostics(uri, 70)).diagnostics;
    const line = bad.split("\n").indexOf("  plugin: helpdsk");
    expect(published.map((d) => [d.code, d.range])).toEqual([["XO_PLUGIN_UNKNOWN", { start: { line, character: 10 }, end: { line, character: 17 } }]]);
    const fixes = await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: published[0]!.range, context: { diagnostics: published, only: ["quickfix"] } });
    expect(fixes?.map((f) => ("edit" in f ? f.edit?.changes?.[uri] : undefined))).toEqual([[{ range: published[0]!.range, newText: "helpdesk" }]]);
    await writeFile(file, valid);
    await client.change(uri, valid, 71);
    expect((await client.diagnostics(uri, 71)).diagnostics).toEqual([]);
  });

  it("gives other YAML files no diagnostics", async () => {
    const k8s = pathToFileURL(dir.path("shop/deploy/k8s.yaml")).href;
    await client.open(k8s, await readFile(dir.path("shop/deploy/k8s.yaml"), "utf8"), 1);
    expect(await client.diagnostics(k8s, 1)).toEqual({ uri: k8s, version: 1, diagnostics: [] });
    const completions = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: k8s }, position: { line: 3, character: 2 } });
    expect(labels(completions)).toEqual([]);
  });
});

describe("project defaults", () => {
  let other: TestDir;
  let second: LspClient;
  afterAll(async () => {
    await second?.stop();
    await other?.remove();
  });

  it("reports a bad default at its line in xo-foundry.yaml, and writes DAGs into the dagsFolder setting", async () => {
    other = await helpdeskProject({ "xo-foundry.yaml": "defaults:\n  pipeline:\n    retries: many\n", "tickets.yaml": pipelineYaml(2).replace("  retries: 3\n", "") });
    second = await startClient({ cwd: other.path("shop"), settings: { dagsFolder: "airflow/dags" } });
    const pipeline = pathToFileURL(other.path("shop/tickets.yaml")).href;
    const project = pathToFileURL(other.path("shop/xo-foundry.yaml")).href;
    await second.open(pipeline, await readFile(other.path("shop/tickets.yaml"), "utf8"), 1);
    expect((await second.diagnostics(pipeline, 1)).diagnostics).toEqual([]);
    const there = (await second.diagnostics(project)).diagnostics;
    expect(there.map((d) => [d.code, d.range])).toEqual([["XO_CONFIG_INVALID_TYPE", { start: { line: 2, character: 13 }, end: { line: 2, character: 17 } }]]);

    // The fixed file is read again once the client says it changed, and the old error goes.
    await writeFile(other.path("shop/xo-foundry.yaml"), "defaults:\n  pipeline:\n    retries: 1\n");
    const cleared = second.nextDiagnostics(project);
    await second.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project, type: FileChangeType.Changed }] });
    expect((await cleared).diagnostics).toEqual([]);
    const result = (await second.connection.sendRequest(ExecuteCommandRequest.type, { command: "xo-foundry.generateDag", arguments: [pipeline] })) as { files: { file: string }[] };
    expect(result.files.map((f) => path.relative(other.path("shop"), f.file))).toEqual([path.join("airflow", "dags", "tickets.py")]);
  });

  it("offers a plugin installed while it runs once package.json changes", async () => {
    const pipeline = pathToFileURL(other.path("shop/tickets.yaml")).href;
    // Without the helpdesk's own options, which would rule other sources out.
    const text = pipelineYaml(2).replace("  plugin: helpdesk", "  plugin: ").replace("  region: eu\n  page_size: 50\n", "");
    await second.change(pipeline, text, 2);
    const line = text.split("\n").indexOf("  plugin: ");
    const plugins = () => second.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: pipeline }, position: { line, character: 10 } });
    expect(labels(await plugins())).toEqual(["helpdesk"]);

    for (const [name, content] of Object.entries(sourcePluginFiles("@acme/xo-foundry-plugin-crm", "crm"))) await other.write(`shop/${name}`, content);
    const manifest = JSON.parse(await readFile(other.path("shop/package.json"), "utf8")) as { dependencies: Record<string, string> };
    manifest.dependencies["@acme/xo-foundry-plugin-crm"] = "^0.1.0";
    await writeFile(other.path("shop/package.json"), JSON.stringify(manifest));
    const rechecked = second.nextDiagnostics(pipeline);
    await second.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(other.path("shop/package.json")).href, type: FileChangeType.Changed }] });
    await rechecked;
    expect(labels(await plugins())).toEqual(["crm", "helpdesk"]);
  });
});
