// The extension: starts the project's xo-foundry language server for pipeline files and adds
// Validate / Generate DAG / Preview DAG. Checking, completion and generation all happen in
// the server (the project's own @xo-foundry/cli); this file only starts it and shows answers.
import * as fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";
import { DagPreviews, PREVIEW_SCHEME } from "./preview.js";
import {
  SERVER_COMMANDS,
  asResult,
  generateMessage,
  previewPlan,
  validateMessage,
  type GenerateResult,
  type Message,
  type PreviewResult,
  type ServerCommand,
  type ValidateResult,
} from "./results.js";
import { INSTALL_COMMAND, findServer, looksLikePipeline, missingServerMessage, type FindServerResult, type ServerFs, type ServerLocation } from "./server.js";

/** The settings section; also the client id, so `xoFoundry.trace.server` sets the LSP trace. */
const SECTION = "xoFoundry";
const DEFAULT_DAGS_FOLDER = "dags";

/** One running server: the project's, serving the YAML files under `root`. */
interface Project {
  readonly server: ServerLocation;
  readonly client: LanguageClient;
  /** Settles when the server has answered `initialize` (rejects when it could not start). */
  readonly started: Promise<void>;
  readonly watcher: vscode.FileSystemWatcher;
}

/**
 * The server's own commands are reached only through ours, which pick the project of the
 * file. Registering them as VS Code commands too (what the client does by default) would
 * fail for the second project: a command id can be registered once.
 */
class ProjectClient extends LanguageClient {
  override registerFeature(feature: Parameters<LanguageClient["registerFeature"]>[0]): void {
    if ("registrationType" in feature && feature.registrationType.method === ExecuteCommandRequest.method) return;
    super.registerFeature(feature);
  }
}

const diskFs: ServerFs = {
  exists: (file) => fs.existsSync(file),
  isDirectory: (file) => fs.statSync(file).isDirectory(),
  readJson: (file) => JSON.parse(fs.readFileSync(file, "utf8")) as unknown,
};

/** The running servers, by the folder they serve. */
const projects = new Map<string, Project>();
const located = new Map<string, FindServerResult>();
let output: vscode.LogOutputChannel | undefined;
let previews: DagPreviews | undefined;
/** The "install the server" message is shown once a session for files opened, every time for commands. */
let toldMissing = false;

export function activate(context: vscode.ExtensionContext): void {
  output = vscode.window.createOutputChannel("xo-foundry", { log: true });
  previews = new DagPreviews();
  context.subscriptions.push(
    output,
    previews,
    vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, previews),
    vscode.workspace.onDidOpenTextDocument((document) => {
      serve(document, false);
    }),
    vscode.workspace.onDidCloseTextDocument((document) => located.delete(document.uri.toString())),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.server.path`)) void restart();
    }),
    vscode.commands.registerCommand("xoFoundry.validate", (uri?: unknown) => validate(uri)),
    vscode.commands.registerCommand("xoFoundry.generateDag", (uri?: unknown) => generateDag(uri)),
    vscode.commands.registerCommand("xoFoundry.previewDag", (uri?: unknown) => previewDag(uri)),
  );
  for (const document of vscode.workspace.textDocuments) serve(document, false);
}

export async function deactivate(): Promise<void> {
  await stopAll();
}

/** The project serving this document, starting its server on first use. */
function serve(document: vscode.TextDocument, asked: boolean): Project | undefined {
  if (document.uri.scheme !== "file" || document.languageId !== "yaml") return undefined;
  // A command looks again: the server may have been installed since the file was opened.
  if (asked && located.get(document.uri.toString())?.ok === false) located.delete(document.uri.toString());
  const found = locate(document);
  if (!found.ok) {
    const file = document.uri.fsPath;
    const ours = looksLikePipeline(document.getText()) || path.basename(file) === "xo-foundry.yaml";
    if (asked || (ours && !toldMissing)) tellMissing(found);
    return undefined;
  }
  const existing = projects.get(found.server.root);
  if (existing) return existing;
  const project = start(found.server);
  projects.set(found.server.root, project);
  return project;
}

/**
 * The server of a file, looked up once per opened document: which server a document is
 * synced with must not change while it is open.
 */
function locate(document: vscode.TextDocument): FindServerResult {
  const key = document.uri.toString();
  const known = located.get(key);
  if (known) return known;
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  const settingPath = vscode.workspace.getConfiguration(SECTION, document.uri).get<string>("server.path");
  const found = findServer({ fileDir: path.dirname(document.uri.fsPath), workspaceFolder: folder?.uri.fsPath, settingPath }, diskFs);
  located.set(key, found);
  return found;
}

/** Whether a document is this server's: false for files of a project nested inside `root` that has its own server. */
function owns(root: string, document: vscode.TextDocument): boolean {
  const found = locate(document);
  return found.ok && found.server.root === root;
}

function start(server: ServerLocation): Project {
  const root = vscode.Uri.file(server.root);
  const settings = vscode.workspace.getConfiguration(SECTION, root);
  // The server reloads a project when its config or its installed plugins change.
  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, "**/{xo-foundry.yaml,package.json,package-lock.json}"));
  // The server process is Node: the extension host's own (forked with ELECTRON_RUN_AS_NODE), talking LSP on stdio (`--stdio`).
  const serverOptions: ServerOptions = { module: server.module, transport: TransportKind.stdio, options: { cwd: server.root } };
  const clientOptions: LanguageClientOptions = {
    // Every YAML file on disk under the project; the server ignores YAML that is not a pipeline.
    documentSelector: [{ scheme: "file", language: "yaml", pattern: { baseUri: root.toString(), pattern: "**/*" } }],
    // A selector cannot leave out a nested project with its own server: its files are not synced here instead.
    middleware: {
      didOpen: (document, next) => (owns(server.root, document) ? next(document) : Promise.resolve()),
      didChange: (event, next) => (owns(server.root, event.document) ? next(event) : Promise.resolve()),
      didSave: (document, next) => (owns(server.root, document) ? next(document) : Promise.resolve()),
      didClose: (document, next) => (owns(server.root, document) ? next(document) : Promise.resolve()),
    },
    initializationOptions: { dagsFolder: settings.get<string>("dagsFolder", DEFAULT_DAGS_FOLDER) },
    synchronize: { configurationSection: SECTION, fileEvents: watcher },
    workspaceFolder: vscode.workspace.getWorkspaceFolder(root),
    diagnosticCollectionName: "xo-foundry",
    ...(output ? { outputChannel: output } : {}),
  };
  const client = new ProjectClient(SECTION, `xo-foundry (${path.basename(server.root)})`, serverOptions, clientOptions);
  output?.info(`Starting ${server.module} for ${server.root} (${server.from === "project" ? "the project's own" : "from xoFoundry.server.path"}).`);
  const started = client.start();
  started.catch((error: unknown) => {
    output?.error(`The language server ${server.module} did not start: ${errorText(error)}`);
    void show({ level: "error", text: `xo-foundry: the language server did not start for ${server.root}: ${errorText(error)}` }, "Show Output").then((choice) => {
      if (choice === "Show Output") output?.show(true);
    });
  });
  return { server, client, started, watcher };
}

async function stopAll(): Promise<void> {
  const running = [...projects.values()];
  projects.clear();
  await Promise.allSettled(
    running.map(async (project) => {
      project.watcher.dispose();
      await project.client.stop(2000);
    }),
  );
}

/** After xoFoundry.server.path changes: start again, for the files open now. */
async function restart(): Promise<void> {
  await stopAll();
  located.clear();
  toldMissing = false;
  for (const document of vscode.workspace.textDocuments) serve(document, false);
}

function tellMissing(result: Extract<FindServerResult, { ok: false }>): void {
  toldMissing = true;
  void vscode.window.showErrorMessage(missingServerMessage(result), "Copy Install Command", "Open Settings").then((choice) => {
    if (choice === "Copy Install Command") void vscode.env.clipboard.writeText(INSTALL_COMMAND);
    if (choice === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", `${SECTION}.server.path`);
  });
}

// --- Commands ---------------------------------------------------------------------------

interface Target {
  readonly document: vscode.TextDocument;
  readonly project: Project;
  readonly name: string;
}

/** The file of a command: the one right-clicked, else the active editor's. */
async function target(arg: unknown): Promise<Target | undefined> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== "file") {
    await show({ level: "error", text: "xo-foundry: open a pipeline YAML file first." });
    return undefined;
  }
  // Opening it (a no-op when it is open) hands its text to the server before we ask about it.
  const document = await vscode.workspace.openTextDocument(uri);
  const name = path.basename(uri.fsPath);
  if (document.languageId !== "yaml") {
    await show({ level: "error", text: `xo-foundry: ${name} is not a YAML file.` });
    return undefined;
  }
  const project = serve(document, true);
  return project ? { document, project, name } : undefined;
}

async function ask<T extends ValidateResult>(at: Target, command: ServerCommand): Promise<T> {
  await at.project.started;
  const uri = at.project.client.code2ProtocolConverter.asUri(at.document.uri);
  const answer: unknown = await at.project.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [uri] });
  return asResult<T>(command, answer);
}

async function validate(arg: unknown): Promise<void> {
  const at = await target(arg);
  if (!at) return;
  try {
    const message = validateMessage(at.name, await ask<ValidateResult>(at, SERVER_COMMANDS.validate));
    await showWithProblems(message);
  } catch (error) {
    await show({ level: "error", text: `xo-foundry: could not validate ${at.name}: ${errorText(error)}` });
  }
}

async function generateDag(arg: unknown): Promise<void> {
  const at = await target(arg);
  if (!at) return;
  try {
    // The DAG must match the YAML on disk, which is what CI's `generate-dags --check` reads.
    if (at.document.isDirty && !(await at.document.save())) {
      await show({ level: "error", text: `xo-foundry: ${at.name} was not saved, so no DAG was generated.` });
      return;
    }
    const result = await ask<GenerateResult>(at, SERVER_COMMANDS.generateDag);
    const message = generateMessage(at.name, result, (file) => vscode.workspace.asRelativePath(file));
    const written = result.files.find((f) => f.change === "created" || f.change === "updated");
    if (message.level === "error") return await showWithProblems(message);
    const choice = await show(message, ...(written ? ["Open"] : []));
    if (choice === "Open" && written) await vscode.window.showTextDocument(vscode.Uri.file(written.file));
  } catch (error) {
    await show({ level: "error", text: `xo-foundry: could not generate the DAG of ${at.name}: ${errorText(error)}` });
  }
}

async function previewDag(arg: unknown): Promise<void> {
  const at = await target(arg);
  if (!at || !previews) return;
  try {
    const plan = previewPlan(at.name, await ask<PreviewResult>(at, SERVER_COMMANDS.previewDag));
    if (plan.kind === "refused") return await showWithProblems(plan.message);
    const uri = previews.show(plan.target, plan.fileName, plan.content);
    await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(uri), "python");
    if (plan.kind === "diff") {
      const title = `${plan.fileName}: on disk ↔ as ${at.name} generates it`;
      await vscode.commands.executeCommand("vscode.diff", vscode.Uri.file(plan.target), uri, title, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      return;
    }
    await vscode.window.showTextDocument(uri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    if (plan.upToDate) vscode.window.setStatusBarMessage(`xo-foundry: ${plan.fileName} on disk is up to date`, 5000);
  } catch (error) {
    await show({ level: "error", text: `xo-foundry: could not preview the DAG of ${at.name}: ${errorText(error)}` });
  }
}

function show(message: Message, ...actions: string[]): Thenable<string | undefined> {
  switch (message.level) {
    case "info":
      return vscode.window.showInformationMessage(message.text, ...actions);
    case "warning":
      return vscode.window.showWarningMessage(message.text, ...actions);
    case "error":
      return vscode.window.showErrorMessage(message.text, ...actions);
  }
}

/** Problems with a file come with a button to the Problems panel, where the server put them. */
async function showWithProblems(message: Message): Promise<void> {
  if (message.level === "info") {
    await show(message);
    return;
  }
  const choice = await show(message, "Show Problems");
  if (choice === "Show Problems") await vscode.commands.executeCommand("workbench.actions.view.problems");
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
