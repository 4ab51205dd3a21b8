/**
 * `hubspot.sync` end to end: a real DuckDB model, the runtime's file landing zone, and the
 * HubSpot emulator. Each test checks what HubSpot ends up holding, not only what was sent.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { JsonObject } from "@xo-foundry/core";
import { recordingLogger, rejectionOf } from "@xo-foundry/testkit";
import { contacts, crmState, startHarness, type Harness, type ModelRow } from "./__fixtures__/harness.js";
import type { HubSpotEmulatorOptions } from "./__fixtures__/hubspot_server.js";

let h: Harness;
const start = async (options: HubSpotEmulatorOptions = {}) => {
  h = await startHarness(options);
  return h;
};
afterEach(async () => h?.close());

const upserts = () => h.hubspot.calls.filter((c) => c.operation === "upsert");
const archives = () => h.hubspot.calls.filter((c) => c.operation === "archive");
const summaryOf = (result: { summary?: JsonObject }) => result.summary as Record<string, unknown>;

/** The CRM holds exactly the model: one live object per row, with the row's values. */
function expectCrmEqualsModel(rows: readonly ModelRow[]): void {
  const crm = crmState(h.hubspot);
  expect([...crm.keys()].sort()).toEqual(rows.map((r) => String(r.email).toLowerCase()).sort());
  for (const row of rows) {
    const held = crm.get(String(row.email).toLowerCase())!;
    for (const [column, value] of Object.entries(row)) {
      if (column !== "email") expect(held[column], `${String(row.email)}.${column}`).toBe(value === null ? "" : String(value));
    }
  }
}

describe("the diff", () => {
  beforeEach(() => start());

  test("the first sync inserts every row, the second sends nothing", async () => {
    const rows = contacts(5);
    await h.model(rows);
    const log = recordingLogger();
    const first = await h.run({ log });
    expect(summaryOf(first)).toEqual({ rows: 5, inserts: 5, updates: 0, deletes: 0, unchanged: 0, conflicts: 0, rejected: 0 });
    expect(log.infos.at(-1)).toBe("hubspot.sync contacts: 5 rows, 5 inserts, 0 updates, 0 deletes, 0 unchanged, 0 conflicts, 0 rejected");
    expect(first.writes).toEqual([{ uri: `${h.hubspot.url}/crm/v3/objects/contacts` }]);
    expectCrmEqualsModel(rows);
    expect(upserts()).toHaveLength(1);

    const second = await h.run();
    expect(summaryOf(second)).toMatchObject({ rows: 5, inserts: 0, updates: 0, unchanged: 5 });
    expect(upserts()).toHaveLength(1);
  });

  test("one changed row is one update of one object, with only that row sent", async () => {
    const rows = contacts(4);
    await h.model(rows);
    await h.run();
    const before = crmState(h.hubspot);
    const changed = rows.map((r, i) => (i === 2 ? { ...r, company: "Changed Ltd" } : r));
    await h.model(changed);
    const result = await h.run();
    expect(summaryOf(result)).toMatchObject({ inserts: 0, updates: 1, unchanged: 3 });
    expect(upserts().at(-1)!.ids).toEqual([rows[2]!.email]);
    expectCrmEqualsModel(changed);
    expect(h.hubspot.objects("contacts")).toHaveLength(before.size);
  });

  test("a removed row is archived when deletes: archive, and left alone by default", async () => {
    const rows = contacts(3);
    await h.model(rows);
    await h.run({ options: { deletes: "archive" } });
    const gone = h.hubspot.find("contacts", "email", String(rows[1]!.email))[0]!;
    await h.model([rows[0]!, rows[2]!]);

    const ignored = await h.run();
    expect(summaryOf(ignored)).toMatchObject({ deletes: 0, unchanged: 2 });
    expect(archives()).toHaveLength(0);
    expect(h.hubspot.objects("contacts")).toHaveLength(3);

    // `ignore` dropped the key from the snapshot: switching to archive later does not archive it.
    const after = await h.run({ options: { deletes: "archive" } });
    expect(summaryOf(after)).toMatchObject({ deletes: 0 });

    await h.model(rows);
    await h.run({ options: { deletes: "archive" } });
    await h.model([rows[0]!, rows[2]!]);
    const archived = await h.run({ options: { deletes: "archive" } });
    expect(summaryOf(archived)).toMatchObject({ deletes: 1, unchanged: 2 });
    expect(archives().at(-1)!.ids).toEqual([gone.id]);
    expectCrmEqualsModel([rows[0]!, rows[2]!]);
    const snapshot = await h.snapshot();
    expect(snapshot!.slice(1).map((e) => e.key)).toEqual([rows[0]!.email, rows[2]!.email]);
  });

  test("the snapshot holds key, hash, HubSpot id and updatedAt, after a header naming the sync", async () => {
    await h.model(contacts(2));
    await h.run();
    const [header, ...entries] = (await h.snapshot())!;
    expect(header).toMatchObject({ snapshot: 1, object_type: "contacts", id_property: "email" });
    for (const entry of entries) {
      const object = h.hubspot.find("contacts", "email", String(entry!.key))[0]!;
      expect(entry).toEqual({ key: object.properties.email, hash: expect.stringMatching(/^[0-9a-f]{64}$/), id: object.id, updatedAt: object.updatedAt });
    }
  });

  test("a column mapping sends the named columns under the named properties", async () => {
    await h.model([{ mail: "ana@example.com", first_name: "Ana", internal_note: "not for the CRM" }]);
    await h.run({ options: { key: "mail", properties: { first_name: "firstname" } } });
    const [ana] = h.hubspot.objects("contacts");
    expect(ana!.properties).toEqual({ email: "ana@example.com", firstname: "Ana" });
  });

  test("a query is a model too; nulls clear properties, numbers and booleans are sent as HubSpot's strings", async () => {
    await h.model([{ email: "ana@example.com", first: "Ana", revenue: 1250.5, marketable: true, phone: null }]);
    await h.run({
      options: {
        table: undefined,
        query: "select email, first as firstname, revenue as annualrevenue, marketable as hs_marketable_status, phone from contacts",
      },
    });
    expect(h.hubspot.objects("contacts")[0]!.properties).toEqual({ email: "ana@example.com", firstname: "Ana", annualrevenue: "1250.5", hs_marketable_status: "true", phone: "" });
  });

  test("rows that have no key, or a key the model has twice, are not sent and go to the rejected file", async () => {
    await h.model([
      { email: "ana@example.com", firstname: "Ana" },
      { email: null, firstname: "Nobody" },
      { email: "twice@example.com", firstname: "One" },
      { email: "twice@example.com", firstname: "Two" },
    ]);
    const result = await h.run();
    expect(summaryOf(result)).toMatchObject({ rows: 4, inserts: 1, rejected: 3 });
    expect(crmState(h.hubspot).size).toBe(1);
    const rejected = await h.rejected();
    expect(rejected).toEqual([
      { key: null, action: "none", reason: 'the key column "email" is null', row: { email: null, firstname: "Nobody" } },
      expect.objectContaining({ key: "twice@example.com", action: "none", reason: expect.stringContaining("2 rows with this key") }),
      expect.objectContaining({ key: "twice@example.com", action: "none" }),
    ]);
  });

  test("a model that comes back empty archives nothing unless max_deletes allows it", async () => {
    await h.model(contacts(3));
    await h.run({ options: { deletes: "archive" } });
    await h.model([]);
    const e = await rejectionOf(() => h.run({ options: { deletes: "archive" } }));
    expect(e).toMatchObject({ code: "HUBSPOT_TOO_MANY_DELETES" });
    expect(e.message).toContain("returned no rows, so the sync would archive all 3 objects");
    expect(archives()).toHaveLength(0);
    expect(crmState(h.hubspot).size).toBe(3);

    const capped = await rejectionOf(() => h.run({ options: { deletes: "archive", max_deletes: 2 } }));
    expect(capped.message).toContain("would archive 3 objects, more than max_deletes (2)");
    const allowed = await h.run({ options: { deletes: "archive", max_deletes: 3 } });
    expect(summaryOf(allowed)).toMatchObject({ deletes: 3 });
    expect(crmState(h.hubspot).size).toBe(0);
  });

  test("a snapshot of another object type is refused, naming the file to delete", async () => {
    await h.model(contacts(1));
    await h.run();
    const e = await rejectionOf(() => h.run({ options: { object_type: "companies", id_property: "domain" } }));
    expect(e).toMatchObject({ code: "HUBSPOT_STATE_INVALID" });
    expect(e.message).toContain("was written for contacts by email, and the step now syncs companies by domain");
    expect(e.message).toContain("sync__sync_contacts.ndjson");
  });

  test("a key column that is not in the model names the columns there are", async () => {
    await h.model([{ mail: "ana@example.com" }]);
    const e = await rejectionOf(() => h.run());
    expect(e).toMatchObject({ code: "HUBSPOT_MODEL_INVALID" });
    expect(e.message).toContain('the `key` column "email" is not in the model (table contacts); its columns are "mail"');
  });
});

describe("batches", () => {
  beforeEach(() => start());

  test("250 rows go as batches of 100, 100 and 50, and batch_size makes them smaller", async () => {
    const rows = contacts(250);
    await h.model(rows);
    await h.run();
    expect(upserts().map((c) => c.inputs)).toEqual([100, 100, 50]);
    expectCrmEqualsModel(rows);

    await h.model(contacts(250, 2));
    await h.run({ options: { batch_size: 40 } });
    expect(upserts().slice(3).map((c) => c.inputs)).toEqual([40, 40, 40, 40, 40, 40, 10]);
    expectCrmEqualsModel(contacts(250, 2));
  });

  test("archives go in batches too", async () => {
    await h.model(contacts(120));
    await h.run({ options: { deletes: "archive" } });
    await h.model(contacts(120).slice(0, 5));
    const result = await h.run({ options: { deletes: "archive" } });
    expect(summaryOf(result)).toMatchObject({ deletes: 115 });
    expect(archives().map((c) => c.inputs)).toEqual([100, 15]);
    expect(crmState(h.hubspot).size).toBe(5);
  });
});

describe("rows HubSpot refuses", () => {
  test("go to the dead-letter file with HubSpot's reason, are not recorded, and are sent again by the next run", async () => {
    await start();
    const rows: ModelRow[] = [
      { email: "ana@example.com", firstname: "Ana", lifecyclestage: "customer" },
      { email: "not-an-email", firstname: "Frank", lifecyclestage: "lead" },
      { email: "ben@example.com", firstname: "Ben", lifecyclestage: "bogus" },
    ];
    await h.model(rows);
    const first = await h.run();
    const file = summaryOf(first).rejected_file as string;
    expect(summaryOf(first)).toMatchObject({ inserts: 1, rejected: 2 });
    expect(file).toMatch(/\/rejected\/test_pipeline\/sync_contacts\/incremental\/.+\/rejected\.ndjson$/);
    expect(await h.rejected()).toEqual([
      { key: "not-an-email", action: "insert", reason: "email: Email address not-an-email is invalid (INVALID_EMAIL)", category: "VALIDATION_ERROR", row: rows[1] },
      { key: "ben@example.com", action: "insert", reason: expect.stringContaining("(INVALID_OPTION)"), category: "VALIDATION_ERROR", row: rows[2] },
    ]);
    expect((await h.snapshot())!.slice(1).map((e) => e.key)).toEqual(["ana@example.com"]);

    // Unchanged model: the refused rows are tried again, the synced one is not.
    const second = await h.run();
    expect(summaryOf(second)).toMatchObject({ unchanged: 1, rejected: 2 });
    expect(upserts().at(-1)!.ids).toEqual(["not-an-email", "ben@example.com"]);

    // Fixed in the model: Ben lands, and a run without refusals removes the old file.
    await h.model([rows[0]!, { ...rows[2]!, lifecyclestage: "lead" }]);
    const third = await h.run();
    expect(summaryOf(third)).toMatchObject({ inserts: 1, unchanged: 1, rejected: 0 });
    expect(summaryOf(third).rejected_file).toBeUndefined();
    expect(await h.rejected()).toBeUndefined();
    expect(crmState(h.hubspot).get("ben@example.com")!.lifecyclestage).toBe("lead");
  });

  test("an update HubSpot refuses keeps the last synced entry, so it is retried", async () => {
    await start();
    await h.model([{ email: "ana@example.com", lifecyclestage: "lead" }]);
    await h.run();
    const synced = (await h.snapshot())![1];
    await h.model([{ email: "ana@example.com", lifecyclestage: "bogus" }]);
    const result = await h.run();
    expect(summaryOf(result)).toMatchObject({ updates: 0, rejected: 1 });
    expect((await h.rejected())![0]).toMatchObject({ key: "ana@example.com", action: "update" });
    expect((await h.snapshot())![1]).toEqual(synced);
  });

  test("a batch refused as a whole is split until the refused rows stand alone", async () => {
    await start({ validation: "whole-batch" });
    const rows = contacts(8);
    rows[5] = { ...rows[5]!, lifecyclestage: "bogus" };
    await h.model(rows);
    const result = await h.run();
    expect(summaryOf(result)).toMatchObject({ inserts: 7, rejected: 1 });
    expect((await h.rejected())![0]).toMatchObject({ key: rows[5]!.email, reason: expect.stringContaining("INVALID_OPTION") });
    expect(crmState(h.hubspot).size).toBe(7);
  });

  test("a rule of the test's own refuses per row, like HubSpot's validation", async () => {
    await start();
    h.hubspot.refuse((input) => (input.properties.company === "Blocked Inc" ? { property: "company", error: "BLOCKED_VALUE", message: "Company is on the block list" } : undefined));
    await h.model([
      { email: "ana@example.com", company: "Lumen" },
      { email: "ben@example.com", company: "Blocked Inc" },
    ]);
    const result = await h.run();
    expect(summaryOf(result)).toMatchObject({ inserts: 1, rejected: 1 });
    expect((await h.rejected())![0]!.reason).toBe("company: Company is on the block list (BLOCKED_VALUE)");
  });

  test("more than max_rejected fails the task after saving what was synced", async () => {
    await start();
    await h.model([
      { email: "ana@example.com", firstname: "Ana" },
      { email: "bad-1", firstname: "X" },
      { email: "bad-2", firstname: "Y" },
    ]);
    const e = await rejectionOf(() => h.run({ options: { max_rejected: 1 } }));
    expect(e).toMatchObject({ code: "HUBSPOT_TOO_MANY_REJECTED" });
    expect(e.message).toContain("rejected.ndjson");
    expect((await h.snapshot())!.slice(1).map((x) => x.key)).toEqual(["ana@example.com"]);
    expect(await h.rejected()).toHaveLength(2);
  });

  test("a property HubSpot does not have fails the task, naming it", async () => {
    await start();
    await h.model([{ email: "ana@example.com", favourite_colour: "teal" }]);
    const e = await rejectionOf(() => h.run());
    expect(e).toMatchObject({ code: "HUBSPOT_PROPERTY_UNKNOWN" });
    expect(e.message).toContain('HubSpot has no "favourite_colour" property');
  });
});

describe("conflicts", () => {
  beforeEach(() => start());

  test("skip_remote_changes leaves objects changed in HubSpot since the last sync, and reports them every run", async () => {
    const rows = contacts(3);
    await h.model(rows);
    await h.run({ options: { conflict: "skip_remote_changes" } });
    const remote = h.hubspot.find("contacts", "email", String(rows[1]!.email))[0]!;
    h.hubspot.touch("contacts", remote.id, { firstname: "Edited In HubSpot" });

    const changed = rows.map((r) => ({ ...r, company: "New Co" }));
    await h.model(changed);
    const log = recordingLogger();
    const result = await h.run({ options: { conflict: "skip_remote_changes" }, log });
    expect(summaryOf(result)).toMatchObject({ updates: 2, conflicts: 1 });
    expect(log.warnings.join("\n")).toContain(`1 contacts changed in HubSpot since the last sync were not updated (conflict: skip_remote_changes): "${String(rows[1]!.email)}"`);
    expect(h.hubspot.calls.filter((c) => c.operation === "read").at(-1)!.ids).toEqual(h.hubspot.objects("contacts").map((o) => o.id));
    expect(upserts().at(-1)!.ids).toEqual([rows[0]!.email, rows[2]!.email]);
    const crm = crmState(h.hubspot);
    expect(crm.get(String(rows[1]!.email))).toMatchObject({ firstname: "Edited In HubSpot", company: rows[1]!.company });
    expect(crm.get(String(rows[0]!.email))!.company).toBe("New Co");

    const again = await h.run({ options: { conflict: "skip_remote_changes" } });
    expect(summaryOf(again)).toMatchObject({ updates: 0, unchanged: 2, conflicts: 1 });

    // source_wins overwrites it.
    const wins = await h.run();
    expect(summaryOf(wins)).toMatchObject({ updates: 1, conflicts: 0 });
    expect(crmState(h.hubspot).get(String(rows[1]!.email))).toMatchObject({ firstname: rows[1]!.firstname, company: "New Co" });
  });

  test("an object archived in HubSpot is a conflict under skip_remote_changes, not a new object", async () => {
    await h.model(contacts(1));
    await h.run();
    const [object] = h.hubspot.objects("contacts");
    object!.archived = true;
    await h.model(contacts(1, 2));
    const result = await h.run({ options: { conflict: "skip_remote_changes" } });
    expect(summaryOf(result)).toMatchObject({ updates: 0, conflicts: 1 });
    expect(h.hubspot.objects("contacts")).toHaveLength(0);
  });
});

describe("rate limits and failures", () => {
  test("429s with Retry-After are waited out, and nothing lands twice", async () => {
    await start();
    h.hubspot.failNext(2, { status: 429, retryAfter: 1, operation: "upsert" });
    await h.model(contacts(3));
    const log = recordingLogger();
    const result = await h.run({ log });
    expect(summaryOf(result)).toMatchObject({ inserts: 3 });
    const [first, second, third] = upserts();
    expect([first!.status, second!.status, third!.status]).toEqual([429, 429, 200]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(990);
    expect(log.warnings[0]).toMatch(/upsert of 3 contacts \(POST \/crm\/v3\/objects\/contacts\/batch\/upsert\) answered HTTP 429 Too Many Requests: .*limit.*retry 1 of 5 in 1000 ms/);
    expectCrmEqualsModel(contacts(3));
  });

  test("the step keeps under HubSpot's rolling limit at its request rate", async () => {
    await start({ rateLimit: { limit: 3, windowMs: 1000 } });
    await h.model(contacts(10));
    await h.run({ options: { batch_size: 1, rate: { requests_per_second: 2 } } });
    expect(upserts().map((c) => c.status)).toEqual(Array(10).fill(200));
    expectCrmEqualsModel(contacts(10));
  });

  test("above the limit, HubSpot's 429s (no Retry-After) are retried with backoff until every row landed", async () => {
    await start({ rateLimit: { limit: 2, windowMs: 1000 } });
    await h.model(contacts(6));
    await h.run({ options: { batch_size: 1, rate: { requests_per_second: 50 }, backoff_ms: 200, max_retries: 10 } });
    const statuses = upserts().map((c) => c.status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expectCrmEqualsModel(contacts(6));
  });

  test("a 429 that never ends fails with HUBSPOT_RATE_LIMITED", async () => {
    await start();
    h.hubspot.failNext(10, { status: 429 });
    await h.model(contacts(1));
    const e = await rejectionOf(() => h.run({ options: { max_retries: 2 } }));
    expect(e).toMatchObject({ code: "HUBSPOT_RATE_LIMITED" });
    expect(e.message).toContain("after 3 attempts");
  });

  test("5xx answers are retried; upserts are idempotent, so the CRM has each row once", async () => {
    await start();
    h.hubspot.failNext(2, { status: 502 });
    await h.model(contacts(3));
    const result = await h.run();
    expect(summaryOf(result)).toMatchObject({ inserts: 3 });
    expect(upserts().map((c) => c.status)).toEqual([502, 502, 200]);
    expectCrmEqualsModel(contacts(3));
  });

  test("a HubSpot that keeps failing ends as HUBSPOT_UNAVAILABLE and leaves the snapshot as it was", async () => {
    await start();
    await h.model(contacts(2));
    await h.run();
    const snapshot = await h.snapshot();
    h.hubspot.failNext(10, { status: 503 });
    await h.model(contacts(2, 2));
    const e = await rejectionOf(() => h.run({ options: { max_retries: 1 } }));
    expect(e).toMatchObject({ code: "HUBSPOT_UNAVAILABLE" });
    expect(await h.snapshot()).toEqual(snapshot);
  });

  test("a refused token fails at once, naming the connection and what to renew, never the token", async () => {
    await start();
    await h.model(contacts(1));
    const e = await rejectionOf(() => h.run({ connection: { password: "pat-na1-wrong-token" } }));
    expect(e).toMatchObject({ code: "HUBSPOT_AUTH_FAILED", status: 401, category: "INVALID_AUTHENTICATION" });
    expect(e.message).toContain('connection "crm" (XO_CONN_CRM)');
    expect((e as { hint?: string }).hint).toContain("renew the private app's access token");
    expect(`${e.message}${String((e as { hint?: string }).hint)}`).not.toContain("pat-na1-wrong-token");
    expect(upserts()).toHaveLength(1);
  });

  test("a connection without a token is refused before anything is sent", async () => {
    await start();
    await h.model(contacts(1));
    const e = await rejectionOf(() => h.run({ connection: { password: undefined } }));
    expect(e).toMatchObject({ code: "HUBSPOT_CONNECTION_INVALID" });
    expect(h.hubspot.calls).toHaveLength(0);
  });

  test("a missing scope names the scope to add", async () => {
    await start({ scopes: ["crm.objects.contacts.read"] });
    await h.model(contacts(1));
    const e = await rejectionOf(() => h.run());
    expect(e).toMatchObject({ code: "HUBSPOT_FORBIDDEN" });
    expect((e as { hint?: string }).hint).toContain("crm.objects.contacts.write");
  });

  test("an object type HubSpot does not know is refused with HubSpot's reason", async () => {
    await start();
    await h.model(contacts(1));
    const e = await rejectionOf(() => h.run({ options: { object_type: "contactz" } }));
    expect(e).toMatchObject({ code: "HUBSPOT_REQUEST_REFUSED" });
    expect(e.message).toContain("Unable to infer object type from: contactz");
  });
});

describe("a killed run", () => {
  beforeEach(() => start());

  /** Aborts the run once HubSpot has processed the `n`th call of `operation`, before the client sees the answer. */
  function killAfter(n: number, operation: "upsert" | "archive" | "read"): AbortController {
    const controller = new AbortController();
    let seen = 0;
    h.hubspot.onProcessed((call) => {
      if (call.operation === operation && call.status < 300 && ++seen === n) controller.abort(new Error("killed"));
    });
    return controller;
  }

  test("killed mid-sync, then re-run: the CRM equals the model, with no duplicate objects", async () => {
    const rows = contacts(250);
    await h.model(rows);
    const kill = killAfter(2, "upsert");
    const e = await rejectionOf(() => h.run({ signal: kill.signal }));
    expect(e.message).toBe("killed");
    h.hubspot.onProcessed(undefined);
    expect(await h.snapshot()).toBeUndefined();
    expect(h.hubspot.objects("contacts")).toHaveLength(200);

    const rerun = await h.run();
    // The same diff again: all 250 are inserts; the 200 that landed are found by email, not created twice.
    expect(summaryOf(rerun)).toMatchObject({ inserts: 250, rejected: 0 });
    expect(h.hubspot.objects("contacts", { archived: true })).toHaveLength(250);
    expectCrmEqualsModel(rows);
    expect((await h.snapshot())!.slice(1)).toHaveLength(250);

    const quiet = await h.run();
    expect(summaryOf(quiet)).toMatchObject({ unchanged: 250, inserts: 0, updates: 0 });
  });

  test("killed between updates and archives, then re-run: every change lands once", async () => {
    const rows = contacts(150);
    await h.model(rows);
    await h.run({ options: { deletes: "archive" } });
    const before = await h.snapshot();
    const next = [...contacts(150, 2).slice(0, 100), ...contacts(160, 2).slice(150)];
    await h.model(next);

    const kill = killAfter(1, "archive");
    await rejectionOf(() => h.run({ options: { deletes: "archive" }, signal: kill.signal }));
    h.hubspot.onProcessed(undefined);
    expect(await h.snapshot()).toEqual(before);

    const rerun = await h.run({ options: { deletes: "archive" } });
    expect(summaryOf(rerun)).toMatchObject({ inserts: 10, updates: 100, deletes: 50 });
    expectCrmEqualsModel(next);
    expect(h.hubspot.objects("contacts", { archived: true })).toHaveLength(160);
  });

  test("with skip_remote_changes, the re-run takes its own landed updates for synced, not for conflicts", async () => {
    const rows = contacts(4);
    await h.model(rows);
    await h.run({ options: { conflict: "skip_remote_changes" } });
    await h.model(contacts(4, 2));
    const kill = killAfter(1, "upsert");
    await rejectionOf(() => h.run({ options: { conflict: "skip_remote_changes" }, signal: kill.signal }));
    h.hubspot.onProcessed(undefined);

    const rerun = await h.run({ options: { conflict: "skip_remote_changes" } });
    expect(summaryOf(rerun)).toMatchObject({ updates: 4, conflicts: 0 });
    expectCrmEqualsModel(contacts(4, 2));
    const quiet = await h.run({ options: { conflict: "skip_remote_changes" } });
    expect(summaryOf(quiet)).toMatchObject({ unchanged: 4, conflicts: 0 });
  });

  test("an aborted signal stops the run with its reason before anything is sent", async () => {
    await h.model(contacts(3));
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    const e = await rejectionOf(() => h.run({ signal: controller.signal }));
    expect(e.message).toBe("cancelled");
    expect(h.hubspot.calls).toHaveLength(0);
  });
});
