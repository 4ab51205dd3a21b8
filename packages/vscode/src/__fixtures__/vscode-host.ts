/**
 * A stand-in for the VS Code extension API 1.91 (the `vscode` module; @types/vscode 1.91.0 is
 * the published description it follows), just enough to load the built dist/extension.js in
 * plain Node and drive it as the extension host would: documents open and change, commands
 * run, messages and diagnostics are recorded. It is not an editor: whatever vscode-languageclient
 * 11 and the extension touch that no test looks at (language providers, status bar, tabs, enums
 * no converter reads) falls through to `inert`, which returns no-op disposables.
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Listener<T> = (event: T) => unknown;
interface Disposable {
  dispose(): void;
}

class DisposableImpl implements Disposable {
  static from(...items: Disposable[]): DisposableImpl {
    return new DisposableImpl(() => items.forEach((item) => item.dispose()));
  }
  #call: (() => void) | undefined;
  constructor(call: () => void) {
    this.#call = call;
  }
  dispose(): void {
    this.#call?.();
    this.#call = undefined;
  }
}

class EventEmitter<T> {
  readonly #listeners = new Set<Listener<T>>();
  /** `(listener, thisArgs?, disposables?)`, as vscode.Event is called by the client. */
  readonly event = (listener: Listener<T>, thisArgs?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (e) => listener.call(thisArgs, e);
    this.#listeners.add(bound);
    const disposable = new DisposableImpl(() => this.#listeners.delete(bound));
    disposables?.push(disposable);
    return disposable;
  };
  fire(event: T): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
  dispose(): void {
    this.#listeners.clear();
  }
}

class CancellationTokenSource {
  readonly #cancelled = new EventEmitter<void>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.#cancelled.event };
  cancel(): void {
    if (this.token.isCancellationRequested) return;
    this.token.isCancellationRequested = true;
    this.#cancelled.fire();
  }
  dispose(): void {
    this.#cancelled.dispose();
  }
}

class CancellationError extends Error {
  constructor() {
    super("Canceled");
    this.name = "Canceled";
  }
}

interface UriParts {
  scheme: string;
  authority?: string;
  path?: string;
  query?: string;
  fragment?: string;
}

class Uri {
  static file(fsPath: string): Uri {
    return Uri.parse(pathToFileURL(fsPath).href);
  }
  static parse(value: string): Uri {
    const match = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
    if (!match) throw new Error(`not a URI: ${value}`);
    const [, scheme = "", authority = "", rest = "", query = "", fragment = ""] = match;
    return new Uri({ scheme, authority, path: decodeURIComponent(rest), query, fragment });
  }
  static from(parts: UriParts): Uri {
    return new Uri(parts);
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return base.with({ path: path.posix.join(base.path, ...segments) });
  }
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  readonly fragment: string;
  constructor(parts: UriParts) {
    this.scheme = parts.scheme;
    this.authority = parts.authority ?? "";
    this.path = parts.path ?? "";
    this.query = parts.query ?? "";
    this.fragment = parts.fragment ?? "";
  }
  get fsPath(): string {
    return fileURLToPath(`file://${this.path.split("/").map(encodeURIComponent).join("/")}`);
  }
  with(change: Partial<UriParts>): Uri {
    return new Uri({ ...this.#parts(), ...change });
  }
  toString(): string {
    const encoded = this.path.split("/").map(encodeURIComponent).join("/");
    const authority = this.authority || this.scheme === "file" ? `//${this.authority}` : "";
    return `${this.scheme}:${authority}${encoded}${this.query ? `?${this.query}` : ""}${this.fragment ? `#${this.fragment}` : ""}`;
  }
  toJSON(): UriParts {
    return this.#parts();
  }
  #parts(): UriParts {
    return { scheme: this.scheme, authority: this.authority, path: this.path, query: this.query, fragment: this.fragment };
  }
}

class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
  isBefore(other: Position): boolean {
    return this.line < other.line || (this.line === other.line && this.character < other.character);
  }
}

class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(start: Position | number, end: Position | number, endLine?: number, endCharacter?: number) {
    this.start = typeof start === "number" ? new Position(start, end as number) : start;
    this.end = typeof start === "number" ? new Position(endLine ?? 0, endCharacter ?? 0) : (end as Position);
  }
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Range,
  ) {}
}

const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 } as const;
const DiagnosticTag = { Unnecessary: 1, Deprecated: 2 } as const;

class Diagnostic {
  code?: string | number | { value: string | number; target: Uri };
  source?: string;
  relatedInformation?: unknown[];
  tags?: number[];
  constructor(
    public range: Range,
    public message: string,
    public severity: number = DiagnosticSeverity.Error,
  ) {}
}

class DiagnosticRelatedInformation {
  constructor(
    readonly location: Location,
    readonly message: string,
  ) {}
}

class MarkdownString {
  constructor(
    public value = "",
    public supportThemeIcons = false,
  ) {}
  appendMarkdown(value: string): this {
    this.value += value;
    return this;
  }
  appendText(value: string): this {
    this.value += value;
    return this;
  }
  appendCodeblock(code: string, language = ""): this {
    this.value += `\n\`\`\`${language}\n${code}\n\`\`\`\n`;
    return this;
  }
}

class RelativePattern {
  readonly baseUri: Uri;
  constructor(
    base: Uri | string,
    readonly pattern: string,
  ) {
    this.baseUri = typeof base === "string" ? Uri.file(base) : base;
  }
}

/**
 * What the API offers that no test here looks at: a class that can be extended (the client
 * subclasses CompletionItem, CodeLens, ...) and constructed, a function that returns a
 * disposable, and an object whose members are all of that again.
 */
function inert(name: string): unknown {
  const target = class {
    constructor(...args: unknown[]) {
      Object.assign(this, { args });
    }
  };
  Object.defineProperty(target, "name", { value: name });
  return new Proxy(target, {
    get: (t, key) => (key in t ? (t as unknown as Record<PropertyKey, unknown>)[key] : key === "then" ? undefined : inert(`${name}.${String(key)}`)),
    apply: () => new DisposableImpl(() => undefined),
  });
}

/** Members listed here are real; any other member of the namespace is `inert` (but `then`: it is no promise). */
function namespace<T extends object>(name: string, members: T): T {
  return new Proxy(members, {
    get: (t, key) => (key in t ? (t as Record<PropertyKey, unknown>)[key] : key === "then" ? undefined : inert(`vscode${name ? "." : ""}${name}.${String(key)}`)),
  });
}

export class TextDocument {
  #text: string;
  #version = 1;
  isClosed = false;
  readonly eol = 1;
  isUntitled = false;
  constructor(
    readonly uri: Uri,
    public languageId: string,
    text: string,
  ) {
    this.#text = text;
  }
  get fileName(): string {
    return this.uri.scheme === "file" ? this.uri.fsPath : this.uri.path;
  }
  get version(): number {
    return this.#version;
  }
  get isDirty(): boolean {
    return false;
  }
  get lineCount(): number {
    return this.#lines().length;
  }
  getText(range?: Range): string {
    return range ? this.#text.slice(this.offsetAt(range.start), this.offsetAt(range.end)) : this.#text;
  }
  lineAt(at: number | Position): { lineNumber: number; text: string; range: Range } {
    const line = typeof at === "number" ? at : at.line;
    const text = this.#lines()[line] ?? "";
    return { lineNumber: line, text, range: new Range(line, 0, line, text.length) };
  }
  offsetAt(position: Position): number {
    const lines = this.#lines();
    let offset = 0;
    for (let i = 0; i < position.line && i < lines.length; i++) offset += (lines[i]?.length ?? 0) + 1;
    return Math.min(offset + position.character, this.#text.length);
  }
  positionAt(offset: number): Position {
    const before = this.#text.slice(0, offset).split("\n");
    return new Position(before.length - 1, before.at(-1)?.length ?? 0);
  }
  save(): Promise<boolean> {
    return Promise.resolve(true);
  }
  /** Replaces the whole text as an edit does; returns the change event VS Code would fire. */
  replace(text: string): { document: TextDocument; contentChanges: unknown[]; reason: undefined } {
    const end = this.positionAt(this.#text.length);
    const rangeLength = this.#text.length;
    this.#text = text;
    this.#version++;
    return { document: this, contentChanges: [{ range: new Range(new Position(0, 0), end), rangeOffset: 0, rangeLength, text }], reason: undefined };
  }
  #lines(): string[] {
    return this.#text.split("\n");
  }
}

export interface ShownMessage {
  readonly level: "info" | "warning" | "error";
  readonly text: string;
  readonly actions: readonly string[];
}

interface WorkspaceFolder {
  readonly uri: Uri;
  readonly name: string;
  readonly index: number;
}

interface ContentProvider {
  provideTextDocumentContent(uri: Uri): string;
}

type Settings = Record<string, unknown>;

function lookup(settings: Settings, dotted: string): unknown {
  let value: unknown = settings;
  for (const key of dotted.split(".")) value = typeof value === "object" && value !== null ? (value as Settings)[key] : undefined;
  return value;
}

const LANGUAGES: Record<string, string> = { ".yaml": "yaml", ".yml": "yaml", ".py": "python", ".json": "json" };

/** A selector filter as the client passes it: scheme, language and a relative pattern (only `**` globs). */
function matches(selector: unknown, document: TextDocument): number {
  const filters = (Array.isArray(selector) ? selector : [selector]) as (string | { scheme?: string; language?: string; pattern?: RelativePattern | { baseUri: Uri; pattern: string } })[];
  for (const filter of filters) {
    if (typeof filter === "string") {
      if (filter === document.languageId) return 10;
      continue;
    }
    if (filter.scheme !== undefined && filter.scheme !== document.uri.scheme) continue;
    if (filter.language !== undefined && filter.language !== document.languageId) continue;
    if (filter.pattern !== undefined) {
      if (filter.pattern.pattern !== "**/*") throw new Error(`the vscode stand-in matches only "**/*" patterns, not ${filter.pattern.pattern}`);
      const base = Uri.parse(filter.pattern.baseUri.toString()).fsPath;
      if (!document.uri.fsPath.startsWith(base + path.sep)) continue;
    }
    return 10;
  }
  return 0;
}

/** One extension host: the `vscode` module it hands to the extension, and what the extension did with it. */
export function createHost(options: { folders: readonly string[]; settings: Settings }) {
  const documents: TextDocument[] = [];
  const messages: ShownMessage[] = [];
  /** `collection.set(uri, diagnostics)` calls, in order, of every collection. */
  const diagnosticSets: { uri: Uri; diagnostics: Diagnostic[] }[] = [];
  const commandsRun: { command: string; args: unknown[] }[] = [];
  const shown: TextDocument[] = [];
  const commandHandlers = new Map<string, (...args: unknown[]) => unknown>();
  const providers = new Map<string, ContentProvider>();
  const onDidOpen = new EventEmitter<TextDocument>();
  const onDidChange = new EventEmitter<ReturnType<TextDocument["replace"]>>();
  const onDidClose = new EventEmitter<TextDocument>();
  const folders: WorkspaceFolder[] = options.folders.map((folder, index) => ({ uri: Uri.file(folder), name: path.basename(folder), index }));
  const clipboard: string[] = [];
  /** What the extension and the client wrote to their output channels. */
  const log: string[] = [];

  const show = (level: ShownMessage["level"]) => (text: string, ...actions: unknown[]) => {
    messages.push({ level, text, actions: actions.filter((a): a is string => typeof a === "string") });
    return Promise.resolve(undefined);
  };

  function open(uri: Uri): TextDocument {
    const known = documents.find((d) => d.uri.toString() === uri.toString());
    if (known) return known;
    const provider = providers.get(uri.scheme);
    if (uri.scheme !== "file" && !provider) throw new Error(`the vscode stand-in has no content provider for ${uri.toString()}`);
    const text = provider ? provider.provideTextDocumentContent(uri) : readFileSync(uri.fsPath, "utf8");
    const document = new TextDocument(uri, LANGUAGES[path.extname(uri.path)] ?? "plaintext", text);
    documents.push(document);
    onDidOpen.fire(document);
    return document;
  }

  const workspace = namespace("workspace", {
    get textDocuments() {
      return [...documents];
    },
    get workspaceFolders() {
      return folders;
    },
    onDidOpenTextDocument: onDidOpen.event,
    onDidChangeTextDocument: onDidChange.event,
    onDidCloseTextDocument: onDidClose.event,
    getWorkspaceFolder: (uri: Uri) => folders.find((f) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(f.uri.fsPath + path.sep)),
    asRelativePath: (at: string | Uri) => {
      const file = typeof at === "string" ? at : at.fsPath;
      const folder = folders.find((f) => file.startsWith(f.uri.fsPath + path.sep));
      return folder ? path.relative(folder.uri.fsPath, file) : file;
    },
    getConfiguration: (section?: string) => {
      const root = section ? lookup(options.settings, section) : options.settings;
      return {
        get: (key: string, fallback?: unknown) => lookup(root as Settings, key) ?? fallback,
        has: (key: string) => lookup(root as Settings, key) !== undefined,
        inspect: () => undefined,
        update: () => Promise.reject(new Error("the vscode stand-in does not write settings")),
      };
    },
    createFileSystemWatcher: () => ({
      onDidCreate: new EventEmitter<Uri>().event,
      onDidChange: new EventEmitter<Uri>().event,
      onDidDelete: new EventEmitter<Uri>().event,
      dispose: () => undefined,
    }),
    registerTextDocumentContentProvider: (scheme: string, provider: ContentProvider) => {
      providers.set(scheme, provider);
      return new DisposableImpl(() => providers.delete(scheme));
    },
    openTextDocument: (uri: Uri) => Promise.resolve(open(uri)),
  });

  const window = namespace("window", {
    createOutputChannel: (name: string) => {
      const write = (level: string) => (text: string) => log.push(`[${level}] ${text}`);
      return namespace(`OutputChannel(${name})`, {
        name,
        logLevel: 0,
        onDidChangeLogLevel: new EventEmitter<number>().event,
        append: write("raw"),
        appendLine: write("raw"),
        trace: write("trace"),
        debug: write("debug"),
        info: write("info"),
        warn: write("warn"),
        error: (error: unknown) => log.push(`[error] ${error instanceof Error ? error.message : String(error)}`),
        show: () => undefined,
        dispose: () => undefined,
      });
    },
    showInformationMessage: show("info"),
    showWarningMessage: show("warning"),
    showErrorMessage: show("error"),
    showTextDocument: (at: Uri | TextDocument) => {
      const document = at instanceof Uri ? open(at) : at;
      shown.push(document);
      return Promise.resolve({ document });
    },
    setStatusBarMessage: () => new DisposableImpl(() => undefined),
    activeTextEditor: undefined,
    visibleTextEditors: [],
    tabGroups: namespace("window.tabGroups", { all: [] }),
  });

  const languages = namespace("languages", {
    match: matches,
    createDiagnosticCollection: (name?: string) => {
      const current = new Map<string, Diagnostic[]>();
      return namespace(`DiagnosticCollection(${name ?? ""})`, {
        name,
        set: (uri: Uri, diagnostics: Diagnostic[] | undefined) => {
          diagnosticSets.push({ uri, diagnostics: diagnostics ?? [] });
          current.set(uri.toString(), diagnostics ?? []);
        },
        get: (uri: Uri) => current.get(uri.toString()),
        has: (uri: Uri) => current.has(uri.toString()),
        delete: (uri: Uri) => current.delete(uri.toString()),
        clear: () => current.clear(),
        forEach: (each: (uri: Uri, diagnostics: Diagnostic[]) => void) => current.forEach((d, key) => each(Uri.parse(key), d)),
        dispose: () => current.clear(),
      });
    },
    setTextDocumentLanguage: (document: TextDocument, languageId: string) => {
      document.languageId = languageId;
      return Promise.resolve(document);
    },
  });

  const commands = namespace("commands", {
    registerCommand: (command: string, handler: (...args: unknown[]) => unknown) => {
      if (commandHandlers.has(command)) throw new Error(`command '${command}' already exists`);
      commandHandlers.set(command, handler);
      return new DisposableImpl(() => commandHandlers.delete(command));
    },
    /** Ours are run; VS Code's own (vscode.diff, workbench.*) are only recorded. */
    executeCommand: async (command: string, ...args: unknown[]) => {
      commandsRun.push({ command, args });
      return await commandHandlers.get(command)?.(...args);
    },
  });

  const vscode = namespace("", {
    // The real module owns every name of the API; `import * as vscode` compiled by tsc (the
    // client) copies a CommonJS module's own names. The stand-in's inert names are not own,
    // so it says it is an ES module, which the interop helpers use as it is.
    __esModule: true,
    version: "1.91.0",
    Uri,
    EventEmitter,
    CancellationTokenSource,
    CancellationError,
    Disposable: DisposableImpl,
    Position,
    Range,
    Location,
    Diagnostic,
    DiagnosticSeverity,
    DiagnosticTag,
    DiagnosticRelatedInformation,
    MarkdownString,
    RelativePattern,
    ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
    workspace,
    window,
    languages,
    commands,
    env: namespace("env", { clipboard: { writeText: (text: string) => Promise.resolve(void clipboard.push(text)), readText: () => Promise.resolve(clipboard.at(-1) ?? "") }, appName: "Visual Studio Code", language: "en" }),
  });

  return {
    vscode,
    Uri,
    messages,
    diagnosticSets,
    commandsRun,
    shown,
    clipboard,
    log,
    /** Opens a file in the editor, as the user does. */
    open: (file: string) => open(Uri.file(file)),
    /** Replaces a document's text, as typing does. */
    edit: (document: TextDocument, text: string) => onDidChange.fire(document.replace(text)),
    /** Runs a command as the command palette does. */
    run: (command: string, ...args: unknown[]) => commands.executeCommand(command, ...args),
  };
}

export type Host = ReturnType<typeof createHost>;

export interface Extension {
  activate(context: { subscriptions: Disposable[] }): void;
  deactivate(): Promise<void>;
}

interface ModuleInternals {
  _resolveFilename(request: string, ...rest: unknown[]): string;
  _cache: Record<string, { id: string; filename: string; loaded: boolean; exports: unknown } | undefined>;
}

/** The id `require("vscode")` resolves to while a bundle is loaded with a stand-in. */
const VSCODE_ID = "\0vscode-stand-in";

/**
 * Loads a CommonJS extension bundle with `host.vscode` as its `vscode` module. Node's loader
 * is hooked only until `unload` is called, which also forgets the bundle.
 */
export function loadExtension(bundle: string, host: Host): { extension: Extension; unload(): void } {
  const internals = Module as unknown as ModuleInternals;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === "vscode" ? VSCODE_ID : resolve.call(this, request, ...rest);
  };
  internals._cache[VSCODE_ID] = { id: VSCODE_ID, filename: VSCODE_ID, loaded: true, exports: host.vscode };
  const load = Module.createRequire(import.meta.url);
  const extension = load(bundle) as Extension;
  return {
    extension,
    unload() {
      internals._resolveFilename = resolve;
      delete internals._cache[VSCODE_ID];
      delete internals._cache[load.resolve(bundle)];
    },
  };
}
