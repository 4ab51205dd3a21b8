import { spawn, type ChildProcess } from "node:child_process";
import {
  ConfigurationRequest,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from "vscode-languageserver-protocol/node";
import { serverBin } from "./project.js";

/** How long a test waits for a notification before failing with a message that says what it waited for. */
const WAIT_MS = 20_000;

export interface LspClient {
  readonly connection: ProtocolConnection;
  readonly initialized: InitializeResult;
  /** What the server wrote on stderr (its crashes). */
  readonly stderr: () => string;
  open(uri: string, text: string, version?: number): Promise<void>;
  /** Replaces the whole text. */
  change(uri: string, text: string, version: number): Promise<void>;
  /** The first diagnostics published for `uri` (at `version`, when given) from now or already received. */
  diagnostics(uri: string, version?: number): Promise<PublishDiagnosticsParams>;
  /** The next diagnostics published for `uri` after this call. */
  nextDiagnostics(uri: string): Promise<PublishDiagnosticsParams>;
  /** The versions of every diagnostics notification for `uri` so far, in the order they came. */
  publishedVersions(uri: string): (number | undefined)[];
  stop(): Promise<void>;
}

/**
 * Starts the built server as an editor would (`node bin/xo-foundry-language-server.js
 * --stdio`) and talks to it through the protocol library's own client connection.
 */
export async function startClient(options: { cwd: string; initializationOptions?: unknown; settings?: unknown; textDocument?: ClientCapabilities["textDocument"] }): Promise<LspClient> {
  const child: ChildProcess = spawn(process.execPath, [serverBin, "--stdio"], { cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const received: PublishDiagnosticsParams[] = [];
  const waiters: { match: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    received.push(p);
    for (const w of [...waiters]) {
      if (!w.match(p)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(p);
    }
  });
  connection.onRequest(RegistrationRequest.type, () => undefined);
  connection.onRequest(ConfigurationRequest.type, (p) => p.items.map(() => options.settings ?? null));
  connection.listen();

  const capabilities: ClientCapabilities = {
    workspace: { configuration: true, didChangeWatchedFiles: { dynamicRegistration: true } },
    textDocument: {
      publishDiagnostics: { versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
      completion: { completionItem: { documentationFormat: ["markdown", "plaintext"] } },
      hover: { contentFormat: ["markdown"] },
      // What a test adds: snippets, hierarchical symbols.
      ...options.textDocument,
    },
  };
  const initialized = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities,
    initializationOptions: options.initializationOptions,
  });
  await connection.sendNotification(InitializedNotification.type, {});

  function wait(uri: string, match: (p: PublishDiagnosticsParams) => boolean, version?: number): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no diagnostics for ${uri}${version === undefined ? "" : ` version ${version}`} within ${WAIT_MS / 1000} s; server stderr: ${stderr || "(empty)"}`));
      }, WAIT_MS);
      waiters.push({ match, resolve: (p) => (clearTimeout(timer), resolve(p)) });
    });
  }

  return {
    connection,
    initialized,
    stderr: () => stderr,
    open: (uri, text, version = 1) => connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "yaml", version, text } }),
    change: (uri, text, version) => connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] }),
    publishedVersions: (uri) => received.filter((p) => p.uri === uri).map((p) => p.version),
    nextDiagnostics: (uri) => wait(uri, (p) => p.uri === uri),
    diagnostics(uri, version) {
      const match = (p: PublishDiagnosticsParams) => p.uri === uri && (version === undefined || p.version === version);
      const already = received.find(match);
      return already ? Promise.resolve(already) : wait(uri, match, version);
    },
    async stop() {
      try {
        await Promise.race([connection.sendRequest(ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
        await connection.sendNotification(ExitNotification.type);
      } catch {
        // The server is gone already.
      } finally {
        connection.dispose();
        child.kill();
      }
    },
  };
}
