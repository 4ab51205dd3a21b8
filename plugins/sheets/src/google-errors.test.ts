import { describe, expect, it } from "vitest";
import { failureOf, isRetryable, toSheetsError, type Failure } from "./google-errors.js";

const identity = { connection: 'connection "g" (XO_CONN_G)', serviceAccount: "etl@p.iam.gserviceaccount.com" };
const request = { spreadsheetId: "1AbC", what: "rows 2 to 9 of 'S'", range: "'S'!A2:C9" };

function response(status: number, error: object, headers: Record<string, string> = {}): Failure {
  return failureOf({ response: { status, data: { error }, headers: new Headers(headers) } });
}

describe("failureOf: what a gaxios error says", () => {
  it("reads Google's body, in the AIP-193 shape and the older `errors` one, and Retry-After", () => {
    expect(response(429, { code: 429, message: "Quota exceeded", status: "RESOURCE_EXHAUSTED", details: [{ reason: "RATE_LIMIT_EXCEEDED" }] }, { "retry-after": "30" })).toEqual({
      kind: "response",
      status: 429,
      googleStatus: "RESOURCE_EXHAUSTED",
      message: "Quota exceeded",
      reasons: ["RATE_LIMIT_EXCEEDED"],
      retryAfter: "30",
    });
    expect(response(403, { code: 403, message: "User Rate Limit Exceeded", errors: [{ reason: "userRateLimitExceeded", domain: "usageLimits" }] })).toMatchObject({ reasons: ["userRateLimitExceeded"] });
  });

  it("copes with bodies that are text or not Google's, and with no response at all", () => {
    expect(failureOf({ response: { status: 502, data: "<html>Bad Gateway</html>", headers: {} } })).toMatchObject({ status: 502, message: "<html>Bad Gateway</html>", reasons: [] });
    expect(failureOf({ response: { status: 500, data: "", headers: {} } })).toMatchObject({ message: "Internal Server Error" });
    expect(failureOf(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }))).toEqual({ kind: "network", detail: "connect ECONNREFUSED 127.0.0.1:9" });
    expect(failureOf(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toEqual({ kind: "network", detail: "socket hang up (ECONNRESET)" });
  });
});

describe("isRetryable", () => {
  it("retries rate limits, server errors and the network; not other answers", () => {
    expect(isRetryable(response(429, {}))).toBe(true);
    expect(isRetryable(response(503, {}))).toBe(true);
    expect(isRetryable(response(403, { errors: [{ reason: "rateLimitExceeded" }] }))).toBe(true);
    expect(isRetryable(response(403, { status: "PERMISSION_DENIED" }))).toBe(false);
    expect(isRetryable(response(404, {}))).toBe(false);
    expect(isRetryable({ kind: "network", detail: "timeout" })).toBe(true);
  });
});

describe("toSheetsError", () => {
  it("tells a missing scope and a disabled API apart from a spreadsheet that is not shared", () => {
    const scope = toSheetsError(response(403, { message: "Request had insufficient authentication scopes.", details: [{ reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT" }] }), request, identity, 1);
    expect(scope.code).toBe("SHEETS_PERMISSION_DENIED");
    expect(scope.hint).toContain("spreadsheets.readonly");
    const disabled = toSheetsError(response(403, { message: "Google Sheets API has not been used in project 1 before or it is disabled.", details: [{ reason: "SERVICE_DISABLED" }] }), request, identity, 1);
    expect(disabled.hint).toContain("enable the Google Sheets API");
    const notShared = toSheetsError(response(403, { message: "The caller does not have permission", status: "PERMISSION_DENIED" }), request, identity, 1);
    expect(notShared.hint).toBe("share the spreadsheet with the service account etl@p.iam.gserviceaccount.com (Share > add it as Viewer)");
  });

  it("for an OAuth client, points at the user who authorized it", () => {
    const e = toSheetsError(response(404, { message: "Requested entity was not found." }), request, { connection: 'connection "u" (XO_CONN_U)', serviceAccount: undefined }, 1);
    expect(e.hint).toContain('make sure the Google account that authorized connection "u" (XO_CONN_U) can open the spreadsheet');
  });

  it("names the spreadsheet and range in every message, and keeps Google's reason for other 4xx", () => {
    const e = toSheetsError(response(400, { message: "Invalid value at 'value_render_option'", status: "INVALID_ARGUMENT" }), request, identity, 1);
    expect(e.code).toBe("SHEETS_REQUEST_REJECTED");
    expect(e.message).toBe(
      "Google Sheets got HTTP 400 INVALID_ARGUMENT: Invalid value at 'value_render_option', for spreadsheet 1AbC, range 'S'!A2:C9 (rows 2 to 9 of 'S')\n  hint: fix the option Google's message points at; if it names none, report it with this message",
    );
    expect(toSheetsError(response(400, { message: "Range ('S'!A2000:C9) exceeds grid limits. Max rows: 1000, max columns: 26" }), request, identity, 1).code).toBe("SHEETS_RANGE_INVALID");
  });

  it("says how often it tried when retries ran out", () => {
    const e = toSheetsError({ kind: "network", detail: "connect ECONNREFUSED" }, request, identity, 7);
    expect(e.code).toBe("SHEETS_UNAVAILABLE");
    expect(e.message).toContain("Google Sheets failed: connect ECONNREFUSED for spreadsheet 1AbC, range 'S'!A2:C9 (rows 2 to 9 of 'S') after 7 attempts");
    expect(e.hint).toContain("check `root_url`");
  });
});
