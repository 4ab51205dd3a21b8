// The pipeline benchmark's REST API (openapi.json next to this file): data sets of any
// size, each record generated from its id on the fly (records.mjs), so memory stays flat
// whatever the size. The benchmark runs it in a process of its own, so its CPU is never
// part of a measured process.
//
//   TOKEN=secret node tools/bench/pipeline/server.mjs   # prints {"url": "http://127.0.0.1:PORT/v1"}
//
// GET /v1/datasets/{rows}/records?limit=&cursor=  ->  { "items": [...], "next_cursor": "..." | null }
// with `Authorization: Bearer <TOKEN>`.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { recordJson } from "./records.mjs";

const doc = JSON.parse(readFileSync(new URL("./openapi.json", import.meta.url), "utf8"));
const PARAMS = Object.fromEntries(doc.paths["/datasets/{rows}/records"].get.parameters.map((p) => [p.name, p.schema]));
const ROUTE = /^\/v1\/datasets\/([^/]+)\/records$/;

class BadRequest extends Error {
  constructor(param, message) {
    super(message);
    this.param = param;
  }
}

function integer(name, raw) {
  const { minimum, maximum } = PARAMS[name];
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) throw new BadRequest(name, `${name} must be an integer from ${minimum} to ${maximum}`);
  return value;
}

// Cursors are opaque to clients; here they hold the last id served.
const encodeCursor = (id) => Buffer.from(`after:${id}`).toString("base64url");
function decodeCursor(cursor, rows) {
  const match = /^after:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match || Number(match[1]) >= rows) throw new BadRequest("cursor", "cursor is not valid; pass back next_cursor unchanged");
  return Number(match[1]);
}

/** One page as JSON text: built as a string, the records are never objects here. */
function page(rows, query) {
  for (const name of new Set(query.keys())) {
    if (name === "rows" || !(name in PARAMS)) throw new BadRequest(name, `unknown query parameter ${name}; this endpoint takes limit, cursor`);
    if (query.getAll(name).length > 1) throw new BadRequest(name, `${name} may be given once`);
  }
  const limit = query.has("limit") ? integer("limit", query.get("limit")) : PARAMS.limit.default;
  const cursor = query.get("cursor");
  if (cursor === "") throw new BadRequest("cursor", "cursor must not be empty");
  const after = cursor === null ? 0 : decodeCursor(cursor, rows);
  const last = Math.min(rows, after + limit);
  const items = [];
  for (let id = after + 1; id <= last; id++) items.push(recordJson(id));
  return `{"items":[${items.join(",")}],"next_cursor":${last < rows ? `"${encodeCursor(last)}"` : "null"}}`;
}

function send(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Starts the API on 127.0.0.1.
 * @param {{ port?: number, token: string }} options
 * @returns {Promise<{ url: string, close(): Promise<void> }>} `url` is the API root, e.g. http://127.0.0.1:8080/v1
 */
export async function startBenchApi({ port = 0, token }) {
  if (!token) throw new Error("startBenchApi: a token is required");
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const match = ROUTE.exec(url.pathname);
    if (!match) return send(res, 404, { error: "not_found", message: `no endpoint ${url.pathname}` });
    if (req.method !== "GET") return send(res, 405, { error: "method_not_allowed", message: "only GET is supported" }, { allow: "GET" });
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(res, 401, { error: "unauthorized", message: "missing or invalid bearer token" }, { "www-authenticate": 'Bearer realm="bench"' });
    }
    try {
      send(res, 200, page(integer("rows", match[1]), url.searchParams));
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      send(res, 400, { error: "bad_request", message: e.message, param: e.param });
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/v1`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.env.TOKEN) {
    process.stderr.write("server.mjs: set TOKEN to the bearer token clients must send\n");
    process.exit(2);
  }
  const api = await startBenchApi({ port: Number(process.env.PORT || 0), token: process.env.TOKEN });
  // One line on stdout, read by run.mjs: the only output.
  process.stdout.write(`${JSON.stringify({ url: api.url })}\n`);
  const stop = () => api.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
