/**
 * Pagination against a loopback server. The server is a generic emulated REST API:
 * each test scripts the paging contract it speaks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiSource } from "./source.js";
import { nextLink } from "./pagination.js";
import { extractError, extractPages, makeContext, recordingLogger, rows, sendJson, startScriptedServer, type ScriptedServer } from "./__fixtures__/harness.js";

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(() => server.close());

const TOTAL = 25;

describe("offset pagination", () => {
  it("reads every page and stops at the first short page", async () => {
    server.script((_req, res, url) => {
      const limit = Number(url.searchParams.get("limit"));
      const offset = Number(url.searchParams.get("offset"));
      sendJson(res, 200, rows(offset + 1, Math.min(limit, TOTAL - offset)));
    });
    const pages = await extractPages(
      makeContext({ source: { base_url: `${server.url}/v1`, page_size: 10 }, stream: { path: "items", pagination: { type: "offset" } } }),
    );
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat().map((r) => r.id)).toEqual(rows(1, TOTAL).map((r) => r.id));
    expect(server.requests.map((r) => `${r.url.pathname}?${r.url.searchParams}`)).toEqual([
      "/v1/items?limit=10&offset=0",
      "/v1/items?limit=10&offset=10",
      "/v1/items?limit=10&offset=20",
    ]);
  });

  it("stops on an empty page when the total is a multiple of the page size, with custom parameter names", async () => {
    server.script((_req, res, url) => {
      const size = Number(url.searchParams.get("take"));
      const skip = Number(url.searchParams.get("skip"));
      sendJson(res, 200, { data: { items: rows(skip + 1, Math.min(size, 20 - skip)) } });
    });
    const pages = await extractPages(
      makeContext({
        source: { base_url: server.url },
        stream: {
          path: "/items",
          record_path: "data.items",
          pagination: { type: "offset", limit_param: "take", offset_param: "skip", page_size: 10 },
        },
      }),
    );
    expect(pages.map((p) => p.length)).toEqual([10, 10]);
    expect(server.requests).toHaveLength(3);
  });
});

describe("cursor pagination", () => {
  it("follows next_cursor_path until it is null and sends the page size when limit_param is set", async () => {
    server.script((_req, res, url) => {
      const start = Number(url.searchParams.get("after") ?? "0");
      const limit = Number(url.searchParams.get("page_limit"));
      const items = rows(start + 1, Math.min(limit, TOTAL - start));
      const last = start + items.length;
      sendJson(res, 200, { results: items, meta: { next_cursor: last < TOTAL ? String(last) : null } });
    });
    const pages = await extractPages(
      makeContext({
        source: { base_url: server.url },
        stream: {
          path: "events",
          record_path: "results",
          pagination: { type: "cursor", cursor_param: "after", next_cursor_path: "meta.next_cursor", limit_param: "page_limit", page_size: 10 },
        },
      }),
    );
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(server.requests.map((r) => r.url.search)).toEqual(["?page_limit=10", "?page_limit=10&after=10", "?page_limit=10&after=20"]);
  });

  it("refuses to loop when the API hands back the same cursor", async () => {
    let call = 0;
    server.script((_req, res) => sendJson(res, 200, { items: rows(++call * 10, 2), next: "abc" }));
    const error = await extractError(
      makeContext({ source: { base_url: server.url }, stream: { path: "x", record_path: "items", pagination: { type: "cursor", next_cursor_path: "next" } } }),
    );
    expect(error.message).toMatch(/returned the cursor it was given/);
  });
});

describe("page and Link header pagination", () => {
  it("counts pages from start_page", async () => {
    server.script((_req, res, url) => {
      const page = Number(url.searchParams.get("p"));
      const size = Number(url.searchParams.get("size"));
      sendJson(res, 200, rows(page * size + 1, Math.min(size, TOTAL - page * size)));
    });
    const pages = await extractPages(
      makeContext({
        source: { base_url: server.url, page_size: 10 },
        stream: { path: "x", pagination: { type: "page", page_param: "p", size_param: "size", start_page: 0 } },
      }),
    );
    expect(pages.flat()).toHaveLength(TOTAL);
    expect(server.requests.map((r) => r.url.searchParams.get("p"))).toEqual(["0", "1", "2"]);
  });

  it('follows rel="next" links on the same origin', async () => {
    server.script((_req, res, url) => {
      const page = Number(url.searchParams.get("page") ?? "1");
      const headers: Record<string, string> =
        page < 3 ? { link: `<${server.url}/repos?page=${page + 1}&per_page=2>; rel="next", <${server.url}/repos?page=3>; rel="last"` } : {};
      sendJson(res, 200, rows(page * 10, 2), headers);
    });
    const pages = await extractPages(
      makeContext({ source: { base_url: server.url }, stream: { path: "repos", pagination: { type: "link_header", limit_param: "per_page", page_size: 2 } } }),
    );
    expect(pages).toHaveLength(3);
    expect(server.requests.map((r) => r.url.search)).toEqual(["?per_page=2", "?page=2&per_page=2", "?page=3&per_page=2"]);
  });

  it("never follows a next link to another origin", async () => {
    server.script((_req, res) => sendJson(res, 200, rows(1, 1), { link: '<https://elsewhere.example/x?page=2>; rel="next"' }));
    const error = await extractError(makeContext({ source: { base_url: server.url }, stream: { path: "x", pagination: { type: "link_header" } } }));
    expect(error.message).toMatch(/another origin \(https:\/\/elsewhere\.example\)/);
  });

  it("follows a next URL from the body, relative or absolute, until it is null", async () => {
    server.script((_req, res, url) => {
      const page = Number(url.searchParams.get("page") ?? "1");
      const next = page === 1 ? "tickets?page=2" : page === 2 ? `${server.url}/v2/tickets?page=3` : null;
      sendJson(res, 200, { data: rows(page * 10, 2), links: { next } });
    });
    const pages = await extractPages(
      makeContext({ source: { base_url: `${server.url}/v2` }, stream: { path: "tickets", record_path: "data", pagination: { type: "next_url", next_url_path: "links.next", limit_param: "size", page_size: 2 } } }),
    );
    expect(pages).toHaveLength(3);
    expect(server.requests.map((r) => `${r.url.pathname}${r.url.search}`)).toEqual(["/v2/tickets?size=2", "/v2/tickets?page=2", "/v2/tickets?page=3"]);
  });

  it("refuses a next URL on another origin, or one that points back at the same page", async () => {
    server.script((_req, res) => sendJson(res, 200, { data: rows(1, 1), next: "https://elsewhere.example/page2" }));
    const away = await extractError(makeContext({ source: { base_url: server.url }, stream: { path: "x", record_path: "data", pagination: { type: "next_url", next_url_path: "next" } } }));
    expect(away.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/x points to another origin \(https:\/\/elsewhere\.example\); refusing to send credentials there/);
    server.script((_req, res, url) => sendJson(res, 200, { data: rows(1, 1), next: url.pathname }));
    const loop = await extractError(makeContext({ source: { base_url: server.url }, stream: { path: "x", record_path: "data", pagination: { type: "next_url", next_url_path: "next" } } }));
    expect(loop.message).toMatch(/gave its own URL as the next page/);
  });

  it("parses Link headers", () => {
    expect(nextLink('<https://a/x?page=2>; rel="next"')).toBe("https://a/x?page=2");
    expect(nextLink('<https://a/1>; rel="prev", <https://a/3>; rel=next')).toBe("https://a/3");
    expect(nextLink('<https://a/3>; rel="next last"')).toBe("https://a/3");
    expect(nextLink('<https://a/1>; rel="prev"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe("records and parameters", () => {
  it("fills window placeholders in params and path", async () => {
    server.script((_req, res) => sendJson(res, 200, []));
    await extractPages(
      makeContext({
        source: { base_url: server.url },
        stream: {
          path: "days/{logical_date}/orders",
          params: { since: "{window_start}", until: "{window_end}", limit: 5, active: true, label: "day {logical_date}", from: "{window_start_date}", to: "{window_end_date}" },
        },
      }),
    );
    const [request] = server.requests;
    expect(request?.url.pathname).toBe("/days/2026-01-15/orders");
    expect(Object.fromEntries(request!.url.searchParams)).toEqual({
      since: "2026-01-15T00:00:00+00:00",
      until: "2026-01-16T00:00:00+00:00",
      limit: "5",
      active: "true",
      label: "day 2026-01-15",
      from: "2026-01-15",
      to: "2026-01-16",
    });
  });

  it("suggests a record_path when the body is an object", async () => {
    server.script((_req, res) => sendJson(res, 200, { meta: { total: 1 }, data: { items: [{ id: 1 }] } }));
    const error = await extractError(makeContext({ source: { base_url: server.url }, stream: { path: "x" } }));
    expect(error.message).toMatch(/expected an array of records at the response body of GET http:\/\/127\.0\.0\.1:\d+\/x, found an object/);
    expect(error.message).toMatch(/set `record_path` to one of: `data\.items`/);
  });

  it("treats an empty body as an empty page", async () => {
    server.script((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    expect(await extractPages(makeContext({ source: { base_url: server.url }, stream: { path: "x" } }))).toEqual([]);
  });

  it("stops at max_pages with a warning", async () => {
    server.script((_req, res, url) => sendJson(res, 200, rows(Number(url.searchParams.get("offset")), 10)));
    const log = recordingLogger();
    const pages = await extractPages(
      makeContext({ source: { base_url: server.url, page_size: 10 }, stream: { path: "x", pagination: { type: "offset" }, max_pages: 2 }, log }),
    );
    expect(pages).toHaveLength(2);
    expect(server.requests).toHaveLength(2);
    expect(log.warnings.join("\n")).toMatch(/stopped after max_pages \(2\)/);
  });

  it("fails instead of paging forever when the API ignores the offset", async () => {
    server.script((_req, res) => sendJson(res, 200, rows(1, 10)));
    const error = await extractError(makeContext({ source: { base_url: server.url, page_size: 10 }, stream: { path: "x", pagination: { type: "offset" } } }));
    expect(error.message).toMatch(/returned the same page/);
    expect(server.requests).toHaveLength(2);
  });

  it("fetches the next page only after the previous one was consumed", async () => {
    server.script((_req, res, url) => sendJson(res, 200, rows(Number(url.searchParams.get("offset")), 10)));
    const ctx = makeContext({ source: { base_url: server.url, page_size: 10 }, stream: { path: "x", pagination: { type: "offset" } } });
    const iterator = apiSource.extract(ctx)[Symbol.asyncIterator]();
    await iterator.next();
    expect(server.requests).toHaveLength(1);
    await iterator.next();
    expect(server.requests).toHaveLength(2);
    await iterator.return?.();
    expect(server.requests).toHaveLength(2);
  });
});

describe("POST streams", () => {
  it("send the JSON body with placeholders filled and the page parameters added to it", async () => {
    server.script((_req, res) => {
      const body = JSON.parse(server.requests.at(-1)!.body) as { after?: string };
      sendJson(res, 200, { results: rows(body.after ? 20 : 10, 2), paging: { next: body.after ? null : "abc" } });
    });
    const pages = await extractPages(
      makeContext({
        source: { base_url: server.url },
        stream: {
          path: "crm/v3/objects/deals/search",
          method: "POST",
          params: { archived: false },
          body: { filters: [{ propertyName: "updated", operator: "GTE", value: "{window_start}" }], sorts: ["updated"] },
          record_path: "results",
          pagination: { type: "cursor", next_cursor_path: "paging.next", cursor_param: "after", limit_param: "limit", page_size: 2 },
        },
      }),
    );
    expect(pages.flat()).toHaveLength(4);
    expect(server.requests.map((r) => [r.method, r.url.search, r.headers["content-type"]])).toEqual([
      ["POST", "?archived=false", "application/json"],
      ["POST", "?archived=false", "application/json"],
    ]);
    expect(server.requests.map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { filters: [{ propertyName: "updated", operator: "GTE", value: "2026-01-15T00:00:00+00:00" }], sorts: ["updated"], limit: 2 },
      { filters: [{ propertyName: "updated", operator: "GTE", value: "2026-01-15T00:00:00+00:00" }], sorts: ["updated"], limit: 2, after: "abc" },
    ]);
  });

  it("are refused a body without method: POST, and unknown placeholders in the body", () => {
    const stream = apiSource.stream;
    expect(stream.safeParse({ path: "x", body: { a: 1 } }).error?.issues).toMatchObject([{ path: ["body"], message: expect.stringMatching(/only with `method: POST`/) }]);
    expect(stream.safeParse({ path: "x", method: "POST", body: { q: { since: "{yesterday}" } } }).error?.issues).toMatchObject([
      { path: ["body", "q", "since"], message: expect.stringMatching(/unknown placeholder \{yesterday\} in `body`/) },
    ]);
    expect(stream.safeParse({ path: "x", method: "POST", body: { since: "{cursor}" } }).error?.issues).toMatchObject([{ path: ["body", "since"], message: expect.stringMatching(/needs an `incremental:` block/) }]);
  });
});
