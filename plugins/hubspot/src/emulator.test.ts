/**
 * The emulator answers as HubSpot's API reference says, refusals included, so the sync's tests
 * against it mean something. Raw HTTP here, no plugin code.
 */
import { afterEach, describe, expect, test } from "vitest";
import { startHubSpotEmulator, type HubSpotEmulator, type HubSpotEmulatorOptions } from "./__fixtures__/hubspot_server.js";

let hs: HubSpotEmulator;
const start = async (options: HubSpotEmulatorOptions = {}) => (hs = await startHubSpotEmulator(options));
afterEach(async () => hs?.close());

/** `token: null` sends no Authorization header. */
async function post(path: string, body: unknown, token: string | null = hs.token): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${hs.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}

const upsert = (inputs: unknown[], type = "contacts") => post(`/crm/v3/objects/${type}/batch/upsert`, { inputs });
const contact = (email: string, properties: Record<string, string> = {}) => ({ id: email, idProperty: "email", properties: { email, ...properties } });

describe("authentication", () => {
  test("refuses a missing or wrong bearer token with 401 INVALID_AUTHENTICATION", async () => {
    await start();
    for (const token of [null, "pat-na1-wrong"]) {
      const answer = await post("/crm/v3/objects/contacts/batch/upsert", { inputs: [contact("a@example.com")] }, token);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ status: "error", category: "INVALID_AUTHENTICATION", correlationId: expect.any(String) });
    }
    expect(hs.objects("contacts")).toHaveLength(0);
  });

  test("refuses a token without the object's scope with 403 MISSING_SCOPES, naming the scope", async () => {
    await start({ scopes: ["crm.objects.contacts.read"] });
    const answer = await upsert([contact("a@example.com")]);
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ category: "MISSING_SCOPES", errors: [{ context: { requiredGranularScopes: ["crm.objects.contacts.write"] } }] });
    expect((await post("/crm/v3/objects/contacts/batch/read", { inputs: [], properties: [] })).status).toBe(200);
  });
});

describe("batch upsert", () => {
  test("creates by the id property (200, new: true), then updates the same object (new: false)", async () => {
    await start();
    const created = await upsert([contact("Ana@Example.com", { firstname: "Ana" })]);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: "COMPLETE", startedAt: expect.any(String), completedAt: expect.any(String) });
    const [result] = created.body.results as Record<string, unknown>[];
    expect(result).toMatchObject({ id: expect.stringMatching(/^\d+$/), new: true, archived: false, properties: { email: "ana@example.com", firstname: "Ana" } });
    expect(result!.createdAt).toBe(result!.updatedAt);

    const updated = await upsert([contact("ana@example.com", { firstname: "Anna" })]);
    const [again] = updated.body.results as Record<string, unknown>[];
    expect(again).toMatchObject({ id: result!.id, new: false, properties: { firstname: "Anna" } });
    expect(Date.parse(again!.updatedAt as string)).toBeGreaterThan(Date.parse(result!.updatedAt as string));
    expect(hs.objects("contacts")).toHaveLength(1);

    const same = await upsert([contact("ana@example.com", { firstname: "Anna" })]);
    expect((same.body.results as Record<string, unknown>[])[0]!.updatedAt).toBe(again!.updatedAt);
  });

  test("refuses invalid values per input with 207 and one StandardError naming the input", async () => {
    await start();
    const answer = await upsert([contact("good@example.com"), contact("not-an-email"), contact("c@example.com", { lifecyclestage: "bogus", annualrevenue: "lots" })]);
    expect(answer.status).toBe(207);
    expect(answer.body.numErrors).toBe(2);
    expect((answer.body.results as unknown[]).length).toBe(1);
    const [email, values] = answer.body.errors as Record<string, unknown>[];
    expect(email).toMatchObject({ status: "error", category: "VALIDATION_ERROR", context: { ids: ["not-an-email"] }, errors: [{ code: "INVALID_EMAIL", in: "email" }] });
    expect(email!.message).toMatch(/^Property values were not valid: \[\{"isValid":false,"message":"Email address not-an-email is invalid","error":"INVALID_EMAIL","name":"email"\}\]$/);
    expect((values!.errors as { code: string }[]).map((e) => e.code)).toEqual(["INVALID_OPTION", "INVALID_FLOAT"]);
    expect(hs.objects("contacts").map((o) => o.properties.email)).toEqual(["good@example.com"]);
  });

  test("in whole-batch mode, one invalid input refuses the batch with 400", async () => {
    await start({ validation: "whole-batch" });
    const answer = await upsert([contact("good@example.com"), contact("bad")]);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ category: "VALIDATION_ERROR", errors: [{ code: "INVALID_EMAIL", in: "email" }] });
    expect(hs.objects("contacts")).toHaveLength(0);
  });

  test("refuses more than 100 inputs, duplicate ids, a property that does not exist, and a property that is not unique as idProperty", async () => {
    await start();
    const many = await upsert(Array.from({ length: 101 }, (_, i) => contact(`c${i}@example.com`)));
    expect(many.status).toBe(400);
    expect(many.body.message).toContain("The maximum number of inputs supported in a batch request is 100");
    expect((await upsert(Array.from({ length: 100 }, (_, i) => contact(`c${i}@example.com`)))).status).toBe(200);

    const duplicate = await upsert([contact("x@example.com"), contact("X@example.com")]);
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.message).toContain("Duplicate IDs found in batch input");

    const unknown = await upsert([contact("y@example.com", { favourite_colour: "teal" })]);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ errors: [{ code: "PROPERTY_DOESNT_EXIST", in: "favourite_colour" }] });

    const notUnique = await upsert([{ id: "Ana", idProperty: "firstname", properties: {} }]);
    expect(notUnique.status).toBe(400);
    expect(hs.objects("contacts")).toHaveLength(100);
  });

  test("refuses an unknown object type, a body that is not JSON, and inputs without id", async () => {
    await start();
    expect((await upsert([contact("a@example.com")], "contactz")).body.message).toBe("Unable to infer object type from: contactz");
    expect((await post("/crm/v3/objects/contacts/batch/upsert", "{not json")).status).toBe(400);
    expect((await upsert([{ idProperty: "email", properties: {} }])).body.message).toBe("Some required fields were not set: [id]");
  });

  test("an archived object never matches an upsert: a new object is created", async () => {
    await start();
    const first = (await upsert([contact("a@example.com")])).body.results as { id: string }[];
    expect((await post("/crm/v3/objects/contacts/batch/archive", { inputs: [{ id: first[0]!.id }] })).status).toBe(204);
    const second = (await upsert([contact("a@example.com")])).body.results as { id: string; new: boolean }[];
    expect(second[0]).toMatchObject({ new: true });
    expect(second[0]!.id).not.toBe(first[0]!.id);
  });
});

describe("batch archive and read", () => {
  test("archive answers 204 without a body, also for ids that are gone or unknown", async () => {
    await start();
    const [a] = (await upsert([contact("a@example.com")])).body.results as { id: string }[];
    for (let i = 0; i < 2; i++) {
      const answer = await post("/crm/v3/objects/contacts/batch/archive", { inputs: [{ id: a!.id }, { id: "999999" }] });
      expect(answer.status).toBe(204);
      expect(answer.body).toEqual({});
    }
    expect(hs.objects("contacts")).toHaveLength(0);
    expect(hs.objects("contacts", { archived: true })[0]).toMatchObject({ archived: true, archivedAt: expect.any(String) });
  });

  test("read by id returns the requested properties; ids it cannot find come back as a 207 OBJECT_NOT_FOUND", async () => {
    await start();
    const [a] = (await upsert([contact("a@example.com", { firstname: "Ana", lastname: "Silva" })])).body.results as { id: string }[];
    const found = await post("/crm/v3/objects/contacts/batch/read?archived=false", { inputs: [{ id: a!.id }], properties: ["firstname"], propertiesWithHistory: [] });
    expect(found.status).toBe(200);
    expect((found.body.results as { properties: Record<string, unknown> }[])[0]!.properties).toEqual({
      firstname: "Ana",
      hs_object_id: a!.id,
      createdate: expect.any(String),
      lastmodifieddate: expect.any(String),
    });
    const partly = await post("/crm/v3/objects/contacts/batch/read", { inputs: [{ id: a!.id }, { id: "424242" }], properties: [] });
    expect(partly.status).toBe(207);
    expect(partly.body.errors).toEqual([expect.objectContaining({ category: "OBJECT_NOT_FOUND", context: { ids: ["424242"] } })]);
    const byEmail = await post("/crm/v3/objects/contacts/batch/read", { idProperty: "email", inputs: [{ id: "A@example.com" }], properties: ["email"] });
    expect((byEmail.body.results as { id: string }[])[0]!.id).toBe(a!.id);
  });

  test("touch is a change made in HubSpot: it moves updatedAt forward", async () => {
    await start();
    const [a] = (await upsert([contact("a@example.com")])).body.results as { id: string; updatedAt: string }[];
    const touched = hs.touch("contacts", a!.id, { firstname: "Remote" });
    expect(Date.parse(touched.updatedAt)).toBeGreaterThan(Date.parse(a!.updatedAt));
    expect(touched.properties.firstname).toBe("Remote");
  });
});

describe("rate limits", () => {
  test("past the rolling window's limit, 429 with HubSpot's RATE_LIMIT body, and requests pass again once the window moved on", async () => {
    await start({ rateLimit: { limit: 2, windowMs: 1000 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await upsert([contact(`c${i}@example.com`)])).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await upsert([contact("x@example.com")]);
    expect(limited.body).toMatchObject({ status: "error", message: "You have reached your secondly limit.", errorType: "RATE_LIMIT", policyName: "SECONDLY", correlationId: expect.any(String) });
    expect(limited.headers.get("retry-after")).toBeNull();
    expect(hs.objects("contacts")).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1050));
    expect((await upsert([contact("y@example.com")])).status).toBe(200);
  });

  test("HubSpot's default window is 100 requests per 10 seconds, TEN_SECONDLY_ROLLING", async () => {
    await start();
    const answers = await Promise.all(Array.from({ length: 101 }, () => post("/crm/v3/objects/contacts/batch/read", { inputs: [], properties: [] })));
    expect(answers.filter((a) => a.status === 429)).toHaveLength(1);
    expect(answers.find((a) => a.status === 429)!.body).toMatchObject({ policyName: "TEN_SECONDLY_ROLLING", message: "You have reached your ten_secondly_rolling limit." });
  });

  test("scripted failures come with Retry-After, for the operation named", async () => {
    await start();
    hs.failNext(1, { status: 429, retryAfter: 3, operation: "archive" });
    expect((await upsert([contact("a@example.com")])).status).toBe(200);
    const archive = await post("/crm/v3/objects/contacts/batch/archive", { inputs: [] });
    expect(archive.status).toBe(429);
    expect(archive.headers.get("retry-after")).toBe("3");
    expect(archive.body).toMatchObject({ errorType: "RATE_LIMIT" });
  });
});
