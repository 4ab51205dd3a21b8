// A small REST API with bundled, deterministic data, for trying the `api` source
// without network access. No dependencies beyond Node itself.
//
// Follows: openapi.json next to this file, "xo-foundry sample shop API" 1.0.0 (OpenAPI 3.1).
// The query parameters of each path are checked against that description (ADR 0009): a
// parameter it does not list, a repeated one, or a value outside its schema is refused with
// 400 and `{ "error": "bad_request", "message", "param" }`, as a real API would refuse it.
//
//   node examples/sample-api/server.mjs          # prints its URL, serves until killed
//   PORT=8080 TOKEN=my-token node examples/sample-api/server.mjs
//
// GET /v1/customers?limit=&offset=                                   -> { "data": [...], "total": N }
// GET /v1/orders?limit=&cursor=&updated_since=&updated_before=       -> { "items": [...], "next_cursor": "..." | null }
// Both need `Authorization: Bearer <token>`.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

async function loadData() {
  const read = async (name) => JSON.parse(await readFile(new URL(`./data/${name}.json`, import.meta.url), "utf8"));
  const [customers, orders] = await Promise.all([read("customers"), read("orders")]);
  return { customers, orders };
}

class BadRequest extends Error {
  constructor(param, message) {
    super(message);
    this.param = param;
  }
}

// RFC 3339 date-time, as JSON Schema's `format: date-time` means it.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
// The schema keywords the checker below understands; the description may use no others for parameters.
const KNOWN_KEYWORDS = new Set(["type", "minimum", "maximum", "minLength", "format", "default"]);

/** `{ path: { name: { schema } } }` for the GET operations of the description, `$ref`s resolved. */
async function loadDescription() {
  const doc = JSON.parse(await readFile(new URL("./openapi.json", import.meta.url), "utf8"));
  const resolve = (node) => (node.$ref ? node.$ref.slice(2).split("/").reduce((at, key) => at[key], doc) : node);
  const paths = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    const params = {};
    for (const p of (item.get?.parameters ?? []).map(resolve)) {
      const unknown = Object.keys(p.schema).filter((k) => !KNOWN_KEYWORDS.has(k));
      if (p.in !== "query" || unknown.length) throw new Error(`openapi.json: parameter ${p.name} of ${path} uses ${p.in !== "query" ? `in: ${p.in}` : unknown.join(", ")}, which server.mjs does not check`);
      params[p.name] = p.schema;
    }
    paths[`/v1${path}`] = params;
  }
  return paths;
}

/** The query as the description types it (defaults applied); throws BadRequest for anything it rules out. */
function checkQuery(searchParams, params) {
  const out = {};
  for (const name of new Set(searchParams.keys())) {
    if (!(name in params)) throw new BadRequest(name, `unknown query parameter ${name}; this endpoint takes ${Object.keys(params).join(", ")}`);
    if (searchParams.getAll(name).length > 1) throw new BadRequest(name, `${name} may be given once`);
  }
  for (const [name, schema] of Object.entries(params)) {
    const raw = searchParams.get(name);
    if (raw === null) {
      if (schema.default !== undefined) out[name] = schema.default;
      continue;
    }
    if (schema.type === "integer") {
      const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < (schema.minimum ?? -Infinity) || value > (schema.maximum ?? Infinity)) {
        throw new BadRequest(name, `${name} must be an integer from ${schema.minimum} to ${schema.maximum}`);
      }
      out[name] = value;
    } else {
      if (raw.length < (schema.minLength ?? 0)) throw new BadRequest(name, `${name} must not be empty`);
      if (schema.format === "date-time" && (!DATE_TIME.test(raw) || Number.isNaN(Date.parse(raw)))) {
        throw new BadRequest(name, `${name} must be an RFC 3339 timestamp such as 2026-01-15T00:00:00Z`);
      }
      out[name] = schema.format === "date-time" ? Date.parse(raw) : raw;
    }
  }
  return out;
}

// Cursors are opaque to clients; here they hold the last id served.
const encodeCursor = (id) => Buffer.from(`after:${id}`).toString("base64url");
function decodeCursor(cursor) {
  const match = /^after:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw new BadRequest("cursor", "cursor is not valid; pass back next_cursor unchanged");
  return Number(match[1]);
}

function customersPage(data, { limit, offset }) {
  return { data: data.customers.slice(offset, offset + limit), total: data.customers.length };
}

function ordersPage(data, { limit, cursor, updated_since: since, updated_before: before }) {
  const after = cursor ? decodeCursor(cursor) : 0;
  const matching = data.orders.filter((o) => {
    const updated = Date.parse(o.updated_at);
    return o.id > after && (since === undefined || updated >= since) && (before === undefined || updated < before);
  });
  const items = matching.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: matching.length > limit && last ? encodeCursor(last.id) : null };
}

const routes = { "/v1/customers": customersPage, "/v1/orders": ordersPage };

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Starts the sample API on 127.0.0.1.
 * @param {{ port?: number, token?: string }} [options]
 * @returns {Promise<{ url: string, close(): Promise<void> }>} `url` is the API root, e.g. http://127.0.0.1:8080/v1
 */
export async function startSampleApi({ port = 0, token = "demo-token" } = {}) {
  const [data, description] = await Promise.all([loadData(), loadDescription()]);
  const missing = Object.keys(routes).filter((path) => !description[path]);
  if (missing.length) throw new Error(`openapi.json does not describe ${missing.join(", ")}`);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = routes[url.pathname];
    if (!route) return send(res, 404, { error: "not_found", message: `no endpoint ${url.pathname}` });
    if (req.method !== "GET") return send(res, 405, { error: "method_not_allowed", message: "only GET is supported" }, { allow: "GET" });
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(res, 401, { error: "unauthorized", message: "missing or invalid bearer token" }, { "www-authenticate": 'Bearer realm="sample-api"' });
    }
    try {
      send(res, 200, route(data, checkQuery(url.searchParams, description[url.pathname])));
    } catch (e) {
      if (e instanceof BadRequest) send(res, 400, { error: "bad_request", message: e.message, param: e.param });
      else send(res, 500, { error: "internal", message: "unexpected error" });
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const token = process.env.TOKEN || "demo-token";
  const api = await startSampleApi({ port: Number(process.env.PORT || 0), token });
  console.log(`sample API listening on ${api.url}`);
  console.log(`connection for the api source: XO_CONN_SAMPLE_API='${JSON.stringify({ host: api.url, password: token })}'`);
  const stop = () => api.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
