import { describe, expect, it } from "vitest";
import { redact, type Connection } from "@xo-foundry/core";
import { botTarget, DEFAULT_API_URL, webhookTarget } from "./connection.js";
import { SlackError } from "./errors.js";

const conn = (c: Partial<Connection>): Connection => ({ id: "slack_alerts", extra: {}, ...c });

describe("webhook URL, as SlackWebhookHook builds it", () => {
  it.each([
    [{ password: "T1/B1/abcdefgh" }, "https://hooks.slack.com/services/T1/B1/abcdefgh"],
    [{ password: "https://hooks.slack.com/services/T1/B1/abcdefgh" }, "https://hooks.slack.com/services/T1/B1/abcdefgh"],
    [{ host: "127.0.0.1:8080/services", schema: "http", password: "T1/B1/abcdefgh" }, "http://127.0.0.1:8080/services/T1/B1/abcdefgh"],
    [{ host: "http://127.0.0.1:8080/services/", password: "/T1/B1/abcdefgh/" }, "http://127.0.0.1:8080/services/T1/B1/abcdefgh"],
    // Airflow does not use the port: it belongs in the host.
    [{ host: "127.0.0.1/services", port: 8080, password: "T1/B1/abcdefgh" }, "https://127.0.0.1/services/T1/B1/abcdefgh"],
  ])("%j -> %s", (c, url) => {
    expect(webhookTarget(conn(c)).url.href).toBe(url);
  });

  it("masks the webhook URL and its token everywhere once read", () => {
    webhookTarget(conn({ password: "T9/B9/maskedtokenvalue" }));
    expect(redact("posting to https://hooks.slack.com/services/T9/B9/maskedtokenvalue failed")).not.toContain("maskedtokenvalue");
  });

  it("reads extra.timeout, also in Airflow's old extra__slackwebhook__ spelling", () => {
    expect(webhookTarget(conn({ password: "T1/B1/abcdefgh", extra: { timeout: 7 } })).timeoutSeconds).toBe(7);
    expect(webhookTarget(conn({ password: "T1/B1/abcdefgh", extra: { timeout: "", extra__slackwebhook__timeout: "9" } })).timeoutSeconds).toBe(9);
    expect(() => webhookTarget(conn({ password: "T1/B1/abcdefgh", extra: { timeout: "soon" } }))).toThrow(SlackError);
  });

  it("refuses a password that makes no http(s) URL", () => {
    expect(() => webhookTarget(conn({ password: "ftp://x/y" }))).toThrow(/not make a webhook URL/);
  });
});

describe("bot token, as SlackHook reads it", () => {
  it("posts to slack.com unless extra.base_url says otherwise", () => {
    expect(botTarget(conn({ type: "slack", password: "xoxb-1-abcdef" }))).toEqual({ token: "xoxb-1-abcdef", apiUrl: DEFAULT_API_URL });
    expect(botTarget(conn({ password: "xoxb-1-abcdef", extra: { base_url: "http://127.0.0.1:1/api" } })).apiUrl).toBe("http://127.0.0.1:1/api/");
    expect(botTarget(conn({ password: "xoxb-1-abcdef", extra: { extra__slack__base_url: "http://127.0.0.1:1/api/" } })).apiUrl).toBe("http://127.0.0.1:1/api/");
  });

  it("refuses a connection without a token, or with a base_url that is no URL", () => {
    expect(() => botTarget(conn({ type: "slack" }))).toThrow(/has no password/);
    expect(() => botTarget(conn({ password: "xoxb-1-abcdef", extra: { base_url: "slack" } }))).toThrow(/base_url/);
  });
});
