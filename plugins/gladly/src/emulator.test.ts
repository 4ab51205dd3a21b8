/**
 * The emulator held to Gladly's own description (ADR 0009): the examples published in Gladly's
 * Reports and Export API reference are sent to it as written and must get the published
 * answers, and requests the description rules out must be refused with Gladly's error body.
 * Emulated: Gladly (src/__fixtures__/gladly-server.ts). Real: Node's fetch and HTTP stack.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EMAIL, INBOXES, startGladlyEmulator, TOKEN, type ExportJob, type GladlyEmulator } from "./__fixtures__/gladly-server.js";

let gladly: GladlyEmulator;
beforeAll(async () => {
  gladly = await startGladlyEmulator();
});
afterAll(() => gladly.close());
beforeEach(() => gladly.reset());

const auth = { authorization: `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString("base64")}` };

async function post(body: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(`${gladly.url}/api/v1/reports`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), disposition: res.headers.get("content-disposition"), text, json: () => JSON.parse(text) as { errors: unknown[] } };
}

async function get(path: string) {
  const res = await fetch(`${gladly.url}${path}`, { headers: auth });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), text, json: () => JSON.parse(text) as unknown };
}

describe("POST /api/v1/reports: the published examples", () => {
  it("answers the ContactSummaryReport request example with a CSV", async () => {
    const r = await post({
      metricSet: "ContactSummaryReport",
      timezone: "America/Los_Angeles",
      startAt: "2021-10-01",
      endAt: "2021-10-02",
      aggregationLevel: "daily",
      filters: { channel: "allChannels", inboxes: ["c23d738960f946988e943f400313133a", "2c475a4351ce4aa39ff5cb9f526d77db"] },
    });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/csv/);
    expect(r.disposition).toBe("attachment; filename=ContactSummaryReport-20211001-20211002.csv");
    // endAt is inclusive: two whole Los Angeles days.
    expect(r.text.trim().split("\r\n")).toHaveLength(1 + 2 * 24 * 6);
  });

  it("answers the IvrEndStatesReportV2 example, which sends no timezone (the organization's is used)", async () => {
    gladly.timezone = "America/Denver";
    const r = await post({ metricSet: "IvrEndStatesReportV2", startAt: "2019-05-01", endAt: "2019-05-16", aggregationLevel: "daily", filters: { phoneNumber: "+15555555555" } });
    expect(r.status).toBe(200);
    expect(r.text).toContain(",2019-05-01T00:00:00,");
  });

  it("gives the 'missing metricSet' example error", async () => {
    const r = await post({ startAt: "2019-05-01", endAt: "2019-05-16" });
    expect(r.status).toBe(400);
    expect(r.json()).toEqual({ errors: [{ attr: "metricSet", code: "blank", detail: "metricSet must be specified" }] });
  });

  it("gives the 'invalid filter' example errors: a filter the metric set does not take, and a bad aggregation level", async () => {
    const r = await post({ metricSet: "ContactSummaryReport", startAt: "2019-05-01", endAt: "2019-05-16", aggregationLevel: "hourly", filters: { phoneNumber: "+15555555555" } });
    expect(r.status).toBe(400);
    expect(r.json().errors).toEqual([
      { attr: "aggregationLevel", code: "invalid", detail: "the specified value is not a valid aggregation level" },
      { attr: "filters.phoneNumber", code: "invalid", detail: "the phoneNumber filter cannot be applied to the ContactSummaryReport metricSet" },
    ]);
  });

  it("gives the 'nonexistent inbox' example error", async () => {
    const r = await post({ metricSet: "ContactSummaryReport", startAt: "2019-05-01", endAt: "2019-05-16", filters: { inboxes: ["no-such-inbox"] } });
    expect(r.json()).toEqual({ errors: [{ attr: "filters.inboxes", code: "present", detail: "the requested inbox does not exist" }] });
  });

  it("accepts a time range for ContactExportReportV3 and reads endAtTime as the last minute included", async () => {
    const r = await post({ metricSet: "ContactExportReportV3", startAtTime: "2020-04-13T19:27Z", endAtTime: "2020-04-13T20:29Z" });
    expect(r.status).toBe(200);
    expect(r.disposition).toBe("attachment; filename=ContactExportReportV3-20200413T1927Z-20200413T2030Z.csv");
    // 19:30 .. 20:20 on the 10-minute grid, and 20:30 is outside [19:27, 20:30).
    expect(r.text.trim().split("\r\n")).toHaveLength(1 + 6);
  });
});

describe("POST /api/v1/reports: what the description refuses", () => {
  const day = { timezone: "America/New_York", startAt: "2026-01-15", endAt: "2026-01-15" };
  const refusals: [string, unknown, { attr?: string; code: string }[]][] = [
    ["an unknown metric set", { metricSet: "ContactTimestamps", ...day }, [{ attr: "metricSet", code: "invalid" }]],
    ["AgentSummaryReport, named for time ranges but absent from the metricSet enum", { metricSet: "AgentSummaryReport", ...day }, [{ attr: "metricSet", code: "invalid" }]],
    ["datetimes in startAt and endAt", { metricSet: "ContactTimestampsReport", timezone: "UTC", startAt: "2026-01-15T00:00:00", endAt: "2026-01-16T00:00:00" }, [
      { attr: "startAt", code: "invalid" },
      { attr: "endAt", code: "invalid" },
    ]],
    ["a date that does not exist", { metricSet: "ContactTimestampsReport", ...day, endAt: "2026-02-30" }, [{ attr: "endAt", code: "invalid" }]],
    ["endAt before startAt", { metricSet: "ContactTimestampsReport", ...day, startAt: "2026-01-16" }, [{ attr: "endAt", code: "invalid" }]],
    ["a missing endAt", { metricSet: "ContactTimestampsReport", timezone: "UTC", startAt: "2026-01-15" }, [{ attr: "endAt", code: "blank" }]],
    ["a time zone outside the IANA database", { metricSet: "ContactTimestampsReport", ...day, timezone: "EST5EDT-ish" }, [{ attr: "timezone", code: "invalid" }]],
    ["a time range for a metric set without them", { metricSet: "ContactTimestampsReport", startAtTime: "2026-01-15T05:00Z", endAtTime: "2026-01-16T04:59Z" }, [
      { attr: "startAtTime", code: "invalid" },
    ]],
    ["a time range together with dates and timezone", { metricSet: "ContactExportReportV3", ...day, startAtTime: "2026-01-15T05:00Z", endAtTime: "2026-01-16T04:59Z" }, [
      { attr: "startAt", code: "invalid" },
      { attr: "endAt", code: "invalid" },
      { attr: "timezone", code: "invalid" },
    ]],
    ["startAtTime without endAtTime", { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T05:00Z" }, [{ attr: "endAtTime", code: "blank" }]],
    ["a time range with seconds", { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T05:00:00Z", endAtTime: "2026-01-16T04:59Z" }, [{ attr: "startAtTime", code: "invalid" }]],
    ["a time range that ends before it starts", { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T05:00Z", endAtTime: "2026-01-15T04:00Z" }, [{ attr: "startAtTime", code: "invalid" }]],
    ["filters for a metric set that takes none (ContactTimestampsReport)", { metricSet: "ContactTimestampsReport", ...day, filters: { teams: [] } }, [{ attr: "filters.teams", code: "invalid" }]],
    ["a filter that does not exist", { metricSet: "WorkSessionsReportV3", ...day, filters: { inbox: [INBOXES[0]] } }, [{ attr: "filters.inbox", code: "invalid" }]],
    ["a channel outside the enum", { metricSet: "WorkSessionsReportV3", ...day, filters: { channel: "fax" } }, [{ attr: "filters.channel", code: "invalid" }]],
    ["an IVR report without its required phoneNumber", { metricSet: "IvrEndStatesReportV2", ...day }, [{ attr: "filters.phoneNumber", code: "blank" }]],
    ["a body key that is not a parameter (stricter than the description)", { metricSet: "ContactTimestampsReport", ...day, start_at: "2026-01-15" }, [{ attr: "start_at", code: "invalid" }]],
  ];

  for (const [what, body, expected] of refusals) {
    it(`refuses ${what}`, async () => {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(r.type).toBe("application/json");
      const errors = r.json().errors as { attr?: string; code: string; detail: string }[];
      expect(errors.map(({ attr, code }) => (attr === undefined ? { code } : { attr, code }))).toEqual(expected);
      expect(errors.every((e) => typeof e.detail === "string" && e.detail.length > 0)).toBe(true);
    });
  }

  it("refuses a body that is not JSON, and a request without the agent's credentials", async () => {
    expect((await post("metricSet=ContactTimestampsReport")).status).toBe(400);
    expect((await post({ metricSet: "ContactTimestampsReport", ...day }, {})).status).toBe(401);
  });
});

describe("the Export API", () => {
  const job = (id: string, status: ExportJob["status"], updatedAt: string): ExportJob => ({
    id,
    scheduleId: "vZgCEQlDR6aQz_0HeWZ9_Q",
    status,
    updatedAt,
    parameters: { type: "CONVERSATIONS", startAt: "2026-01-15T00:00:00Z", endAt: "2026-01-16T00:00:00Z" },
    files: status === "COMPLETED" ? ["agents.jsonl"] : [],
  });

  beforeEach(() => {
    gladly.now = Date.parse("2026-01-17T06:00:00Z");
    gladly.jobs = [job("done", "COMPLETED", "2026-01-16T01:00:00Z"), job("running", "IN_PROGRESS", "2026-01-17T01:00:00Z"), job("ancient", "COMPLETED", "2026-01-01T00:00:00Z")];
    gladly.files.set("done/agents.jsonl", '{"id":"a1"}\n');
  });

  it("lists the jobs of the last 14 days in any status, filtered by status and by updatedAt", async () => {
    expect(((await get("/api/v1/export/jobs")).json() as ExportJob[]).map((j) => j.id)).toEqual(["done", "running"]);
    expect(((await get("/api/v1/export/jobs?status=IN_PROGRESS")).json() as ExportJob[]).map((j) => j.id)).toEqual(["running"]);
    const window = "/api/v1/export/jobs?status=COMPLETED&startAt=2026-01-15T00:00:00.000Z&endAt=2026-01-16T12:00:00.000Z";
    expect(((await get(window)).json() as ExportJob[]).map((j) => j.id)).toEqual(["done"]);
  });

  it("refuses a status outside the enum, a startAt more than 14 days ago, an endAt in the future or before startAt, and unknown parameters", async () => {
    for (const [query, attr] of [
      ["status=DONE", "status"],
      ["startAt=2026-01-01T00:00:00.000Z", "startAt"],
      ["endAt=2026-01-18T00:00:00.000Z", "endAt"],
      ["startAt=2026-01-16T00:00:00.000Z&endAt=2026-01-15T00:00:00.000Z", "endAt"],
      ["startAt=yesterday", "startAt"],
      ["state=COMPLETED", "state"],
    ] as const) {
      const r = await get(`/api/v1/export/jobs?${query}`);
      expect(r.status, query).toBe(400);
      expect((r.json() as { errors: { attr: string }[] }).errors.map((e) => e.attr), query).toContain(attr);
    }
  });

  it("serves a job by id, and 404 (not_exist) for one it does not have or no longer keeps", async () => {
    expect((await get("/api/v1/export/jobs/done")).json()).toMatchObject({ id: "done", status: "COMPLETED", parameters: { type: "CONVERSATIONS" }, files: ["agents.jsonl"] });
    for (const id of ["nope", "ancient"]) {
      const r = await get(`/api/v1/export/jobs/${id}`);
      expect(r.status).toBe(404);
      expect(r.json()).toEqual({ errors: [{ code: "not_exist", detail: "entity does not exist" }] });
    }
  });

  it("serves a completed job's files as NDJSON, and 404 for other files and jobs without files", async () => {
    const r = await get("/api/v1/export/jobs/done/files/agents.jsonl");
    expect([r.status, r.type, r.text]).toEqual([200, "application/x-ndjson", '{"id":"a1"}\n']);
    expect((await get("/api/v1/export/jobs/done/files/calls.jsonl")).status).toBe(404);
    expect((await get("/api/v1/export/jobs/running/files/agents.jsonl")).status).toBe(404);
  });
});
