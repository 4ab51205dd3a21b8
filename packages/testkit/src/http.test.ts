import { describe, expect, it } from "vitest";
import { startScriptedServer, useScriptedServer } from "./http.js";

describe("scripted server", () => {
  const server = useScriptedServer([{ method: "GET", path: "/health", respond: { body: { ok: true } } }]);

  it("listens on 127.0.0.1 and answers its routes", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ ok: true });
  });

  it("answers a list of responses in order, the last repeating, and records every request", async () => {
    server.route({ path: /^\/seq/, respond: [{ status: 503, headers: { "retry-after": "1" } }, { status: 200, body: "plain text" }] });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.url}/seq?i=${i}`, { method: "POST", body: `body ${i}` })).status);
    expect(statuses).toEqual([503, 200, 200]);
    const seq = server.requests.filter((r) => r.path === "/seq");
    expect(seq.map((r) => [r.method, r.query.get("i"), r.body])).toEqual([
      ["POST", "0", "body 0"],
      ["POST", "1", "body 1"],
      ["POST", "2", "body 2"],
    ]);
  });

  it("answers from a function of the request, matches methods, and says 404 for anything unscripted", async () => {
    server.route({ method: "PUT", path: (r) => r.path.startsWith("/echo/"), respond: (r, i) => ({ status: 201, body: { path: r.path, index: i } }) });
    expect(await (await fetch(`${server.url}/echo/a`, { method: "PUT" })).json()).toEqual({ path: "/echo/a", index: 0 });
    const missing = await fetch(`${server.url}/echo/a`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "no scripted response for GET /echo/a" });
  });

  it("delays answers, and stalls until the client gives up", async () => {
    server.route({ path: "/slow", respond: { delayMs: 150, body: "late" } }, { path: "/never", respond: { stall: true } });
    const started = performance.now();
    expect(await (await fetch(`${server.url}/slow`)).text()).toBe("late");
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await expect(fetch(`${server.url}/never`, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });

  it("forgets routes and requests on reset", async () => {
    server.reset();
    expect(server.requests).toEqual([]);
    expect((await fetch(`${server.url}/health`)).status).toBe(404);
  });
});

it("closes even with stalled requests open", async () => {
  const server = await startScriptedServer([{ path: "/never", respond: { stall: true } }]);
  const pending = fetch(`${server.url}/never`).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 50));
  await server.close();
  expect(await pending).toBeInstanceOf(Error);
});
