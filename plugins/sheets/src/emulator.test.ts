/**
 * The emulator held to Google's own description (ADR 0009): the "Basic reading" examples of
 * the Sheets API guide are sent as published and must get the published answers; the
 * examples of the discovery document (serial numbers) must hold; and each rule the emulator
 * enforces gets one refusal, with Google's status and error body.
 * Emulated: the Sheets API (src/__fixtures__/sheets_server.ts) and the OAuth token endpoint
 * (@xo-foundry/testkit). Real: Node's fetch and HTTP stack.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startOAuthServer, type OAuthServer } from "@xo-foundry/testkit";
import { cells, startSheetsEmulator, type SheetsEmulator } from "./__fixtures__/sheets_server.js";

const { currency, date } = cells;
const ID = "sheet-under-test-0000000001";
const READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly";

let oauth: OAuthServer;
let api: SheetsEmulator;
let token: string;

beforeAll(async () => {
  oauth = await startOAuthServer();
  api = await startSheetsEmulator(oauth);
  token = await tokenFor(READONLY);
});
afterAll(async () => {
  await api.close();
  await oauth.stop();
});
beforeEach(() => {
  api.reset();
  // The "Basic reading" guide's source data, each Cost cell with the pattern that shows it as published.
  api.put({
    spreadsheetId: ID,
    title: "Basic reading",
    sheets: [
      {
        title: "Sheet1",
        rows: [
          ["Item", "Cost", "Stocked", "Ship Date"],
          ["Wheel", currency(20.5, '"$"#,##0.00'), 4, date("2016-03-01", "m/d/yyyy")],
          ["Door", currency(15, '"$"#,##0'), 2, date("2016-03-15", "m/d/yyyy")],
          ["Engine", currency(100, '"$"#,##0'), 1, date("2016-03-20", "m/d/yyyy")],
          ["Totals", currency(135.5, '"$"#,##0.0'), 7, date("2016-03-20", "m/d/yyyy")],
        ],
      },
      { title: "Sheet with spaces", sheetId: 77, hidden: true, rowCount: 10, columnCount: 5, rows: [["a", "", "c"], [], [], ["d"]] },
    ],
  });
});

async function tokenFor(scope: string): Promise<string> {
  const client = oauth.client();
  const res = await fetch(oauth.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", scope, client_id: client.clientId, client_secret: client.clientSecret }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** GET under /v4/spreadsheets/ with the test's token; `null` sends none. */
async function get(path: string, bearer: string | null = token) {
  const res = await fetch(`${api.url}v4/spreadsheets/${path}`, { headers: bearer !== null ? { authorization: `Bearer ${bearer}` } : {} });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> & { error?: { code: number; status: string; message: string; errors?: unknown[]; details?: { reason?: string }[] } } };
}

describe("the published examples (Basic reading)", () => {
  it("reads a single range: Sheet1!A1:D5, formatted", async () => {
    const r = await get(`${ID}/values/Sheet1!A1:D5`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      range: "Sheet1!A1:D5",
      majorDimension: "ROWS",
      values: [
        ["Item", "Cost", "Stocked", "Ship Date"],
        ["Wheel", "$20.50", "4", "3/1/2016"],
        ["Door", "$15", "2", "3/15/2016"],
        // The guide prints "30/20/2016" in some translations; its source data table says 3/20/2016.
        ["Engine", "$100", "1", "3/20/2016"],
        ["Totals", "$135.5", "7", "3/20/2016"],
      ],
    });
  });

  it("reads a single range grouped by column: Sheet1!A1:D3?majorDimension=COLUMNS", async () => {
    const r = await get(`${ID}/values/Sheet1!A1:D3?majorDimension=COLUMNS`);
    expect(r.json).toEqual({
      range: "Sheet1!A1:D3",
      majorDimension: "COLUMNS",
      values: [
        ["Item", "Wheel", "Door"],
        ["Cost", "$20.50", "$15"],
        ["Stocked", "4", "2"],
        ["Ship Date", "3/1/2016", "3/15/2016"],
      ],
    });
  });

  it("reads multiple ranges: batchGet B:B and D:D, UNFORMATTED_VALUE, COLUMNS (dates as serial numbers)", async () => {
    const r = await get(`${ID}/values:batchGet?ranges=Sheet1!B:B&ranges=Sheet1!D:D&valueRenderOption=UNFORMATTED_VALUE&majorDimension=COLUMNS`);
    expect(r.json).toEqual({
      spreadsheetId: ID,
      valueRanges: [
        { range: "Sheet1!B1:B1000", majorDimension: "COLUMNS", values: [["Cost", 20.5, 15, 100, 135.5]] },
        { range: "Sheet1!D1:D1000", majorDimension: "COLUMNS", values: [["Ship Date", 42430, 42444, 42449, 42449]] },
      ],
    });
  });

  it("renders dates as formatted strings with dateTimeRenderOption FORMATTED_STRING, numbers unformatted", async () => {
    const r = await get(`${ID}/values/Sheet1!B2:D2?valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=FORMATTED_STRING`);
    expect(r.json.values).toEqual([[20.5, 4, "3/1/2016"]]);
  });

  it("counts serial days from 1899-12-30 as the discovery document's examples do (1900-01-01 noon is 2.5, 1900-02-01 3pm is 33.625)", () => {
    expect(cells.serialOf("1900-01-01T12:00:00")).toBe(2.5);
    expect(cells.serialOf("1900-02-01T15:00:00")).toBe(33.625);
  });
});

describe("values: trimming, whole sheets, quoted titles", () => {
  it("leaves out trailing empty cells and rows, keeps empty rows inside as [], and writes the range back clipped to the grid", async () => {
    const r = await get(`${ID}/values:batchGet?ranges=${encodeURIComponent("'Sheet with spaces'!A1:E20")}`);
    expect(r.json.valueRanges).toEqual([{ range: "'Sheet with spaces'!A1:E10", majorDimension: "ROWS", values: [["a", "", "c"], [], [], ["d"]] }]);
  });

  it("reads a whole sheet by its title, and a range without a title from the first visible sheet", async () => {
    const whole = await get(`${ID}/values/${encodeURIComponent("'Sheet with spaces'")}`);
    expect(whole.json.range).toBe("'Sheet with spaces'!A1:E10");
    const first = await get(`${ID}/values/A1:B2`);
    expect(first.json).toEqual({ range: "Sheet1!A1:B2", majorDimension: "ROWS", values: [["Item", "Cost"], ["Wheel", "$20.50"]] });
  });

  it("omits `values` for an empty range", async () => {
    const r = await get(`${ID}/values/Sheet1!F1:G3`);
    expect(r.json).toEqual({ range: "Sheet1!F1:G3", majorDimension: "ROWS" });
  });
});

describe("spreadsheets.get", () => {
  it("returns properties without grid data by default, leaving proto3 defaults (index 0, sheetId 0, hidden false) out", async () => {
    const r = await get(ID);
    const sheets = r.json.sheets as { properties: Record<string, unknown>; data?: unknown }[];
    expect(sheets[0]).toEqual({ properties: { title: "Sheet1", sheetType: "GRID", gridProperties: { rowCount: 1000, columnCount: 26 } } });
    expect(sheets[1]!.properties).toEqual({ sheetId: 77, title: "Sheet with spaces", index: 1, sheetType: "GRID", gridProperties: { rowCount: 10, columnCount: 5 }, hidden: true });
    expect((r.json.properties as { timeZone: string }).timeZone).toBe("America/New_York");
  });

  it("answers a field mask with a partial response, and grid data only for the sheets and cells `ranges` names", async () => {
    const fields = encodeURIComponent("sheets(properties/title,data(rowData(values(formattedValue,effectiveFormat/numberFormat))))");
    const r = await get(`${ID}?ranges=Sheet1!B1:B2&fields=${fields}`);
    expect(r.json).toEqual({
      sheets: [
        {
          properties: { title: "Sheet1" },
          data: [{ rowData: [{ values: [{ formattedValue: "Cost" }] }, { values: [{ formattedValue: "$20.50", effectiveFormat: { numberFormat: { type: "CURRENCY", pattern: '"$"#,##0.00' } } }] }] }],
        },
      ],
    });
  });

  it("returns grid data with includeGridData=true when no mask is set, and ignores it when one is", async () => {
    const withData = await get(`${ID}?ranges=Sheet1!A1&includeGridData=true`);
    expect((withData.json.sheets as { data?: unknown[] }[])[0]!.data).toHaveLength(1);
    const masked = await get(`${ID}?ranges=Sheet1!A1&includeGridData=true&fields=sheets.properties.title`.replace("sheets.properties.title", "sheets/properties/title"));
    expect(masked.json).toEqual({ sheets: [{ properties: { title: "Sheet1" } }] });
  });
});

const reasonOf = (json: { error?: { details?: { reason?: string }[] } }) => json.error?.details?.[0]?.reason;

describe("refusals", () => {
  it("401 UNAUTHENTICATED without a token, with an unknown one, and with an expired one", async () => {
    const missing = await get(ID, null);
    expect(missing.status).toBe(401);
    expect(missing.json.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED" });
    expect(reasonOf(missing.json)).toBe("CREDENTIALS_MISSING");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    expect(reasonOf((await get(ID, "not-a-token")).json)).toBe("ACCESS_TOKEN_TYPE_UNSUPPORTED");
    const shortLived = await tokenFor(READONLY);
    oauth.expireAll();
    const expired = await get(ID, shortLived);
    expect(expired.status).toBe(401);
    expect(reasonOf(expired.json)).toBe("ACCESS_TOKEN_EXPIRED");
    token = await tokenFor(READONLY);
  });

  it("403 PERMISSION_DENIED for a token without a Sheets or Drive scope", async () => {
    const r = await get(ID, await tokenFor("https://www.googleapis.com/auth/gmail.readonly"));
    expect(r.status).toBe(403);
    expect(r.json.error).toMatchObject({ status: "PERMISSION_DENIED", message: "Request had insufficient authentication scopes." });
    expect(reasonOf(r.json)).toBe("ACCESS_TOKEN_SCOPE_INSUFFICIENT");
  });

  it("accepts every scope the discovery document lists for the method, e.g. drive.readonly", async () => {
    expect((await get(ID, await tokenFor("https://www.googleapis.com/auth/drive.readonly"))).status).toBe(200);
  });

  it("404 NOT_FOUND for an unknown spreadsheet", async () => {
    const r = await get("no-such-spreadsheet");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" } });
  });

  it("403 PERMISSION_DENIED for a spreadsheet not shared with the caller", async () => {
    api.put({ spreadsheetId: "private-0000000001", sheets: [{ title: "S" }], sharedWith: ["someone@example.com"] });
    const r = await get("private-0000000001");
    expect(r.status).toBe(403);
    expect(r.json.error).toMatchObject({ status: "PERMISSION_DENIED", message: "The caller does not have permission" });
  });

  it("400 INVALID_ARGUMENT for an unknown parameter, a value outside an enum, a repeated single value, and a bad boolean", async () => {
    for (const query of [
      "valueRenderOptions=UNFORMATTED_VALUE&ranges=A1",
      "ranges=A1&valueRenderOption=RAW",
      "ranges=A1&majorDimension=DIMENSION_UNSPECIFIED",
      "ranges=A1&majorDimension=ROWS&majorDimension=COLUMNS",
    ]) {
      const r = await get(`${ID}/values:batchGet?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.json.error?.status).toBe("INVALID_ARGUMENT");
    }
    expect((await get(`${ID}?includeGridData=yes`)).status).toBe(400);
    expect((await get(`${ID}/values:batchGet`)).status).toBe(400);
  });

  it('400 "Unable to parse range" for an unknown sheet, a title in the wrong case, a named range and R1C1', async () => {
    for (const range of ["Sheet2!A1:B2", "sheet1!A1:B2", "my_named_range", "R1C1:R2C2"]) {
      const r = await get(`${ID}/values:batchGet?ranges=${encodeURIComponent(range)}`);
      expect(r.status, range).toBe(400);
      expect(r.json.error?.message).toBe(`Unable to parse range: ${range}`);
    }
  });

  it('400 "exceeds grid limits" for a range that starts outside the grid', async () => {
    const r = await get(`${ID}/values:batchGet?ranges=${encodeURIComponent("Sheet1!A1001:B1002")}`);
    expect(r.json.error?.message).toBe("Range (Sheet1!A1001:B1002) exceeds grid limits. Max rows: 1000, max columns: 26");
  });

  it("400 for a field mask naming a property the schema does not have", async () => {
    const r = await get(`${ID}?fields=sheets(properties/titel)`);
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toBe("Invalid field selection properties/titel");
  });
});

describe("scripted faults", () => {
  it("429 RESOURCE_EXHAUSTED with Retry-After, then normal answers", async () => {
    api.fault({ status: 429, retryAfter: "7" });
    const r = await get(ID);
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("7");
    expect(r.json.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
    expect(reasonOf(r.json)).toBe("RATE_LIMIT_EXCEEDED");
    expect((await get(ID)).status).toBe(200);
  });

  it("403 with reason rateLimitExceeded in the older `errors` shape, and 503 on the Nth request", async () => {
    api.fault({ status: 403, reason: "userRateLimitExceeded" });
    api.fault({ status: 503, nth: 3 });
    const first = await get(ID);
    expect(first.json.error?.errors).toEqual([{ message: "User Rate Limit Exceeded", domain: "usageLimits", reason: "userRateLimitExceeded" }]);
    expect((await get(ID)).status).toBe(200);
    expect((await get(ID)).status).toBe(503);
    expect(api.requests.map((r) => r.status)).toEqual([403, 200, 503]);
  });

  it("checks the token before a scripted fault, as Google checks credentials before quota", async () => {
    api.fault({ status: 429 });
    expect((await get(ID, null)).status).toBe(401);
    expect((await get(ID)).status).toBe(429);
  });
});
