/**
 * The HTTP client against answers the emulator does not give: stalls, bodies that are not
 * JSON, closed ports, a base URL with a path. A scripted server on 127.0.0.1, the real axios.
 */
import { createServer } from "node:net";
import { afterEach, beforeEach, expect, test } from "vitest";
import { clearSecrets, registerSecret, silentLogger } from "@xo-foundry/core";
import { recordingLogger, rejectionOf, startScriptedServer, type ScriptedServer } from "@xo-foundry/testkit";
import { createHubSpotClient, type HubSpotClientOptions } from "./client.js";

let server: ScriptedServer;
beforeEach(async () => {
  server = await startScriptedServer();
});
afterEach(async () => server.close());

const UPSERT = "/crm/v3/objects/contacts/batch/upsert";
const client = (overrides: Partial<HubSpotClientOptions> = {}) =>
  createHubSpotClient({
    baseUrl: new URL(server.url),
    token: "pat-na1-secret-token",
    connection: 'connection "crm" (XO_CONN_CRM)',
    requestsPerSecond: 100,
    maxRetries: 2,
    backoffMs: 10,
    timeoutMs: 1000,
    log: silentLogger,
    signal: new AbortController().signal,
    random: () => 0.5,
    ...overrides,
  });
const result = { id: "1", properties: { email: "a@example.com" }, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z", new: true };

test("sends the bearer token and HubSpot's batch body, and reads the results", async () => {
  server.route({ method: "POST", path: UPSERT, respond: { body: { status: "COMPLETE", results: [result] } } });
  const outcome = await client().upsert("contacts", "email", [{ id: "a@example.com", properties: { email: "a@example.com", firstname: "Ana" } }]);
  expect(outcome).toEqual({ results: [result], errors: [] });
  const [request] = server.requests;
  expect(request!.headers.authorization).toBe("Bearer pat-na1-secret-token");
  expect(JSON.parse(request!.body)).toEqual({ inputs: [{ id: "a@example.com", idProperty: "email", properties: { email: "a@example.com", firstname: "Ana" } }] });
});

test("a base URL with a path keeps it", async () => {
  server.route({ path: `/proxy/hubspot${UPSERT}`, respond: { body: { results: [] } } });
  await client({ baseUrl: new URL(`${server.url}/proxy/hubspot`) }).upsert("contacts", "email", []);
  expect(server.requests[0]!.path).toBe(`/proxy/hubspot${UPSERT}`);
});

test("a stalled answer times out and is retried", async () => {
  server.route({ path: UPSERT, respond: [{ stall: true }, { body: { results: [result] } }] });
  const log = recordingLogger();
  const outcome = await client({ timeoutMs: 1000, log }).upsert("contacts", "email", [{ id: "a@example.com", properties: {} }]);
  expect(outcome.results).toHaveLength(1);
  expect(log.warnings[0]).toMatch(/got no answer within 1000 ms; retry 1 of 2/);
});

test("a 2xx whose body is not JSON is retried, then HUBSPOT_RESPONSE_INVALID", async () => {
  server.route({ path: UPSERT, respond: { status: 200, body: "<html>maintenance</html>" } });
  const e = await rejectionOf(() => client().upsert("contacts", "email", [{ id: "a@example.com", properties: {} }]));
  expect(e).toMatchObject({ code: "HUBSPOT_RESPONSE_INVALID" });
  expect(e.message).toContain("<html>maintenance</html>");
  expect(server.requests).toHaveLength(3);
});

test("a result without id or updatedAt is HUBSPOT_RESPONSE_INVALID", async () => {
  server.route({ path: UPSERT, respond: { body: { results: [{ properties: {} }] } } });
  const e = await rejectionOf(() => client().upsert("contacts", "email", []));
  expect(e).toMatchObject({ code: "HUBSPOT_RESPONSE_INVALID" });
});

test("a closed port is retried, then HUBSPOT_UNAVAILABLE", async () => {
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const e = await rejectionOf(() => client({ baseUrl: new URL(`http://127.0.0.1:${closed}`) }).archive("contacts", ["1"]));
  expect(e).toMatchObject({ code: "HUBSPOT_UNAVAILABLE" });
  expect(e.message).toMatch(/could not reach HubSpot: .*ECONNREFUSED.*\(3 attempts\)/);
});

test("Retry-After as an HTTP date is honoured", async () => {
  const soon = new Date(Date.now() + 1500).toUTCString();
  server.route({ path: UPSERT, respond: [{ status: 429, headers: { "Retry-After": soon }, body: { status: "error", errorType: "RATE_LIMIT" } }, { body: { results: [] } }] });
  const started = Date.now();
  await client().upsert("contacts", "email", []);
  expect(Date.now() - started).toBeGreaterThanOrEqual(400);
});

test("an abort while waiting for HubSpot rejects with the signal's reason", async () => {
  server.route({ path: UPSERT, respond: { stall: true } });
  const controller = new AbortController();
  const pending = rejectionOf(() => client({ signal: controller.signal, timeoutMs: 60_000 }).upsert("contacts", "email", []));
  setTimeout(() => controller.abort(new Error("stopped")), 100);
  expect((await pending).message).toBe("stopped");
});

test("HubSpot's echo of the token is redacted from the error (the runtime registers connection passwords)", async () => {
  registerSecret("pat-na1-secret-token");
  try {
    server.route({ path: UPSERT, respond: { status: 401, body: { status: "error", category: "INVALID_AUTHENTICATION", message: "bad token pat-na1-secret-token" } } });
    const e = await rejectionOf(() => client().upsert("contacts", "email", []));
    expect(e).toMatchObject({ code: "HUBSPOT_AUTH_FAILED" });
    expect(e.message).toContain("bad token");
    expect(e.message).not.toContain("pat-na1-secret-token");
  } finally {
    clearSecrets();
  }
});

test("batch read sends ids, properties and archived=false, and returns the 207's errors by id", async () => {
  server.route({
    path: "/crm/v3/objects/contacts/batch/read",
    respond: { status: 207, body: { results: [result], errors: [{ status: "error", category: "OBJECT_NOT_FOUND", message: "Could not get some CONTACT objects", context: { ids: ["2"] } }] } },
  });
  const outcome = await client().read("contacts", ["1", "2"], ["email"]);
  expect(server.requests[0]!.query.get("archived")).toBe("false");
  expect(JSON.parse(server.requests[0]!.body)).toEqual({ inputs: [{ id: "1" }, { id: "2" }], properties: ["email"], propertiesWithHistory: [] });
  expect(outcome.errors).toEqual([{ category: "OBJECT_NOT_FOUND", message: "Could not get some CONTACT objects", ids: ["2"] }]);
});
