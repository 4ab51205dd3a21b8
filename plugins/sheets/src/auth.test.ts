/**
 * Credentials: a service-account key (a real RS256 JWT bearer grant, verified by the token
 * endpoint), an OAuth client with a refresh token, domain-wide delegation, tokens that expire
 * mid-read, and refresh tokens that were revoked. Emulated: the OAuth 2 token endpoint
 * (@xo-foundry/testkit) and the Sheets API (src/__fixtures__/sheets_server.ts), which accepts
 * only tokens that endpoint issued. Real: core's OAuth 2 helper, googleapis' client.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rejectionOf } from "@xo-foundry/testkit";
import type { XoError } from "@xo-foundry/core";
import type { SheetsError } from "./errors.js";
import { SHEETS_SCOPE } from "./source.js";
import { extract, oauthClientConnection, serviceAccountConnection, sourceOptions, SERVICE_ACCOUNT, SPREADSHEET_ID, useWorld } from "./__fixtures__/harness.js";

const world = useWorld();
beforeEach(() => {
  const rows = [["N"], ...Array.from({ length: 6 }, (_, i) => [i + 1])];
  world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "S", rowCount: 7, columnCount: 1, rows }] });
});

const EXPECTED = Array.from({ length: 6 }, (_, i) => ({ n: i + 1 }));
const tokenRequests = () => world.oauth.requests.slice(baseline);
let baseline = 0;
beforeEach(() => {
  baseline = world.oauth.requests.length;
});

describe("service account", () => {
  it("signs a JWT for the key's client_email with the read-only Sheets scope, and reads as that account", async () => {
    const { records } = await extract({ options: sourceOptions(world), stream: { sheet: "S" }, connection: serviceAccountConnection(world) });
    expect(records).toEqual(EXPECTED);
    expect(tokenRequests()).toEqual([{ grantType: "urn:ietf:params:oauth:grant-type:jwt-bearer", status: 200, clientAuth: "none", email: SERVICE_ACCOUNT, scope: SHEETS_SCOPE }]);
    expect(new Set(world.sheets.requests.map((r) => r.identity))).toEqual(new Set([SERVICE_ACCOUNT]));
    expect(world.sheets.requests.every((r) => r.status === 200)).toBe(true);
  });

  it("acts as `subject` with domain-wide delegation, and reads what that user may read", async () => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "S", rowCount: 2, columnCount: 1, rows: [["N"], [1]] }], sharedWith: ["finance@example.com"] });
    const { records } = await extract({ options: sourceOptions(world, { subject: "finance@example.com" }), stream: { sheet: "S" }, connection: serviceAccountConnection(world) });
    expect(records).toEqual([{ n: 1 }]);
    expect(tokenRequests()[0]).toMatchObject({ email: SERVICE_ACCOUNT, subject: "finance@example.com" });
  });

  it("gets a new token when the current one expires between two batches, and finishes the read", async () => {
    let batches = 0;
    world.sheets.onRequest = (request) => {
      if (request.method === "values.batchGet" && ++batches === 2) world.oauth.expireAll();
    };
    const { records, log } = await extract({ options: sourceOptions(world, { batch_rows: 2 }), stream: { sheet: "S" }, connection: serviceAccountConnection(world) });
    expect(records).toEqual(EXPECTED);
    expect(world.sheets.requests.map((r) => r.status)).toEqual([200, 200, 200, 401, 200, 200]);
    expect(tokenRequests()).toHaveLength(2);
    expect(log.infos).toContain("Google refused the access token for rows 4 to 5 of 'S' (HTTP 401); asking for a new one");
  });

  it("fails with SHEETS_UNAUTHENTICATED when Google refuses a freshly issued token too", async () => {
    world.sheets.onRequest = () => world.oauth.expireAll();
    const e = (await rejectionOf(() => extract({ options: sourceOptions(world), stream: { sheet: "S" }, connection: serviceAccountConnection(world) }))) as SheetsError;
    expect(e.code).toBe("SHEETS_UNAUTHENTICATED");
    expect(e.hint).toContain('connection "finance_google" (XO_CONN_FINANCE_GOOGLE)');
    expect(world.sheets.requests.map((r) => r.status)).toEqual([401, 401]);
  });
});

describe("OAuth client with a refresh token", () => {
  it("refreshes an access token for the client and reads as the user who granted it", async () => {
    const { records } = await extract({ options: sourceOptions(world, { token_url: world.oauth.tokenUrl }), stream: { sheet: "S" }, connection: oauthClientConnection(world) });
    expect(records).toEqual(EXPECTED);
    expect(tokenRequests()).toEqual([{ grantType: "refresh_token", status: 200, clientAuth: "body", clientId: world.client.clientId, scope: SHEETS_SCOPE }]);
    expect(world.sheets.requests[0]!.identity).toBe(world.client.clientId);
  });

  it("fails with the core's XO_OAUTH_REFUSED when the refresh token was revoked, naming the connection and not the secrets", async () => {
    const connection = oauthClientConnection(world, "revoked_user");
    const other = await (await import("@xo-foundry/testkit")).startOAuthServer();
    try {
      // A client of its own, so revoking its token leaves the other tests' client alone.
      const client = other.client({ refreshToken: true });
      other.revoke(client.refreshToken!);
      const e = await rejectionOf(() =>
        extract({
          options: sourceOptions(world, { token_url: other.tokenUrl }),
          stream: { sheet: "S" },
          connection: { ...connection, login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } },
        }),
      );
      expect((e as { code?: string }).code).toBe("XO_OAUTH_REFUSED");
      expect(e.message).toContain('connection "revoked_user"');
      expect(e.message).toContain("invalid_grant");
      expect(e.message).not.toContain(client.refreshToken!);
      expect(e.message).not.toContain(client.clientSecret);
      expect((e as XoError).diagnostics[0]?.hint).toContain("XO_CONN_REVOKED_USER");
      expect(world.sheets.requests).toHaveLength(0);
    } finally {
      await other.stop();
    }
  });
});
