/**
 * The language server: wires LSP requests to the CLI's `Workspace`, so an editor shows
 * exactly what `validate-config` prints and writes exactly what `generate-dag` writes.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Workspace } from "@xo-foundry/cli/workspace";
import { XoError, type Diagnostic, type Project } from "@xo-foundry/core";
import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type CompletionItem,
  type Diagnostic as LspDiagnostic,
  type InitializeResult,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { quickFixes } from "./code-actions.js";
import { COMMANDS, runCommand, UnsavedFile } from "./commands.js";
import { completions, hover, type CompletionOptions } from "./completion.js";
import { definition } from "./definition.js";
import { byFile, toLspDiagnostic } from "./diagnostics.js";
import { isPipelineText, parseText, type ParsedText } from "./ranges.js";
import { pipelineFacts, projectConnections, referenceItems, referenceSlot, withReferences, writtenFacts, type Known, type PipelineFacts, type ReferenceKind } from "./references.js";
import { documentSymbols, flatSymbols } from "./symbols.js";
import type { JsonSchema } from "./schema.js";
import { DEFAULT_SETTINGS, readSettings, SETTINGS_SECTION, type Settings } from "./settings.js";

/** Long enough to skip the checks between keystrokes, short enough to feel immediate. */
export const CHECK_DELAY_MS = 75;

/** Files whose change can change every pipeline's diagnostics and schema (plugins, project defaults). */
const PROJECT_FILES = new Set(["xo-foundry.yaml", "package.json"]);

/** One version of a document, validated: what diagnostics, completion and definition all read. */
interface Validation {
  readonly diagnostics: readonly Diagnostic[];
  readonly project?: Project;
  /** Set when the version is valid. */
  readonly facts?: PipelineFacts;
}

export function startServer(connection: Connection, workspace: Workspace = new Workspace()): void {
  const documents = new TextDocuments(TextDocument);
  const schemas = new Map<string, Promise<JsonSchema>>();
  const timers = new Map<string, NodeJS.Timeout>();
  const generations = new Map<string, number>();
  // What each document's last check reported, by the file it is about (a pipeline's
  // defaults from xo-foundry.yaml are reported there) and by the document that said it.
  const reported = new Map<string, Map<string, LspDiagnostic[]>>();
  // The validation of each document's current version, shared by its check and its
  // completions; `epoch` moves when other files changed, which can change the result.
  const validations = new Map<string, { key: string; result: Promise<Validation> }>();
  let epoch = 0;
  // Each document's last valid version, for references while the current one has an error.
  const lastValid = new Map<string, { version: number; facts: PipelineFacts }>();
  // What the client can do, from its `initialize` request.
  let initialSettings: Settings = DEFAULT_SETTINGS;
  let configurable = false;
  let watchable = false;
  let configChanges = false;
  let completionOptions: CompletionOptions = { snippets: false };
  let hierarchicalSymbols = false;

  /** A failure of the server itself (not of the user's file) goes to the client's log, never to stdout. */
  const logError = (what: string) => (e: unknown) => connection.console.error(`xo-foundry: ${what} failed: ${String((e as Error)?.stack ?? e)}`);

  connection.onInitialize((params): InitializeResult => {
    initialSettings = readSettings(params.initializationOptions);
    const caps = params.capabilities;
    configurable = caps.workspace?.configuration === true;
    watchable = caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    configChanges = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    completionOptions = { snippets: caps.textDocument?.completion?.completionItem?.snippetSupport === true };
    hierarchicalSymbols = caps.textDocument?.documentSymbol?.hierarchicalDocumentSymbolSupport === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        completionProvider: { triggerCharacters: [":"] },
        hoverProvider: true,
        documentSymbolProvider: { label: "xo-foundry" },
        definitionProvider: true,
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
    epoch++;
    for (const d of documents.all()) schedule(d.uri, 0);
  };
  const current = (uri: string, generation: number, version: number) => generations.get(uri) === generation && documents.get(uri)?.version === version;

  async function check(uri: string, generation: number): Promise<void> {
    const document = documents.get(uri);
    const file = fileOf(uri);
    if (!document || !file) return;
    const { version } = document;
    const parsed = parseText(document.getText());
    const found = isPipelineText(parsed) ? byFile((await validation(uri, file)).diagnostics, file) : new Map([[file, []]]);
    const byUri = new Map<string, LspDiagnostic[]>();
    for (const [where, list] of found) {
      const target = where === file ? parsed : await parsedFile(where);
      byUri.set(where === file ? uri : uriOf(where), target ? list.map((d) => toLspDiagnostic(d, target)) : []);
    }
    // A newer edit (or a re-check) started meanwhile: its results replace these, never the reverse.
    if (!current(uri, generation, version)) return;
    report(uri, byUri, version);
  }

  /** The validation of the document's current version, made once per version (and epoch). */
  function validation(uri: string, file: string): Promise<Validation> {
    const document = documents.get(uri);
    if (!document) return Promise.resolve({ diagnostics: [] });
    const { version } = document;
    const key = `${epoch}:${version}`;
    const memo = validations.get(uri);
    if (memo?.key === key) return memo.result;
    const result = validate(file, document.getText()).then((v) => {
      const last = lastValid.get(uri);
      if (v.facts && (!last || last.version <= version)) lastValid.set(uri, { version, facts: v.facts });
      return v;
    });
    validations.set(uri, { key, result });
    result.catch(() => {
      if (validations.get(uri)?.result === result) validations.delete(uri);
    });
    return result;
  }

  async function validate(file: string, text: string): Promise<Validation> {
    try {
      const r = await workspace.tasks(file, text);
      return { diagnostics: r.diagnostics, project: r.project, ...(r.pipeline && r.tasks ? { facts: pipelineFacts(r.pipeline, r.tasks) } : {}) };
    } catch (e) {
      // An XoError (a project that cannot be opened) carries what to tell the user.
      if (e instanceof XoError) return { diagnostics: e.diagnostics };
      // The graph of a valid pipeline failed to build: still show what validation says.
      logError(`building the task graph of ${file}`)(e);
      const checked = await workspace.check(file, text);
      return { diagnostics: checked.diagnostics, project: checked.project };
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
    validations.delete(e.document.uri);
    lastValid.delete(e.document.uri);
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
    epoch++;
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

  connection.onCompletion(async ({ textDocument, position }): Promise<CompletionItem[]> => {
    const doc = pipelineDocument(textDocument.uri);
    if (!doc) return [];
    const items = completions(doc.parsed, await schemaOf(doc.file), position, completionOptions);
    const slot = referenceSlot(doc.parsed, position);
    if (!slot) return items;
    const known = await knownFor(textDocument.uri, doc, slot.kind);
    return withReferences(items, referenceItems(doc.parsed, slot, known, completionOptions));
  });

  /**
   * What references are completed from: the current text if valid, else its last valid
   * version, else (a file never valid since it was opened) what the text names itself.
   */
  async function knownFor(uri: string, doc: { file: string; parsed: ParsedText }, kind: ReferenceKind): Promise<Known> {
    const v = await validation(uri, doc.file).catch((e: unknown) => {
      logError(`validating ${uri}`)(e);
      return undefined;
    });
    const facts = v?.facts ?? lastValid.get(uri)?.facts ?? writtenFacts(doc.parsed);
    const project = v?.project ?? (await workspace.project(doc.file).catch(() => undefined));
    const connections =
      kind === "connection"
        ? await projectConnections(workspace, doc.file, project, { parsed: doc.parsed, ...(facts ? { facts } : {}) }, (f) => documents.get(uriOf(f))?.getText())
        : undefined;
    return { ...(facts ? { facts } : {}), ...(project ? { registry: project.registry } : {}), ...(connections ? { connections } : {}) };
  }

  connection.onDocumentSymbol(({ textDocument }) => {
    const doc = pipelineDocument(textDocument.uri);
    if (!doc) return [];
    const symbols = documentSymbols(doc.parsed);
    return hierarchicalSymbols ? symbols : flatSymbols(symbols, textDocument.uri);
  });
  connection.onDefinition(async ({ textDocument, position }) => {
    const doc = pipelineDocument(textDocument.uri);
    if (!doc) return [];
    // Template tasks are found through the graph; only then is the validation needed.
    const found = definition(doc.parsed, textDocument.uri, position);
    if (found.length) return found;
    const v = await validation(textDocument.uri, doc.file).catch(() => undefined);
    const facts = v?.facts ?? lastValid.get(textDocument.uri)?.facts;
    return facts ? definition(doc.parsed, textDocument.uri, position, facts) : [];
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
    try {
      return await runCommand(workspace, command as (typeof COMMANDS)[number], file, documents.get(uri)?.getText(), settings);
    } catch (e) {
      if (e instanceof UnsavedFile) throw new ResponseError(ErrorCodes.InvalidRequest, e.message);
      throw e;
    }
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
