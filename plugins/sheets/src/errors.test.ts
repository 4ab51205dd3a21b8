/**
 * What the source does when Google says no, or not now: rate limits and server errors are
 * retried (Retry-After honoured), refusals fail at once with the plugin's codes and hints.
 * Emulated: the Sheets API (src/__fixtures__/sheets_server.ts) and the OAuth token endpoint
 * (@xo-foundry/testkit). Real: googleapis' client and Node's HTTP stack.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rejectionOf } from "@xo-foundry/testkit";
import { SHEETS_ERRORS, type SheetsError } from "./errors.js";
import { extract, serviceAccountConnection, sourceOptions, SERVICE_ACCOUNT, SPREADSHEET_ID, useWorld } from "./__fixtures__/harness.js";

const world = useWorld();
beforeEach(() => {
  world.sheets.put({ spreadsheetId: SPREADSHEET_ID, title: "Finance", sheets: [{ title: "Budget", rowCount: 3, columnCount: 2, rows: [["Item", "Amount"], ["a", 1], ["b", 2]] }] });
});

const EXPECTED = [
  { item: "a", amount: 1 },
  { item: "b", amount: 2 },
];

const read = (stream: Record<string, unknown> = { sheet: "Budget" }, options: Record<string, unknown> = {}) =>
  extract({ options: sourceOptions(world, options), stream, connection: serviceAccountConnection(world) });

const failure = async (stream?: Record<string, unknown>, options?: Record<string, unknown>) => (await rejectionOf(() => read(stream, options))) as SheetsError;

describe("retried", () => {
  it("429 RESOURCE_EXHAUSTED, waiting as long as Retry-After says", async () => {
    world.sheets.fault({ status: 429, method: "values.batchGet", retryAfter: "1" });
    const started = Date.now();
    const { records, log } = await read();
    expect(records).toEqual(EXPECTED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(log.warnings).toEqual([expect.stringMatching(/^Google Sheets got HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded .* for rows 2 to 3 of 'Budget'; retry 1 of 6 in 1000 ms$/)]);
  });

  it("403 with reason rateLimitExceeded or userRateLimitExceeded", async () => {
    world.sheets.fault({ status: 403, method: "spreadsheets.get" });
    world.sheets.fault({ status: 403, reason: "userRateLimitExceeded", method: "values.batchGet" });
    expect((await read()).records).toEqual(EXPECTED);
    expect(world.sheets.requests.map((r) => r.status)).toEqual([403, 200, 200, 403, 200]);
  });

  it("500, 503 and a dropped connection", async () => {
    world.sheets.fault({ status: 503, nth: 1 });
    world.sheets.fault({ status: 500, nth: 3 });
    world.sheets.fault({ status: "reset", nth: 5 });
    expect((await read()).records).toEqual(EXPECTED);
    expect(world.sheets.requests.map((r) => r.status)).toEqual([503, 200, 500, 200, 0, 200]);
  });

  it("gives up after `max_retries` with SHEETS_UNAVAILABLE", async () => {
    for (let i = 0; i < 3; i++) world.sheets.fault({ status: 503 });
    const e = await failure(undefined, { max_retries: 2 });
    expect(e.code).toBe("SHEETS_UNAVAILABLE");
    expect(e.message).toMatch(/^Google Sheets got HTTP 503 UNAVAILABLE: The service is currently unavailable\. for spreadsheet 1AbC\S+ \(the list of sheets\) after 3 attempts/);
    expect(world.sheets.requests).toHaveLength(3);
  });
});

describe("refused at once", () => {
  it("404: SHEETS_NOT_FOUND, naming the spreadsheet and whom to share it with", async () => {
    const e = await failure(undefined, { spreadsheet_id: "1NoSuchSpreadsheet000000" });
    expect(e.code).toBe("SHEETS_NOT_FOUND");
    expect(e.message).toContain("Google Sheets got HTTP 404 NOT_FOUND: Requested entity was not found., for spreadsheet 1NoSuchSpreadsheet000000 (the list of sheets)");
    expect(e.hint).toBe(`check \`spreadsheet_id\` (the part of the spreadsheet's URL between /d/ and /edit), and share the spreadsheet with the service account ${SERVICE_ACCOUNT} (Share > add it as Viewer)`);
    expect(world.sheets.requests).toHaveLength(1);
  });

  it("403 PERMISSION_DENIED: SHEETS_PERMISSION_DENIED, saying to share it with the service account", async () => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "Budget" }], sharedWith: ["someone-else@example.com"] });
    const e = await failure();
    expect(e.code).toBe("SHEETS_PERMISSION_DENIED");
    expect(e.message).toContain("HTTP 403 PERMISSION_DENIED: The caller does not have permission");
    expect(e.hint).toContain(`share the spreadsheet with the service account ${SERVICE_ACCOUNT}`);
    expect(world.sheets.requests).toHaveLength(1);
  });

  it("a sheet title that does not exist: SHEETS_SHEET_NOT_FOUND, listing the sheets and the near miss", async () => {
    const e = await failure({ sheet: "budget" });
    expect(e.code).toBe("SHEETS_SHEET_NOT_FOUND");
    expect(e.message).toContain('spreadsheet "Finance" has no sheet titled "budget" (did you mean "Budget"?); its sheets: "Budget" (gid 0)');
    expect((await failure({ gid: 7 })).code).toBe("SHEETS_SHEET_NOT_FOUND");
  });

  it("a range outside the sheet: SHEETS_RANGE_INVALID", async () => {
    expect((await failure({ range: "Budget!Z1:Z9" })).code).toBe("SHEETS_RANGE_INVALID");
  });

  it('Google\'s 400 "Unable to parse range" (the tab renamed mid-run): SHEETS_RANGE_INVALID naming the range', async () => {
    world.sheets.onRequest = (request) => {
      if (request.method === "values.batchGet") world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "Budget (old)" }] });
    };
    const e = await failure();
    expect(e.code).toBe("SHEETS_RANGE_INVALID");
    expect(e.message).toContain("HTTP 400 INVALID_ARGUMENT: Unable to parse range: 'Budget'!A2:B3, for spreadsheet");
    expect(e.message).toContain("range 'Budget'!A2:B3");
  });

  it("an empty header row: SHEETS_HEADER_MISSING", async () => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "Budget", rowCount: 3, columnCount: 2, rows: [["Report"], [], ["a", 1]] }] });
    const e = await failure({ sheet: "Budget", header_row: 2 });
    expect(e.message).toContain("row 2 of 'Budget', the header row, is empty");
    expect(e.code).toBe("SHEETS_HEADER_MISSING");
    expect(e.hint).toContain("set `header_row`");
    expect((await failure({ sheet: "Budget", header_row: 9 })).message).toContain("'Budget' has no row 9 to read column names from");
  });

  it("an override for a column the sheet does not have: SHEETS_COLUMN_UNKNOWN, listing the names", async () => {
    const e = await failure({ sheet: "Budget", columns: { Amount: "number" } });
    expect(e.code).toBe("SHEETS_COLUMN_UNKNOWN");
    expect(e.message).toContain('its columns: item (header "Item"), amount (header "Amount")');
  });

  it("a chart sheet: SHEETS_NOT_A_GRID", async () => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "Chart", sheetType: "OBJECT" }] });
    expect((await failure({ sheet: "Chart" })).code).toBe("SHEETS_NOT_A_GRID");
  });

  it("an unknown spreadsheet time zone fails only when a date-time is read: SHEETS_TIME_ZONE_INVALID", async () => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, timeZone: "Mars/Olympus_Mons", sheets: [{ title: "Budget", rows: [["Item", "When"], ["a", cellsDateTime()]] }] });
    expect((await read({ sheet: "Budget", columns: { when: "number" } })).records).toEqual([{ item: "a", when: 46037.5 }]);
    const e = await failure();
    expect(e.code).toBe("SHEETS_TIME_ZONE_INVALID");
    expect(e.hint).toContain("set `time_zone`");
  });

  it("stops with the abort reason when the task is cancelled while waiting to retry", async () => {
    world.sheets.fault({ status: 429, retryAfter: "60" });
    const controller = new AbortController();
    const reason = new Error("task killed");
    setTimeout(() => controller.abort(reason), 200);
    const e = await rejectionOf(() => extract({ options: sourceOptions(world), stream: { sheet: "Budget" }, connection: serviceAccountConnection(world), signal: controller.signal }));
    expect(e).toBe(reason);
  });

  it("declares every code it throws", () => {
    expect(Object.keys(SHEETS_ERRORS).sort()).toEqual([
      "SHEETS_COLUMN_UNKNOWN",
      "SHEETS_HEADER_MISSING",
      "SHEETS_NOT_A_GRID",
      "SHEETS_NOT_FOUND",
      "SHEETS_PERMISSION_DENIED",
      "SHEETS_RANGE_INVALID",
      "SHEETS_REQUEST_REJECTED",
      "SHEETS_SHEET_NOT_FOUND",
      "SHEETS_TIME_ZONE_INVALID",
      "SHEETS_UNAUTHENTICATED",
      "SHEETS_UNAVAILABLE",
    ]);
  });
});

function cellsDateTime() {
  return { value: 46037.5, format: { type: "DATE_TIME" as const, pattern: "yyyy-mm-dd hh:mm" } };
}
