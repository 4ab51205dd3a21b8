// A minimal LSP client over stdio, the part of an editor the benchmark needs: start a
// server process, initialize it, answer its workspace/configuration requests, open and
// change one document, and wait for the publishDiagnostics a person would see. It speaks
// through vscode-languageserver-protocol (the library VS Code's own client is built on), so
// framing and JSON-RPC are the editor's, not ours.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { fail, tail, track } from "../lib.mjs";

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
// The copy the language server's own tests use, wherever npm hoisted it (yaml-language-server
// brings an older one of its own).
const rpc = createRequire(path.join(REPO, "packages/language-server/package.json"))("vscode-languageserver-protocol/node");

/** TextDocumentSyncKind: what the server asked for in its capabilities. */
const SYNC = { None: 0, Full: 1, Incremental: 2 };

/** Milliseconds on the clock that stamps every publishDiagnostics on arrival. */
export const now = () => performance.now();

/** The value of a dotted settings section (`yaml`, `xoFoundry`, `[yaml]`), or null. */
function section(settings, name) {
  if (!name) return settings;
  if (Object.hasOwn(settings, name)) return settings[name];
  let value = settings;
  for (const part of name.split(".")) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, part)) return null;
    value = value[part];
  }
  return value;
}

export class LspServer {
  /**
   * @param {object} o
   * @param {string} o.label  name in messages
   * @param {string[]} o.args  arguments to `node` (the server's bin and `--stdio`)
   * @param {string} o.cwd  the workspace folder
   * @param {object} o.settings  what workspace/configuration and didChangeConfiguration answer
   * @param {object} [o.initializationOptions]
   * @param {object} [o.env]
   */
  constructor({ label, args, cwd, settings, initializationOptions, env }) {
    Object.assign(this, { label, args, cwd, settings, initializationOptions, env });
    this.publishes = []; // { uri, version, diagnostics, at }
    this.waiters = new Set();
    this.stderr = [];
    this.exited = undefined;
  }

  async start() {
    this.child = track(spawn(process.execPath, this.args, { cwd: this.cwd, env: this.env, stdio: ["pipe", "pipe", "pipe"] }));
    this.pid = this.child.pid;
    this.child.stderr.on("data", (b) => this.stderr.push(b));
    this.child.stdin.on("error", () => {}); // a server that died is reported by its exit below
    this.child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      for (const w of this.waiters) w.reject(this.#failure(`exited (${code ?? signal}) while the benchmark waited for ${w.what}`));
      this.waiters.clear();
    });
    const c = rpc.createProtocolConnection(new rpc.StreamMessageReader(this.child.stdout), new rpc.StreamMessageWriter(this.child.stdin));
    this.connection = c;
    c.onRequest("workspace/configuration", (params) => params.items.map((item) => section(this.settings, item.section)));
    // Everything else a server may ask an editor (registerCapability, workDoneProgress/create,
    // showMessageRequest...) gets the answer "done, nothing to add".
    c.onRequest(() => null);
    c.onNotification("textDocument/publishDiagnostics", (params) => {
      const p = { ...params, at: now() };
      this.publishes.push(p);
      for (const w of this.waiters) w.offer(p);
    });
    c.onNotification(() => {}); // logMessage, telemetry, progress
    c.onError(([err]) => this.stderr.push(Buffer.from(`[client] ${err?.message ?? err}\n`)));
    c.listen();

    const rootUri = pathToFileURL(this.cwd).href;
    const init = await this.#timed("initialize", 60_000, c.sendRequest("initialize", {
      processId: process.pid,
      clientInfo: { name: "xo-foundry-bench" },
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: path.basename(this.cwd) }],
      initializationOptions: this.initializationOptions,
      capabilities: {
        workspace: { configuration: true, workspaceFolders: true, didChangeConfiguration: { dynamicRegistration: true } },
        textDocument: {
          synchronization: { dynamicRegistration: false, didSave: false, willSave: false },
          publishDiagnostics: { relatedInformation: true, versionSupport: true },
        },
      },
    }));
    this.capabilities = init.capabilities;
    const sync = init.capabilities.textDocumentSync;
    this.sync = typeof sync === "number" ? sync : (sync?.change ?? SYNC.None);
    if (this.sync === SYNC.None) fail(`${this.label}: the server does not take document changes (textDocumentSync ${JSON.stringify(sync)})`);
    await c.sendNotification("initialized", {});
    await c.sendNotification("workspace/didChangeConfiguration", { settings: this.settings });
  }

  /** "incremental" or "full": how this benchmark sends changes, as the server asked. */
  get changeKind() {
    return this.sync === SYNC.Incremental ? "incremental" : "full";
  }

  /**
   * Resolves with the first publishDiagnostics for `uri`, from now on, that `accept` takes;
   * the promise rejects after `timeoutMs` with every publish seen meanwhile.
   */
  waitFor(uri, what, accept, timeoutMs) {
    const seen = [];
    let waiter;
    const promise = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const shown = seen.slice(-3).map((p) => `version ${p.version ?? "-"}: ${JSON.stringify(p.diagnostics.map(brief))}`);
        reject(this.#failure(`no ${what} within ${timeoutMs / 1000} s; ${seen.length} publish(es) for the document meanwhile${shown.length ? `, the last:\n  ${shown.join("\n  ")}` : ""}`));
      }, timeoutMs);
      waiter = {
        what,
        offer: (p) => {
          if (p.uri !== uri) return;
          seen.push(p);
          if (!accept(p)) return;
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve({ ...p, before: seen.length - 1 });
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
    return promise;
  }

  open(uri, text) {
    return this.connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version: 1, text } });
  }

  /** Replaces `range` with `text`, or sends the whole new document, as the server asked. */
  change(uri, version, { range, text, full }) {
    const contentChanges = this.sync === SYNC.Incremental ? [{ range, text }] : [{ text: full }];
    return this.connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges });
  }

  /** The server process's peak resident set (VmHWM), in KiB; NaN when /proc does not say. */
  peakRssKiB() {
    try {
      const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
      return m ? Number(m[1]) : NaN;
    } catch {
      return NaN;
    }
  }

  /** shutdown + exit, as an editor closes a server; killed if it does not go within 5 s. */
  async stop() {
    if (this.exited || !this.child) return;
    const gone = new Promise((resolve) => this.child.once("close", resolve));
    try {
      await this.#timed("shutdown", 5_000, this.connection.sendRequest("shutdown"));
      await this.connection.sendNotification("exit");
    } catch {
      // fall through to the kill below
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
    this.connection.dispose();
  }

  stderrTail() {
    return tail(Buffer.concat(this.stderr).toString(), 20);
  }

  #failure(message) {
    const err = new Error(`${this.label} (pid ${this.pid}): ${message}${this.stderr.length ? `\n  its stderr:\n${this.stderrTail()}` : ""}`);
    err.benchFailure = true;
    return err;
  }

  #timed(what, ms, promise) {
    let timer;
    return Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(this.#failure(`no answer to ${what} within ${ms / 1000} s`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

/** A diagnostic in a failure message: line (1-based), severity, code, message. */
export function brief(d) {
  return `${d.range.start.line + 1}:${d.range.start.character + 1} ${["", "error", "warning", "info", "hint"][d.severity ?? 1]} ${d.code ?? ""} ${d.message}`.replace(/\s+/g, " ");
}
