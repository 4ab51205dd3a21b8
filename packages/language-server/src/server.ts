/**
 * The language server: wires LSP requests to the CLI's `Workspace`, so an editor shows
 * exactly what `validate-config` prints and writes exactly what `generate-dag` writes.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Workspace } from "@xo-foundry/cli/workspace";
import { XoError, type Diagnostic } from "@xo-foundry/core";
import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type InitializeResult,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { quickFixes } from "./code-actions.js";
import { COMMANDS, runCommand } from "./commands.js";
import { completions, hover } from "./completion.js";
import { byFile, toLspDiagnostic } from "./diagnostics.js";
import { isPipelineText, parseText, type ParsedText } from "./ranges.js";
import type { JsonSchema } from "./schema.js";
import { DEFAULT_SETTINGS, readSettings, SETTINGS_SECTION, type Settings } from "./settings.js";

/** Long enough to skip the checks between keystrokes, short enough to feel immediate. */
export const CHECK_DELAY_MS = 75;

/** Files whose change can change every pipeline's diagnostics and schema (plugins, project defaults). */
const PROJECT_FILES = new Set(["xo-foundry.yaml", "package.json"]);

export function startServer(connection: Connection, workspace: Workspace = new Workspace()): void {
  const documents = new TextDocuments(TextDocument);
  const schemas = new Map<string, Promise<JsonSchema>>();
  const timers = new Map<string, NodeJS.Timeout>();
  const generations = new Map<string, number>();
  // What each document's last check reported, by the file it is about (a pipeline's
  // defaults from xo-foundry.yaml are reported there) and by the document that said it.
  const reported = new Map<string, Map<string, LspDiagnostic[]>>();
  // What the client can do, from its `initialize` request.
  let initialSettings: Settings = DEFAULT_SETTINGS;
  let configurable = false;
  let watchable = false;
  let configChanges = false;

  /** A failure of the server itself (not of the user's file) goes to the client's log, never to stdout. */
  const logError = (what: string) => (e: unknown) => connection.console.error(`xo-foundry: ${what} failed: ${String((e as Error)?.stack ?? e)}`);

  connection.onInitialize((params): InitializeResult => {
    initialSettings = readSettings(params.initializationOptions);
    const caps = params.capabilities;
    configurable = caps.workspace?.configuration === true;
    watchable = caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    configChanges = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        completionProvider: { triggerCharacters: [":"] },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        executeCommandProvider: { commands: [...COMMANDS] },
      },
      serverInfo: { name: "xo-foundry-language-server" },
    };
  });

  connection.onInitialized(() => {
    if (watchable) {
      connection.client
        .register(DidChangeWatchedFilesNotification.type, {
          watchers: [{ globPattern: "**/xo-foundry.yaml" }, { globPattern: "**/package.json" }, { globPattern: "**/*.{yaml,yml}" }],
        })
        .catch(logError("registering file watchers"));
    }
    if (configChanges) connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION }).catch(logError("registering for settings"));
  });

  // ---------------------------------------------------------------- diagnostics

  const schedule = (uri: string, delay: number) => {
    clearTimeout(timers.get(uri));
    const generation = (generations.get(uri) ?? 0) + 1;
    generations.set(uri, generation);
    timers.set(
      uri,
      setTimeout(() => {
        timers.delete(uri);
        check(uri, generation).catch(logError(`checking ${uri}`));
      }, delay),
    );
  };
  const recheckAll = () => {
    for (const d of documents.all()) schedule(d.uri, 0);
  };
  const current = (uri: string, generation: number, version: number) => generations.get(uri) === generation && documents.get(uri)?.version === version;

  async function check(uri: string, generation: number): Promise<void> {
    const document = documents.get(uri);
    const file = fileOf(uri);
    if (!document || !file) return;
    const { version } = document;
    const parsed = parseText(document.getText());
    const found = isPipelineText(parsed) ? byFile(await diagnosticsOf(file, parsed.text), file) : new Map([[file, []]]);
    const byUri = new Map<string, LspDiagnostic[]>();
    for (const [where, list] of found) {
      const target = where === file ? parsed : await parsedFile(where);
      byUri.set(where === file ? uri : uriOf(where), target ? list.map((d) => toLspDiagnostic(d, target)) : []);
    }
    // A newer edit (or a re-check) started meanwhile: its results replace these, never the reverse.
    if (!current(uri, generation, version)) return;
    report(uri, byUri, version);
  }

  async function diagnosticsOf(file: string, text: string): Promise<readonly Diagnostic[]> {
    try {
      return (await workspace.check(file, text)).diagnostics;
    } catch (e) {
      // An XoError (a project that cannot be opened) carries what to tell the user.
      if (e instanceof XoError) return e.diagnostics;
      throw e;
    }
  }

  function report(source: string, byUri: ReadonlyMap<string, LspDiagnostic[]>, version?: number) {
    const touched = new Set<string>(byUri.keys());
    for (const [target, from] of reported) if (!byUri.has(target) && from.delete(source)) touched.add(target);
    for (const [target, list] of byUri) {
      const from = reported.get(target) ?? new Map<string, LspDiagnostic[]>();
      from.set(source, list);
      reported.set(target, from);
    }
    for (const target of touched) {
      const all = unique([...(reported.get(target)?.values() ?? [])].flat());
      // A client gone mid-check rejects the send; that must not end the process.
      connection.sendDiagnostics({ uri: target, diagnostics: all, ...(target === source && version !== undefined ? { version } : {}) }).catch(() => {});
    }
  }

  /** Another file a diagnostic is about, as the editor has it (open) or as it is on disk. */
  async function parsedFile(file: string): Promise<ParsedText | undefined> {
    const open = documents.get(uriOf(file));
    const text = open?.getText() ?? (await readFile(file, "utf8").catch(() => undefined));
    return text === undefined ? undefined : parseText(text);
  }

  /** The URI the client uses for a file: the open document's own spelling, else a file: URL. */
  function uriOf(file: string): string {
    for (const d of documents.all()) if (fileOf(d.uri) === file) return d.uri;
    return pathToFileURL(file).href;
  }

  documents.onDidOpen((e) => schedule(e.document.uri, 0));
  documents.onDidChangeContent((e) => schedule(e.document.uri, CHECK_DELAY_MS));
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.delete(e.document.uri);
    generations.set(e.document.uri, (generations.get(e.document.uri) ?? 0) + 1);
    report(e.document.uri, new Map([[e.document.uri, []]]));
  });
  documents.onDidSave((e) => {
    const file = fileOf(e.document.uri);
    if (file && PROJECT_FILES.has(path.basename(file))) forgetProjects();
    // A saved pipeline can clash with the others (one dag_id twice): check every open one.
    recheckAll();
  });
  connection.onDidChangeWatchedFiles((e) => {
    if (e.changes.some((c) => PROJECT_FILES.has(path.basename(fileOf(c.uri) ?? "")))) forgetProjects();
    recheckAll();
  });
  connection.onDidChangeConfiguration(() => recheckAll());

  function forgetProjects() {
    workspace.reload();
    schemas.clear();
  }

  // ---------------------------------------------------------------- completion, hover, fixes

  /** The project's schema, built once per project until its plugins or defaults change. */
  function schemaOf(file: string): Promise<JsonSchema> {
    const dir = workspace.projectDir(file);
    let s = schemas.get(dir);
    if (!s) {
      s = workspace.schema(file);
      schemas.set(dir, s);
      s.catch(() => schemas.delete(dir));
    }
    return s;
  }

  /** The document as a pipeline file; an empty YAML file may become one, so it counts too. */
  function pipelineDocument(uri: string): { file: string; parsed: ParsedText } | undefined {
    const document = documents.get(uri);
    const file = fileOf(uri);
    if (!document || !file || PROJECT_FILES.has(path.basename(file))) return undefined;
    const parsed = parseText(document.getText());
    const blank = parsed.doc.contents === null && parsed.doc.errors.length === 0;
    return isPipelineText(parsed) || blank ? { file, parsed } : undefined;
  }

  connection.onCompletion(async ({ textDocument, position }) => {
    const doc = pipelineDocument(textDocument.uri);
    return doc ? completions(doc.parsed, await schemaOf(doc.file), position) : [];
  });
  connection.onHover(async ({ textDocument, position }) => {
    const doc = pipelineDocument(textDocument.uri);
    return doc ? hover(doc.parsed, await schemaOf(doc.file), position) : null;
  });
  connection.onCodeAction(({ textDocument, context }) => {
    const document = documents.get(textDocument.uri);
    if (!document || (context.only && !context.only.some((k) => CodeActionKind.QuickFix.startsWith(k)))) return [];
    return quickFixes(document, context.diagnostics);
  });

  // ---------------------------------------------------------------- commands

  async function settingsFor(uri: string): Promise<Settings> {
    if (!configurable) return initialSettings;
    const value: unknown = await connection.workspace.getConfiguration({ scopeUri: uri, section: SETTINGS_SECTION }).catch(() => undefined);
    return readSettings(value ?? undefined, initialSettings);
  }

  connection.onExecuteCommand(async ({ command, arguments: args }) => {
    const uri: unknown = args?.[0];
    const file = typeof uri === "string" ? fileOf(uri) : undefined;
    if (typeof uri !== "string" || !file) throw new ResponseError(ErrorCodes.InvalidParams, `${command} takes the file: URI of a pipeline file`);
    if (!(COMMANDS as readonly string[]).includes(command)) throw new ResponseError(ErrorCodes.MethodNotFound, `unknown command ${command}`);
    const settings = await settingsFor(uri);
    return runCommand(workspace, command as (typeof COMMANDS)[number], file, documents.get(uri)?.getText(), settings);
  });

  documents.listen(connection);
  connection.listen();
}

/** The file of a `file:` URI; other schemes (untitled:, git:) have none and are left alone. */
export function fileOf(uri: string): string | undefined {
  if (!uri.startsWith("file:")) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

function unique(diagnostics: readonly LspDiagnostic[]): LspDiagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([d.range, d.code, d.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
