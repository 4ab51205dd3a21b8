/**
 * Authentication, retries, timeouts and errors against a loopback server that
 * emulates a REST API's failure modes (rate limits, 5xx, hangs), scripted per test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearOAuth2Cache, clearSecrets, isXoError, type Connection } from "@xo-foundry/core";
import { startOAuthServer, type OAuthServer } from "@xo-foundry/testkit";
import { ApiRequestError, backoffDelay, MAX_BACKOFF_MS, parseRetryAfter } from "./http.js";
import { extractError, extractPages, makeContext, recordingLogger, rows, sendJson, startScriptedServer, type ScriptedServer } from "./__fixtures__/harness.js";

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(() => server.close());
afterEach(() => clearSecrets());

const TOKEN = "s3cr3t-token-value";
const conn = (fields: Partial<Connection> = {}): Connection => ({ id: "crm", host: server.url, password: TOKEN, extra: {}, ...fields });
/** Fast retries: the delays under test are the server's, not ours. */
const fast = { max_retries: 3, backoff_ms: 1 };

describe("authentication", () => {
  it("sends a bearer token from the connection and takes the base URL from its host", async () => {
    server.script((req, res) =>
      req.headers.authorization === `Bearer ${TOKEN}` ? sendJson(res, 200, rows(1, 2)) : sendJson(res, 401, { error: "unauthorized" }),
    );
    const pages = await extractPages(makeContext({ source: { auth: { type: "bearer" } }, stream: { path: "v1/items" }, connection: conn() }));
    expect(pages.flat()).toHaveLength(2);
    expect(server.requests[0]?.url.pathname).toBe("/v1/items");
    expect(server.requests[0]?.headers["user-agent"]).toMatch(/^xo-foundry-plugin-api\/\d+\.\d+\.\d+/);
  });

  it("sends basic credentials from login and password", async () => {
    const expected = `Basic ${Buffer.from(`ana:${TOKEN}`).toString("base64")}`;
    server.script((req, res) => (req.headers.authorization === expected ? sendJson(res, 200, []) : sendJson(res, 401, {})));
    await extractPages(makeContext({ source: { auth: { type: "basic" } }, stream: { path: "x" }, connection: conn({ login: "ana" }) }));
    expect(server.requests).toHaveLength(1);
  });

  it("sends an API key in the default header or a custom one", async () => {
    server.script((req, res) => (req.headers["x-api-key"] === TOKEN ? sendJson(res, 200, []) : sendJson(res, 401, {})));
    await extractPages(makeContext({ source: { auth: { type: "api_key" } }, stream: { path: "x" }, connection: conn() }));
    server.script((req, res) => (req.headers["x-token"] === TOKEN ? sendJson(res, 200, []) : sendJson(res, 401, {})));
    await extractPages(makeContext({ source: { auth: { type: "api_key", header: "X-Token" } }, stream: { path: "x" }, connection: conn() }));
  });

  it("sends an API key as a query parameter and never prints it", async () => {
    server.script((_req, res, url) =>
      url.searchParams.get("k") === TOKEN ? sendJson(res, 200, rows(1, 1)) : sendJson(res, 401, { error: "bad key" }),
    );
    const ok = await extractPages(
      makeContext({ source: { auth: { type: "api_key", query_param: "k" } }, stream: { path: "x", params: { q: "1" } }, connection: conn() }),
    );
    expect(ok.flat()).toHaveLength(1);

    server.script((_req, res) => sendJson(res, 404, { error: "no such thing" }));
    const error = await extractError(
      makeContext({ source: { auth: { type: "api_key", query_param: "k" } }, stream: { path: "missing", params: { q: "1" } }, connection: conn() }),
    );
    expect(server.requests[0]?.url.searchParams.get("k")).toBe(TOKEN);
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/missing\?q=1 failed with HTTP 404 Not Found: \{"error":"no such thing"\}\. Check the stream's `path`/);
    expect(error.message).not.toContain(TOKEN);
  });

  it("builds the base URL from host, port and extra.scheme", async () => {
    server.script((_req, res) => sendJson(res, 200, []));
    const port = Number(new URL(server.url).port);
    await extractPages(makeContext({ source: {}, stream: { path: "x" }, connection: { id: "c", host: "127.0.0.1", port, schema: "v2", extra: { scheme: "http" } } }));
    expect(server.requests[0]?.url.pathname).toBe("/v2/x");
  });

  it("explains a missing secret before sending anything", async () => {
    server.script((_req, res) => sendJson(res, 200, []));
    const error = await extractError(makeContext({ source: { auth: { type: "bearer" } }, stream: { path: "x" }, connection: conn({ password: undefined }) }));
    expect(error.message).toBe('auth type "bearer" needs a token: set the password of connection "crm" (XO_CONN_CRM)');
    expect(server.requests).toHaveLength(0);
  });

  it("explains a missing base URL", async () => {
    const error = await extractError(makeContext({ source: {}, stream: { path: "x" } }));
    expect(error.message).toMatch(/no base URL: set `base_url` in the source block/);
  });
});

describe("OAuth 2", () => {
  let oauth: OAuthServer;
  beforeAll(async () => {
    oauth = await startOAuthServer();
  });
  afterAll(() => oauth.stop());
  afterEach(() => clearOAuth2Cache());

  /** An API that accepts only live tokens from the endpoint, with the scope it needs. */
  const protectedApi = (scope?: string) =>
    server.script((req, res) => (oauth.verify(req.headers.authorization, scope).ok ? sendJson(res, 200, rows(1, 2)) : sendJson(res, 401, { error: "invalid_token" })));

  it("gets a client-credentials token with scopes and audience, and reuses it", async () => {
    const client = oauth.client();
    protectedApi("orders.read");
    const auth = { type: "oauth2_client_credentials", token_url: oauth.tokenUrl, scopes: ["orders.read"], audience: "https://api.example.test" };
    const before = oauth.requests.length;
    for (let i = 0; i < 2; i++) {
      const pages = await extractPages(makeContext({ source: { auth }, stream: { path: "orders" }, connection: conn({ login: client.clientId, password: client.clientSecret }) }));
      expect(pages.flat()).toHaveLength(2);
    }
    expect(oauth.requests.slice(before)).toMatchObject([{ grantType: "client_credentials", clientAuth: "basic", scope: "orders.read", status: 200 }]);
  });

  it("renews a token the API stopped accepting mid-run, once, without counting a retry", async () => {
    const client = oauth.client({ refreshToken: true });
    let served = 0;
    server.script((req, res, url) => {
      if (!oauth.verify(req.headers.authorization).ok) return sendJson(res, 401, { error: "invalid_token" });
      served++;
      // After the first page every token issued so far expires, as if revoked by the provider.
      if (served === 1) oauth.expireAll();
      const page = Number(url.searchParams.get("page") ?? "1");
      sendJson(res, 200, rows(page * 10, page < 3 ? 2 : 1));
    });
    const pages = await extractPages(
      makeContext({
        source: { auth: { type: "oauth2_refresh_token", token_url: oauth.tokenUrl }, max_retries: 0 },
        stream: { path: "items", pagination: { type: "page", page_size: 2 } },
        connection: conn({ login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } }),
      }),
    );
    expect(pages.flat()).toHaveLength(5);
    expect(server.requests.map((r) => r.url.searchParams.get("page"))).toEqual(["1", "2", "2", "3"]);
  });

  it("fails with the connection named, never the refresh token, when it was revoked", async () => {
    const client = oauth.client({ refreshToken: true });
    oauth.revoke(client.refreshToken!);
    protectedApi();
    const error = await extractError(
      makeContext({
        source: { auth: { type: "oauth2_refresh_token", token_url: oauth.tokenUrl } },
        stream: { path: "items" },
        connection: conn({ login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } }),
      }),
    );
    expect(isXoError(error) && error.diagnostics[0]).toMatchObject({ code: "XO_OAUTH_REFUSED", message: expect.stringMatching(/connection "crm": invalid_grant/), hint: expect.stringMatching(/XO_CONN_CRM/) });
    expect(JSON.stringify(isXoError(error) ? error.diagnostics : error.message)).not.toContain(client.refreshToken);
    expect(server.requests).toHaveLength(0);
  });

  it("says what the connection lacks for each grant", async () => {
    const source = { auth: { type: "oauth2_refresh_token", token_url: oauth.tokenUrl } };
    expect((await extractError(makeContext({ source, stream: { path: "x" }, connection: conn({ login: "id" }) }))).message).toMatch(/needs a refresh token: set extra\.refresh_token of connection "crm" \(XO_CONN_CRM\)/);
    const cc = { auth: { type: "oauth2_client_credentials", token_url: oauth.tokenUrl } };
    expect((await extractError(makeContext({ source: cc, stream: { path: "x" }, connection: conn({ password: "s" }) }))).message).toMatch(/needs the OAuth client id: set the login/);
  });
});

describe("-v request log", () => {
  it("logs each exchange at debug level: method, URL with secrets masked, status, size and time", async () => {
    let calls = 0;
    server.script((_req, res) => (++calls === 1 ? sendJson(res, 503, {}) : sendJson(res, 200, rows(1, 1))));
    const debug: string[] = [];
    const log = { ...recordingLogger(), debug: (m: string) => void debug.push(m) };
    log.child = () => log;
    await extractPages(
      makeContext({ source: { auth: { type: "api_key", query_param: "key" }, ...fast }, stream: { path: "x", params: { page: 1 } }, connection: conn(), log }),
    );
    const exchanges = debug.filter((l) => l.startsWith("GET "));
    // The key travels in the query string but is never part of the URL that is shown.
    expect(server.requests[0]?.url.searchParams.get("key")).toBe(TOKEN);
    expect(exchanges[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/x\?page=1 -> 503 Service Unavailable, 2 bytes in \d+ ms$/);
    expect(exchanges[1]).toMatch(/-> 200 OK, \d+ bytes in \d+ ms$/);
    expect(debug.join("\n")).not.toContain(TOKEN);
  });
});

describe("failures", () => {
  it("fails at once on 401 with a hint and without the secret", async () => {
    server.script((_req, res) => sendJson(res, 401, { error: "invalid token", echo: TOKEN }));
    const error = await extractError(makeContext({ source: { auth: { type: "bearer" }, ...fast }, stream: { path: "x" }, connection: conn() }));
    expect(server.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error.message).toMatch(/failed with HTTP 401 Unauthorized/);
    expect(error.message).toMatch(/Check the credentials in connection "crm" \(XO_CONN_CRM\)/);
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).toContain('"echo":"***"');
  });

  it("retries 429 after the Retry-After delay, then succeeds", async () => {
    let calls = 0;
    server.script((_req, res) => (++calls === 1 ? sendJson(res, 429, { error: "slow down" }, { "retry-after": "0" }) : sendJson(res, 200, rows(1, 3))));
    const log = recordingLogger();
    const pages = await extractPages(makeContext({ source: { base_url: server.url, max_retries: 2, backoff_ms: 10_000 }, stream: { path: "x" }, log }));
    expect(pages.flat()).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
    // backoff_ms is 10 s: finishing at all proves Retry-After: 0 was honoured.
    expect(log.warnings).toEqual([expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/x failed with HTTP 429 Too Many Requests; retry 1 of 2 in 0 ms$/)]);
  });

  it("retries 5xx with backoff, then succeeds", async () => {
    let calls = 0;
    server.script((_req, res) => (++calls <= 2 ? sendJson(res, 502, { error: "bad gateway" }) : sendJson(res, 200, rows(1, 1))));
    const log = recordingLogger();
    expect((await extractPages(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x" }, log }))).flat()).toHaveLength(1);
    expect(log.warnings).toHaveLength(2);
  });

  it("gives up after max_retries on endless 5xx with a clear error", async () => {
    server.script((_req, res) => sendJson(res, 503, { error: "maintenance" }));
    const error = await extractError(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x", params: { a: 1 } } }));
    expect(server.requests).toHaveLength(4);
    expect(error.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/x\?a=1 failed with HTTP 503 Service Unavailable \(4 attempts\): \{"error":"maintenance"\}\. The API kept failing/,
    );
    expect((error as ApiRequestError).status).toBe(503);
  });

  it("times out a request that never answers, retries, then fails", async () => {
    server.script(() => {});
    const started = Date.now();
    const error = await extractError(makeContext({ source: { base_url: server.url, timeout_ms: 100, max_retries: 1, backoff_ms: 1 }, stream: { path: "slow" } }));
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/slow timed out after 100 ms \(2 attempts\)\. Raise `timeout_ms`/);
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("times out a response whose body stalls", async () => {
    server.script((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("[{");
    });
    const error = await extractError(makeContext({ source: { base_url: server.url, timeout_ms: 100, max_retries: 0 }, stream: { path: "x" } }));
    expect(error.message).toMatch(/timed out after 100 ms/);
  });

  it("retries a connection cut mid-body", async () => {
    let calls = 0;
    server.script((req, res) => {
      if (++calls === 1) {
        res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
        res.write('[{"id":');
        setTimeout(() => req.socket.destroy(), 5);
      } else sendJson(res, 200, rows(1, 2));
    });
    expect((await extractPages(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x" } }))).flat()).toHaveLength(2);
    expect(server.requests).toHaveLength(2);
  });

  it("stops when the signal aborts a pending request", async () => {
    server.script(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await extractError(makeContext({ source: { base_url: server.url }, stream: { path: "x" }, signal: controller.signal }));
    expect(error.name).toBe("AbortError");
  });

  it("stops when the signal aborts a backoff wait", async () => {
    server.script((_req, res) => sendJson(res, 500, {}));
    const controller = new AbortController();
    const log = { ...recordingLogger(), warn: () => controller.abort() };
    const started = Date.now();
    const error = await extractError(
      makeContext({ source: { base_url: server.url, backoff_ms: 30_000 }, stream: { path: "x" }, signal: controller.signal, log }),
    );
    expect(error.name).toBe("AbortError");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("reports a connection that is refused", async () => {
    const error = await extractError(makeContext({ source: { base_url: "http://127.0.0.1:1", max_retries: 0 }, stream: { path: "x" } }));
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/x failed: .*ECONNREFUSED.*Check `base_url`/);
  });

  it("quotes a body that is not JSON, without retrying", async () => {
    server.script((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>Please log in</body></html>");
    });
    const error = await extractError(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x" } }));
    expect(error.message).toMatch(/returned HTTP 200 but the body is not JSON: <html><body>Please log in/);
    expect(server.requests).toHaveLength(1);
  });

  it("does not retry a complete body that is invalid JSON", async () => {
    server.script((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"items":[{"id":1}],}');
    });
    const error = await extractError(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x" } }));
    expect(error.message).toMatch(/returned HTTP 200 but the body is not JSON: \{"items":\[\{"id":1\}\],\}/);
    expect(server.requests).toHaveLength(1);
  });
});

describe("bodies that end early", () => {
  const FULL = JSON.stringify(rows(1, 3));
  const CUT = FULL.slice(0, 30);

  it("retries a 200 whose chunked body is complete on the wire but its JSON is cut short", async () => {
    let calls = 0;
    server.script((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(++calls === 1 ? CUT : FULL);
    });
    const log = recordingLogger();
    const pages = await extractPages(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x" }, log }));
    expect(pages.flat()).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
    expect(log.warnings).toEqual([expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/x returned HTTP 200 but the body ended early \(30 bytes, the JSON is incomplete\); retry 1 of 3 in \d+ ms$/)]);
  });

  it("retries a body that a closed connection ends without a Content-Length", async () => {
    let calls = 0;
    server.script((_req, res) => {
      // HTTP/1.1 allows a body delimited by the close of the connection: nothing on the wire says it is short.
      if (++calls === 1) res.socket!.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${CUT}`);
      else sendJson(res, 200, rows(1, 3));
    });
    expect((await extractPages(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x" } }))).flat()).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
  });

  it("retries a body shorter than its Content-Length", async () => {
    let calls = 0;
    server.script((_req, res) => {
      if (++calls === 1) res.socket!.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${FULL.length}\r\n\r\n${CUT}`);
      else sendJson(res, 200, rows(1, 3));
    });
    expect((await extractPages(makeContext({ source: { base_url: server.url, ...fast }, stream: { path: "x" } }))).flat()).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
  });

  it("gives up on a body that keeps ending early, with a clear error", async () => {
    server.script((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(CUT);
    });
    const error = await extractError(makeContext({ source: { base_url: server.url, max_retries: 2, backoff_ms: 1 }, stream: { path: "x" } }));
    expect(server.requests).toHaveLength(3);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect((error as ApiRequestError).status).toBe(200);
    expect(error.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/x returned HTTP 200 but the body ended early \(30 bytes, the JSON is incomplete\) \(3 attempts\)\. The API or a proxy on the way closed the response/,
    );
  });
});

describe("retry timing", () => {
  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-15T12:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3_000);
    expect(parseRetryAfter("Thu, 15 Jan 2026 12:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Thu, 15 Jan 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it("doubles the delay with jitter and caps it", () => {
    expect(backoffDelay(0, 500, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, () => 1)).toBe(4_000);
    expect(backoffDelay(20, 500, () => 1)).toBe(MAX_BACKOFF_MS);
  });
});
