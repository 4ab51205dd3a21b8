/**
 * The HTTP server of `xo-foundry ui`: the bundled page and a small JSON API over
 * `Workspace`, so the page checks, previews and writes exactly what the CLI would.
 * Node's own http module; nothing listens anywhere but 127.0.0.1.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTwoFilesPatch } from "diff";
import { diagnostic, formatDiagnostic, redact, type Diagnostic } from "@xo-foundry/core";
import { pipelineTasks } from "@xo-foundry/runtime";
import { defaultLogicalDate } from "../commands/run.js";
import { Workspace } from "../workspace.js";
import { layoutTasks } from "./graph.js";
import { PathRefused, projectFile } from "./paths.js";
import { RunBusy, Runs, type RunEvent } from "./runs.js";
import { newToken, refusal, securityHeaders, styleNonce } from "./security.js";
import { newPipelineYaml, PIPELINE_NAME } from "./template.js";

export interface UiServerOptions {
  /** A folder of the project (its pipelines are listed from the project root). */
  readonly dir: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** The DAGs folder, absolute or relative to the project (default `<project>/dags`). */
  readonly dagsDir?: string;
  /** Where index.html, app.js and app.css are (default: next to this file, as the build puts them). */
  readonly assetsDir?: string;
  readonly workspace?: Workspace;
}

export interface UiServer {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  readonly projectDir: string;
  close(): Promise<void>;
}

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

const MAX_BODY = 2 * 1024 * 1024;

/** Files whose change means the project's plugins or settings may have changed. */
const PROJECT_FILES = ["package.json", "xo-foundry.yaml"] as const;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const ws = options.workspace ?? new Workspace();
  const projectDir = ws.projectDir(options.dir);
  const dagsDir = options.dagsDir;
  const assetsDir = options.assetsDir ?? path.dirname(fileURLToPath(import.meta.url));
  const token = newToken();
  const runs = new Runs();
  let port = 0;

  const api = new Api(ws, projectDir, dagsDir, runs);
  await api.fresh();
  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(securityHeaders())) res.setHeader(k, v);
    void handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.end();
      if (e instanceof HttpError) return json(res, e.status, { error: e.message, ...e.extra });
      if (e instanceof PathRefused) return json(res, 400, { error: e.message });
      if (e instanceof RunBusy) return json(res, 409, { error: e.message });
      // Bad input is answered above; anything else is ours, and its stack stays here.
      if (process.env.XO_DEBUG && e instanceof Error) process.stderr.write(`${redact(e.stack ?? e.message)}\n`);
      json(res, 500, { error: `internal error: ${redact(e instanceof Error ? e.message : String(e))}` });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const isApi = url.pathname.startsWith("/api/");
    const refused = refusal(req, { port, token, api: isApi });
    if (refused) return json(res, 403, { error: refused });
    if (!isApi) return asset(req, res, url.pathname, assetsDir);
    const method = req.method ?? "GET";
    const route = `${method} ${url.pathname}`;
    if (method === "POST" && !/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "send JSON");
    const events = /^\/api\/run\/([0-9a-f-]{36})\/events$/.exec(url.pathname);
    if (method === "GET" && events) return api.events(events[1]!, req, res);
    switch (route) {
      case "GET /api/pipelines":
        return json(res, 200, await api.pipelines());
      case "GET /api/schema":
        return json(res, 200, await api.schema());
      case "GET /api/file":
        return json(res, 200, await api.file(url.searchParams.get("path")));
      case "POST /api/check":
        return json(res, 200, await api.check(await body(req)));
      case "POST /api/new":
        return json(res, 200, await api.create(await body(req)));
      case "POST /api/save": {
        const saved = await api.save(await body(req));
        return json(res, saved.saved ? 200 : 422, saved);
      }
      case "POST /api/run":
        return json(res, 202, await api.run(await body(req)));
      default:
        throw new HttpError(404, `no such API: ${route}`);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    projectDir,
    async close() {
      await runs.settle();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the API answers, one method per route; paths in and out are relative to the project. */
class Api {
  /** The mtimes of the files that say which plugins the project has, when last looked at. */
  #stamp: string | undefined;

  constructor(
    readonly ws: Workspace,
    readonly root: string,
    readonly dagsDir: string | undefined,
    readonly runs: Runs,
  ) {}

  /**
   * Forgets the opened project when its package.json or xo-foundry.yaml changed since the
   * last look, so a plugin installed (or configured) while the page is open shows up
   * without restarting `xo-foundry ui`. Two stats per call: cheap next to a check.
   */
  async fresh(): Promise<void> {
    const times = await Promise.all(PROJECT_FILES.map((f) => stat(path.join(this.root, f)).then((s) => `${s.mtimeMs}:${s.size}`, () => "-")));
    const stamp = times.join("|");
    if (this.#stamp !== undefined && stamp !== this.#stamp) this.ws.reload(this.root);
    this.#stamp = stamp;
  }

  rel(file: string): string {
    return path.relative(this.root, file).split(path.sep).join("/");
  }

  async pipelines() {
    await this.fresh();
    const files = await this.ws.pipelines(this.root);
    const out = [];
    for (const file of files) {
      const c = await this.ws.check(file);
      out.push({ path: this.rel(file), valid: c.valid, dagId: c.pipeline?.config.pipeline.dag_id ?? null, errors: c.diagnostics.filter((d) => d.severity === "error").length });
    }
    return { project: this.root, pipelines: out };
  }

  async schema() {
    await this.fresh();
    return this.ws.schema(this.root);
  }

  async file(relative: string | null) {
    const file = await projectFile(this.root, relative);
    const text = await readFile(file, "utf8").catch(() => {
      throw new HttpError(404, "no such file");
    });
    return { path: this.rel(file), text };
  }

  async create(input: Record<string, unknown>) {
    const name = input.name;
    if (typeof name !== "string" || !PIPELINE_NAME.test(name)) throw new HttpError(400, "a pipeline name starts with a lower-case letter and has only a-z, 0-9 and _ (at most 63)");
    const file = await projectFile(this.root, `${name}.yaml`);
    if (await readFile(file).then(() => true, () => false)) throw new HttpError(409, `${name}.yaml already exists`);
    return { path: this.rel(file), text: newPipelineYaml(name, await this.schema()) };
  }

  async check(input: Record<string, unknown>) {
    const file = await projectFile(this.root, input.path);
    const text = stringField(input, "text");
    await this.fresh();
    const p = await this.ws.preview(file, text, this.dagsOption());
    const result: Record<string, unknown> = { path: this.rel(file), valid: p.valid, diagnostics: p.diagnostics.map(wire) };
    if (p.pipeline) result.graph = layoutTasks(pipelineTasks(p.pipeline, p.project));
    if (p.dag && p.target) {
      const target = this.relOrAbsolute(p.target);
      result.dag = {
        fileName: p.dag.fileName,
        dagId: p.dag.dagId,
        target,
        content: p.dag.content,
        exists: p.onDisk !== undefined,
        same: p.onDisk === p.dag.content,
        diff: p.onDisk === p.dag.content ? "" : createTwoFilesPatch(p.onDisk === undefined ? "/dev/null" : `a/${target}`, `b/${target}`, p.onDisk ?? "", p.dag.content),
        ...(p.conflict ? { conflict: `${target} is not a DAG this project generated (owner: ${p.conflict.owner ?? "a person"}); Save & generate will not overwrite it` } : {}),
      };
    }
    return result;
  }

  /**
   * Writes the YAML only when it is valid, its DAG may be written, and the file on disk is
   * still the one the page opened (`base`); then generates the DAG.
   */
  async save(input: Record<string, unknown>) {
    const file = await projectFile(this.root, input.path);
    const text = stringField(input, "text");
    if (text === undefined) throw new HttpError(400, "text is required");
    const base = input.base;
    if (base !== null && typeof base !== "string") throw new HttpError(400, "base is required: the text the file had when it was opened, or null for a new file");
    const p = await this.ws.preview(file, text, this.dagsOption());
    if (!p.valid || !p.pipeline) return { saved: false, valid: false, diagnostics: p.diagnostics.map(wire), files: [] };
    if (p.conflict) {
      const c = p.conflict;
      const refusal = diagnostic("XO_DAG_NOT_OURS", { file: this.relOrAbsolute(c.file), pipeline: p.pipeline.relativeFile, project: c.dag.project, owner: c.owner }, { file: this.relOrAbsolute(c.file) });
      return { saved: false, valid: true, diagnostics: [...p.diagnostics, refusal].map(wire), files: [] };
    }
    // What the page started from must still be what is on disk: a file changed in another
    // editor since, or created by someone else, is never written over.
    const onDisk = await readFile(file, "utf8").catch(() => null);
    if (onDisk !== base) {
      throw new HttpError(
        409,
        base === null
          ? `${this.rel(file)} already exists: open it instead`
          : `${this.rel(file)} changed on disk since it was opened: copy your text, reload it, and apply your change again`,
      );
    }
    await writeAtomically(file, text);
    const g = await this.ws.generate(file, undefined, this.dagsOption());
    return {
      saved: true,
      valid: g.valid,
      diagnostics: g.diagnostics.map(wire),
      files: [{ file: this.rel(file), change: "saved" }, ...g.files.map((f) => ({ file: this.relOrAbsolute(f.file), change: f.change }))],
    };
  }

  async run(input: Record<string, unknown>) {
    const file = await projectFile(this.root, input.path);
    const date = stringField(input, "date") || defaultLogicalDate();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new HttpError(400, "date must be YYYY-MM-DD");
    const c = await this.ws.check(file);
    if (!c.pipeline) throw new HttpError(422, "the saved file is not valid: fix it and save first", { diagnostics: c.diagnostics.map(wire) });
    const tasks = pipelineTasks(c.pipeline, c.project).map((t) => t.id);
    return { id: this.runs.start(c.pipeline, c.project, date, tasks), logicalDate: date };
  }

  events(id: string, req: IncomingMessage, res: ServerResponse): void {
    const send = (e: RunEvent) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    let started = false;
    const open = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive" });
    };
    const following = this.runs.follow(
      id,
      (e) => {
        open();
        send(e);
      },
      () => {
        open();
        res.end();
      },
    );
    if (!following) throw new HttpError(404, "no such run");
    req.on("close", () => following.stop());
  }

  dagsOption(): { dagsDir?: string } {
    return this.dagsDir === undefined ? {} : { dagsDir: path.resolve(this.dagsDir) };
  }

  /** Inside the project: relative; a --dags folder elsewhere: absolute. */
  relOrAbsolute(file: string): string {
    const rel = path.relative(this.root, file);
    return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel.split(path.sep).join("/");
  }
}

/** A diagnostic as the page gets it: its fields, and the exact text the CLI prints. */
function wire(d: Diagnostic) {
  return { ...d, text: redact(formatDiagnostic(d)) };
}

function stringField(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new HttpError(400, `${key} must be a string`);
  return v;
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "request too large");
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "the body is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HttpError(400, "the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function asset(req: IncomingMessage, res: ServerResponse, pathname: string, dir: string): Promise<void> {
  const a = ASSETS[pathname];
  if (!a || (req.method !== "GET" && req.method !== "HEAD")) return json(res, 404, { error: "not found" });
  let content = await readFile(path.join(dir, a.file)).catch(() => undefined);
  if (!content) return json(res, 404, { error: "the UI is not built: run the cli package's build" });
  if (a.file === "index.html") {
    const nonce = styleNonce();
    content = Buffer.from(content.toString("utf8").replaceAll("__XO_STYLE_NONCE__", nonce));
    for (const [k, v] of Object.entries(securityHeaders(nonce))) res.setHeader(k, v);
  }
  res.writeHead(200, { "Content-Type": a.type, "Content-Length": content.length });
  res.end(req.method === "HEAD" ? undefined : content);
}

/** The whole new text or the old one, never half of it: written beside the file, then renamed over it. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, text, { flag: "wx" });
    await rename(temporary, file);
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
}
