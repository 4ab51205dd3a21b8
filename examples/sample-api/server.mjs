// A small REST API with bundled, deterministic data, for trying the `api` source
// without network access. No dependencies beyond Node itself.
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

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

async function loadData() {
  const read = async (name) => JSON.parse(await readFile(new URL(`./data/${name}.json`, import.meta.url), "utf8"));
  const [customers, orders] = await Promise.all([read("customers"), read("orders")]);
  return { customers, orders };
}

class BadRequest extends Error {}

function intParam(params, name, fallback, min, max) {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new BadRequest(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

function timeParam(params, name) {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new BadRequest(`${name} must be an ISO 8601 timestamp`);
  return ms;
}

// Cursors are opaque to clients; here they hold the last id served.
const encodeCursor = (id) => Buffer.from(`after:${id}`).toString("base64url");
function decodeCursor(cursor) {
  const match = /^after:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw new BadRequest("cursor is not valid; pass back next_cursor unchanged");
  return Number(match[1]);
}

function customersPage(data, params) {
  const limit = intParam(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
  const offset = intParam(params, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  return { data: data.customers.slice(offset, offset + limit), total: data.customers.length };
}

function ordersPage(data, params) {
  const limit = intParam(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
  const since = timeParam(params, "updated_since");
  const before = timeParam(params, "updated_before");
  const cursor = params.get("cursor");
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
  const data = await loadData();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = routes[url.pathname];
    if (!route) return send(res, 404, { error: "not_found", message: `no endpoint ${url.pathname}` });
    if (req.method !== "GET") return send(res, 405, { error: "method_not_allowed", message: "only GET is supported" }, { allow: "GET" });
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(res, 401, { error: "unauthorized", message: "missing or invalid bearer token" }, { "www-authenticate": 'Bearer realm="sample-api"' });
    }
    try {
      send(res, 200, route(data, url.searchParams));
    } catch (e) {
      if (e instanceof BadRequest) send(res, 400, { error: "bad_request", message: e.message });
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
